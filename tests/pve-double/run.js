#!/usr/bin/env node
// Standalone launcher for the PVE API double (Node 20 cannot run .ts): transpiles tests/pve-double/*.ts with the
// project's own typescript (a devDependency) into a temporary directory, then runs main.js there. See main.ts.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const ts = require("typescript");

const src = __dirname;
const out = fs.mkdtempSync(path.join(os.tmpdir(), "pve-double-js-"));
for (const f of fs.readdirSync(src)) {
  if (!f.endsWith(".ts")) continue;
  const { outputText } = ts.transpileModule(fs.readFileSync(path.join(src, f), "utf8"), {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
    fileName: f,
  });
  fs.writeFileSync(path.join(out, f.replace(/\.ts$/, ".js")), outputText);
}
process.on("exit", () => fs.rmSync(out, { recursive: true, force: true }));
require(path.join(out, "main.js"));
