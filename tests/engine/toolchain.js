/**
 * Finds the engine tier's toolchain: the nodejs language host and the three provider plugins, which no registry
 * here serves (see tests/engine/README.md for how to assemble them). Plain JS: the system tier's jest config reads
 * it to decide whether the engine tier's files run at all.
 *
 * Looked up in $HERMES_LXC_PULUMI_PLUGINS (a directory of the four binaries), else ~/.cache/hermes-lxc/pulumi-
 * toolchain/bin, else /opt/pulumi-toolchain/bin; failing those, in Pulumi's own plugin cache
 * (~/.pulumi/plugins/resource-<name>-v<version>/, where `pulumi plugin install` puts them on a machine with
 * internet) with the language host on PATH (it ships with the CLI). Provider versions are the ones the installed
 * SDK packages ask the engine for.
 */
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** SDK package -> plugin name; the version comes from the package's own `pulumi` block. */
const PROVIDERS = {
  "@pulumi/command": "command",
  "@pulumi/docker": "docker",
  "@muhlba91/pulumi-proxmoxve": "proxmoxve",
};

function candidates() {
  if (process.env.HERMES_LXC_PULUMI_PLUGINS) return [process.env.HERMES_LXC_PULUMI_PLUGINS];
  return [
    path.join(os.homedir(), ".cache", "hermes-lxc", "pulumi-toolchain", "bin"),
    "/opt/pulumi-toolchain/bin",
  ];
}

/** {ok: true, dir, languageHost, plugins: [{name, version, file}]} or {ok: false, why}. */
function findToolchain() {
  const providers = Object.entries(PROVIDERS).map(([pkg, name]) => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, "node_modules", pkg, "package.json"), "utf8"),
    );
    return { name, version: String(manifest.pulumi.version).replace(/^v/, "") };
  });
  const needed = ["pulumi-language-nodejs", ...providers.map((p) => `pulumi-resource-${p.name}`)];
  const tried = [];
  for (const dir of candidates()) {
    const missing = needed.filter((f) => !isExecutable(path.join(dir, f)));
    if (missing.length === 0) {
      return {
        ok: true,
        dir,
        languageHost: path.join(dir, "pulumi-language-nodejs"),
        plugins: providers.map((p) => ({ ...p, file: path.join(dir, `pulumi-resource-${p.name}`) })),
      };
    }
    tried.push(`${dir} lacks ${missing.join(", ")}`);
  }
  const pluginCache = path.join(process.env.PULUMI_HOME || path.join(os.homedir(), ".pulumi"), "plugins");
  const cached = providers.map((p) => ({
    ...p,
    file: path.join(pluginCache, `resource-${p.name}-v${p.version}`, `pulumi-resource-${p.name}`),
  }));
  const languageHost = (process.env.PATH || "")
    .split(":")
    .map((d) => path.join(d, "pulumi-language-nodejs"))
    .find(isExecutable);
  const missing = [
    ...cached.filter((p) => !isExecutable(p.file)).map((p) => p.file),
    ...(languageHost ? [] : ["pulumi-language-nodejs on PATH"]),
  ];
  if (missing.length === 0)
    return { ok: true, dir: path.dirname(languageHost), languageHost, plugins: cached };
  tried.push(`the plugin cache lacks ${missing.join(", ")}`);
  return { ok: false, why: tried.join("; ") };
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

module.exports = { findToolchain };

if (require.main === module) {
  const t = findToolchain();
  if (t.ok) console.log(`found in ${t.dir}: ${t.plugins.map((p) => `${p.name} ${p.version}`).join(", ")}`);
  else console.log(`not found: ${t.why}`);
  process.exit(t.ok ? 0 : 1);
}
