#!/usr/bin/env node
/**
 * Runs `pulumi preview` of a project directory with the real Pulumi CLI, evaluating its index.ts exactly as
 * Pulumi's nodejs runtime does, without the nodejs language host (the Go module proxy does not serve it).
 *
 * The Automation API's inline program stands in for the language host: the CLI validates the stack config against
 * Pulumi.yaml, then calls this process back to run the program. The program itself is run by the runtime's own
 * entry point, `@pulumi/pulumi/cmd/run/run.js` `run()`, which the language host would spawn as
 * `node .../cmd/run .`: it registers ts-node with the runtime's compiler defaults merged with tsconfig.json,
 * requires index.ts, and returns its exports. The one change: run() wraps the program in a root Stack resource,
 * which the Automation API has already registered, so that wrapping is made a pass-through for the call.
 *
 * The language host's environment for `runtime.options` is reproduced from Pulumi.yaml (typescript, tsconfig;
 * pulumi-language-nodejs main.go sets PULUMI_NODEJS_TYPESCRIPT and PULUMI_NODEJS_TSCONFIG_PATH from them).
 *
 * Usage: node runtime-host.js <projectDir> <stack> <resultFile>
 * Writes {ok, evaluated, outputs, stdout, stderr, error} as JSON to resultFile; exits 0 whenever it wrote it.
 */
"use strict";
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

async function main() {
  const [projectDir, stackName, resultFile] = process.argv.slice(2);
  if (!projectDir || !stackName || !resultFile) {
    console.error("usage: runtime-host.js <projectDir> <stack> <resultFile>");
    process.exit(2);
  }
  // Resolve @pulumi/pulumi from the project, so the program and this host share one SDK instance.
  const sdk = (p) => require(require.resolve(p, { paths: [projectDir] }));
  const automation = sdk("@pulumi/pulumi/automation");
  const stackModule = sdk("@pulumi/pulumi/runtime/stack");
  // run.js requires its package's index.js, whose top level is the language host's `main` (it parses argv for
  // --monitor and exits without it). run.js only reads one constant from it, so that module is provided as such.
  const indexPath = require.resolve("@pulumi/pulumi/cmd/run/index.js", { paths: [projectDir] });
  const indexModule = new Module(indexPath);
  indexModule.filename = indexPath;
  indexModule.loaded = true;
  indexModule.exports = { __esModule: true, nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
  require.cache[indexPath] = indexModule;
  const { run } = sdk("@pulumi/pulumi/cmd/run/run");
  const yaml = sdk("js-yaml");

  const project = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
  const options = (project.runtime && project.runtime.options) || {};
  // pulumi-language-nodejs: typescript defaults to true.
  if (options.typescript !== false) process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (typeof options.tsconfig === "string") process.env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;

  const result = {
    ok: false,
    evaluated: false,
    outputs: undefined,
    stdout: "",
    stderr: "",
    error: undefined,
  };
  const program = async () => {
    const original = stackModule.runInPulumiStack;
    stackModule.runInPulumiStack = (fn) => fn();
    try {
      const argv = { _: [project.main ?? "."], pwd: projectDir };
      const exports = await run(
        argv,
        () => {},
        () => {},
        () => false,
      );
      result.evaluated = true;
      result.outputs = Object.keys(exports ?? {});
      return exports;
    } finally {
      stackModule.runInPulumiStack = original;
    }
  };

  try {
    const stack = await automation.LocalWorkspace.selectStack(
      { stackName, projectName: project.name, program },
      { workDir: projectDir, envVars: { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" } },
    );
    const preview = await stack.preview({
      onOutput: (s) => (result.stdout += s),
      onError: (s) => (result.stderr += s),
      color: "never",
    });
    result.ok = true;
    result.changeSummary = preview.changeSummary;
  } catch (e) {
    result.error = String((e && e.message) || e);
  }
  fs.writeFileSync(resultFile, JSON.stringify(result, null, 2));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
