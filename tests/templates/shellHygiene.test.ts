/** Shell hygiene of every script in templates/: shellcheck, shebang, strict mode. */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { MERGE_PY, TEMPLATES, readTemplate, useWorld } from "./agentFilesWorld";

useWorld();

describe("shell hygiene", () => {
  const scripts = [
    "prepare-host-dirs.sh",
    "apply-raw-lxc-config.sh",
    "wait-for-container.sh",
    "install-docker.sh",
    "write-agent-files.sh",
    "hermes-wrapper.sh",
    "wait-for-gateway.sh",
    "migrate-agent-config.sh",
  ];

  it("shellcheck passes on the node, Docker and gateway scripts", () => {
    const r = spawnSync(
      "shellcheck",
      scripts.map((s) => path.join(TEMPLATES, s)),
      { encoding: "utf8" },
    );
    if (r.error) throw new Error("shellcheck is missing: apt-get install shellcheck (.ci/run does)");
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it.each(scripts)("%s starts with a bash shebang, a header comment and set -euo pipefail", (script) => {
    const text = readTemplate(script);
    expect(text.startsWith("#!/usr/bin/env bash\n# ")).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
  });

  it("merge-config.py compiles and does not use __file__", () => {
    const r = spawnSync(
      "python3",
      ["-c", "import sys; compile(sys.stdin.read(), 'merge-config.py', 'exec')"],
      { input: MERGE_PY, encoding: "utf8" },
    );
    expect(r.status).toBe(0);
    expect(MERGE_PY).not.toMatch(/\b__file__\b/);
  });
});
