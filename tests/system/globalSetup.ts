/**
 * Brings the system tier's environment up once for the whole run (tests/system/env-up.sh). Fails the run, with
 * env-up's reason, on a machine that cannot host it (no root, no lxc, no user namespaces): never a silent skip.
 * SYSTEST_REUSE=1 keeps an environment left by SYSTEST_KEEP=1 instead of rebuilding it (debugging only).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export default function globalSetup(): void {
  const runtime = process.env.SYSTEST_RUNTIME ?? "/tmp/hermes-systest";
  if (process.env.SYSTEST_REUSE === "1" && fs.existsSync(path.join(runtime, "env.json"))) {
    process.stderr.write(`\n[systest] SYSTEST_REUSE=1: reusing the environment in ${runtime}\n`);
    return;
  }
  process.stderr.write("\n[systest] bringing up the environment (tests/system/env-up.sh)\n");
  const r = spawnSync("bash", [path.join(__dirname, "env-up.sh")], { stdio: "inherit" });
  if (r.status !== 0) {
    throw new Error(
      `system tier: env-up.sh failed (exit ${r.status ?? r.signal}); the tier cannot run on this machine. ` +
        "See the [systest] lines above for the reason. It is not skipped: fix the machine or run it elsewhere.",
    );
  }
}
