/**
 * The double as a standalone process (manual use, other tiers): `node tests/pve-double/run.js [options]`.
 *
 *   --state-dir <dir>      state directory (default: a fresh temporary one, removed on exit)
 *   --port <n>             port on 127.0.0.1 (default: any free port)
 *   --version <x.y.z>      reported PVE version (default 8.4.14; 9.1.x accepts host-managed)
 *   --node <name>          a cluster node (repeat for more; default: pve)
 *   --backend <kind>       simulated (default) or lxc (needs tests/pve-double/lxcBackend.ts, branch i15lxc)
 *   --unauthorized-delay-ms <n>  401 delay (Proxmox: 3000)
 *
 * root@pam's password is read from the environment variable PVE_DOUBLE_ROOT_PASSWORD (never from argv, which
 * other users can read). Prints one JSON line {url, caFile, fingerprint256, requestLog, stateDir, pid} and runs
 * until SIGTERM/SIGINT.
 */
import type { ContainerBackend } from "./backend";
import { startDouble } from "./double";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const nodes = args.flatMap((a, i) => (a === "--node" ? [{ name: args[i + 1] }] : []));
  const password = process.env.PVE_DOUBLE_ROOT_PASSWORD;
  if (!password) throw new Error("set PVE_DOUBLE_ROOT_PASSWORD (root@pam's password)");
  let backend: ContainerBackend | undefined;
  if (opt("--backend") === "lxc") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require("./lxcBackend") as { LxcBackend: new () => ContainerBackend };
    backend = new mod.LxcBackend();
  } else if (opt("--backend") && opt("--backend") !== "simulated") {
    throw new Error(`--backend: simulated or lxc, not ${opt("--backend")}`);
  }
  const pve = await startDouble({
    rootPassword: password,
    stateDir: opt("--state-dir"),
    port: opt("--port") ? Number(opt("--port")) : undefined,
    version: opt("--version"),
    nodes: nodes.length ? nodes : undefined,
    backend,
    unauthorizedDelayMs: opt("--unauthorized-delay-ms") ? Number(opt("--unauthorized-delay-ms")) : undefined,
  });
  process.stdout.write(
    `${JSON.stringify({ url: pve.url, caFile: pve.caFile, fingerprint256: pve.fingerprint256, requestLog: pve.requestLog, stateDir: pve.layout.stateDir, pid: process.pid })}\n`,
  );
  const stop = () => {
    pve.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`pve-double: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
