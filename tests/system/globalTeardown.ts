/** Tears the system tier's environment down after the run, pass or fail (SYSTEST_KEEP=1 leaves it up). */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

export default function globalTeardown(): void {
  const args = [path.join(__dirname, "env-down.sh")];
  if (process.env.SYSTEST_KEEP === "1") args.push("--keep");
  spawnSync("bash", args, { stdio: "inherit" });
}
