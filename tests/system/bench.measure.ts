/**
 * Benchmark of the provisioning steps, run by tests/system/bench.sh through jest (same harness, same SSH, same
 * renderRemoteCommand as the tier). Not a *.system.test.ts file, so the normal tier does not run it.
 * Times are wall clock as the program sees them: one SSH connection + the script. Re-runs: median of 5.
 * Writes a markdown table to $SYSTEST_BENCH_OUT (bench.sh prints it).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DOCKER_ENV_DEBIAN, host, lastLine, ScriptEnv, SshTarget, systemEnv } from "./harness";

const env = systemEnv();
const { node, lxc, vmid } = env;
const REPEAT = 5;
const rows: string[][] = [];
const sizeRows: string[][] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function timed(target: SshTarget, script: string, params: ScriptEnv): Promise<number> {
  return (await target.run(script, params)).durationMs;
}

async function repeat(
  n: number,
  before: () => void | Promise<void>,
  run: () => Promise<number>,
): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    await before();
    xs.push(await run());
  }
  return median(xs);
}

test("benchmark: first run vs re-run of each provisioning step", async () => {
  // Baseline: what one SSH round trip costs here.
  const ssh = await repeat(
    REPEAT,
    () => undefined,
    async () => (await lxc.exec("true")).durationMs,
  );
  rows.push(["ssh round trip into the CT (`true`)", "-", secs(ssh), "baseline included in every row"]);

  // install-docker.sh: the CT is fresh, so the first run is a real install (apt-get update + downloads).
  const first = await lxc.run("install-docker.sh", DOCKER_ENV_DEBIAN);
  const again = await repeat(
    REPEAT,
    () => undefined,
    () => timed(lxc, "install-docker.sh", DOCKER_ENV_DEBIAN),
  );
  rows.push([
    "install-docker.sh (DOCKER_SOURCE=debian)",
    secs(first.durationMs),
    secs(again),
    `first: apt-get update + docker.io, containerd, runc, apparmor; ${lastLine(first.stdout)}`,
  ]);

  // prepare-host-dirs.sh on the node: two bind-mount sources (+ their parents).
  const base = path.join(env.file.runtime, "bench-hostdirs");
  const owned = [path.join(base, "hdd", "hermes"), path.join(base, "ssd", "hermes")];
  const prep: ScriptEnv = {
    OWNER_UID: 110000,
    OWNER_GID: 110000,
    DIR_MODE: "0750",
    OWNED_DIRS: owned.join(" "),
    ENSURE_PARENTS: `${path.join(base, "hdd")} ${path.join(base, "ssd")}`,
  };
  const prepFirst = await repeat(
    REPEAT,
    () => fs.rmSync(base, { recursive: true, force: true }),
    () => timed(node, "prepare-host-dirs.sh", prep),
  );
  const prepAgain = await repeat(
    REPEAT,
    () => undefined,
    () => timed(node, "prepare-host-dirs.sh", prep),
  );
  rows.push([
    "prepare-host-dirs.sh (2 dirs)",
    secs(prepFirst),
    secs(prepAgain),
    "first: created; re-run: ok",
  ]);

  // Host preparation of an existing directory with the wrong owner: empty vs 100,000 files. The script re-owns
  // the directory itself only, so both must cost the same.
  const one: ScriptEnv = { ...prep, OWNED_DIRS: owned[0], ENSURE_PARENTS: "" };
  const fill = path.join(owned[0], "data");
  fs.rmSync(fill, { recursive: true, force: true });
  const reset = () => {
    host("chown", ["0:0", owned[0]]);
    host("chmod", ["0755", owned[0]]);
  };
  const fixEmpty = await repeat(REPEAT, reset, () => timed(node, "prepare-host-dirs.sh", one));
  const okEmpty = await repeat(
    REPEAT,
    () => undefined,
    () => timed(node, "prepare-host-dirs.sh", one),
  );
  fs.mkdirSync(fill);
  host("bash", ["-c", `cd '${fill}' && seq -f 'f%06g' 1 100000 | xargs touch`]);
  const count = Number(host("bash", ["-c", `find '${owned[0]}' -type f | wc -l`]).trim());
  expect(count).toBe(100000);
  const fixFull = await repeat(REPEAT, reset, () => timed(node, "prepare-host-dirs.sh", one));
  const okFull = await repeat(
    REPEAT,
    () => undefined,
    () => timed(node, "prepare-host-dirs.sh", one),
  );
  // The files below were never touched: still root-owned.
  expect(host("stat", ["-c", "%u", path.join(fill, "f100000")]).trim()).toBe("0");
  sizeRows.push(["wrong owner (root 0755) → `fixed`", secs(fixEmpty), secs(fixFull)]);
  sizeRows.push(["already prepared → `ok`", secs(okEmpty), secs(okFull)]);
  fs.rmSync(base, { recursive: true, force: true });

  // apply-raw-lxc-config.sh + wait-for-container.sh: a change means a CT reboot and waiting for its sshd.
  const raw = (lines: string): ScriptEnv => ({
    VMID: vmid,
    RAW_LINES: lines,
    CONF_DIR: env.file.pveConfDir,
    STATE_DIR: path.join(env.file.runtime, "bench-raw-state"),
  });
  const wait: ScriptEnv = { VMID: vmid, TIMEOUT_SECONDS: 120, POLL_SECONDS: 1 };
  const applyFirst = await timed(node, "apply-raw-lxc-config.sh", raw("lxc.environment: HERMES_BENCH=1"));
  const waitFirst = await timed(node, "wait-for-container.sh", wait);
  const applyAgain = await repeat(
    REPEAT,
    () => undefined,
    () => timed(node, "apply-raw-lxc-config.sh", raw("lxc.environment: HERMES_BENCH=1")),
  );
  const waitAgain = await repeat(
    REPEAT,
    () => undefined,
    () => timed(node, "wait-for-container.sh", wait),
  );
  rows.push([
    "apply-raw-lxc-config.sh (1 raw line)",
    secs(applyFirst),
    secs(applyAgain),
    "first: applied + CT reboot",
  ]);
  rows.push(["wait-for-container.sh", secs(waitFirst), secs(waitAgain), "first: right after that reboot"]);
  await node.run("apply-raw-lxc-config.sh", raw(""));
  await node.run("wait-for-container.sh", wait);

  const table = [
    "| step | first run | re-run on the provisioned CT (median of 5) | notes |",
    "|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    "| host preparation of one existing directory (prepare-host-dirs.sh, median of 5) | empty | 100,000 files |",
    "|---|---|---|",
    ...sizeRows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
  const out = process.env.SYSTEST_BENCH_OUT ?? "/tmp/hermes-systest-bench.md";
  fs.writeFileSync(out, `${table}\n`);
});
