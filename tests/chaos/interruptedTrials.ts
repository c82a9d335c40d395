/**
 * Interrupted: seeded trials that SIGKILL the real `pulumi` CLI, or cut the link to the Docker host for a while, at
 * a moment of a first `up`, a token rotation or an image upgrade; then the README's recovery, word for word, and a
 * plain `pulumi up`. After each: one healthy gateway, no lock, no pending operation, the user's data byte-identical
 * (for an upgrade cut after its pre-change snapshot, also in that snapshot), no secret outside .env/auth.json, and a
 * no-op `up` that changes nothing. The trial table is printed at the end.
 *
 * CHAOS_SEED (default 20) and CHAOS_TRIALS (24 from `npm run test:chaos`, 3 in the engine tier) pick the plan
 * (tests/chaos/planner.ts); a failing trial is replayed with the same seed and a count that reaches it. One test
 * file per path: interrupted.chaos.test.ts (dockerHosts, DockerHostTarget) and interrupted-lxc.chaos.test.ts (lxcs,
 * LxcTarget: the Proxmox API double on real LXC). A trial whose moment never came (the up ended first) is reported
 * as not struck and not counted.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDocker, systemEnv } from "../system/harness";
import { ChaosStack, DataDigest, canary, lastLines } from "./chaosStack";
import { CliRun, killPoint, workSteps } from "./cliRun";
import { LxcTarget } from "./lxcTarget";
import { ChaosPath, FAULTS, Flow, Trial, planTrials, stepsBeforeFault } from "./planner";
import { CONTAINER_CONFLICT } from "./recovery";
import { ChaosTarget, DockerHostTarget, LinkFault } from "./target";

/** Registers the interrupted trials of `onPath` with jest (beforeAll, the trials, afterAll). */
export function interruptedTrials(onPath: ChaosPath): void {
  const SEED = Number(process.env.CHAOS_SEED ?? 20);
  // 3 (one SIGKILL per flow) when it runs with the engine tier; tests/chaos/run.sh sets 24 for `npm run test:chaos`.
  const COUNT = Number(process.env.CHAOS_TRIALS ?? 3);
  /** The first trial to run (the plan is the same; earlier trials are skipped): to replay or resume a seed. */
  const FROM = Number(process.env.CHAOS_FROM ?? 1);
  const AGENT = "chaos";
  const CONTAINER = `hermes-${AGENT}`;
  const PLAN = planTrials(SEED, COUNT, onPath).filter((t) => t.id >= FROM);
  /** Schema of the first upgrade's image (calibration), then one more per upgrade trial: each a real migration. */
  const FIRST_SCHEMA = 50;
  const target: ChaosTarget =
    onPath === "lxcs"
      ? new LxcTarget(
          Array.from(
            { length: 1 + PLAN.filter((t) => t.flow === "upgrade").length },
            (_, i) => FIRST_SCHEMA + i,
          ),
        )
      : new DockerHostTarget();

  let stack: ChaosStack;
  /** Resource steps that do work in a clean run of each flow (the planner's fractions are of these). */
  const flowSteps: Partial<Record<Flow, number>> = {};
  /** Schema of the next upgrade's image: every upgrade trial is a real upgrade with a config migration. */
  let nextSchema = FIRST_SCHEMA;

  interface Row {
    trial: Trial;
    /** False when the fault's moment never came (the up ended first): reported, not counted. */
    struck: boolean;
    /** The step the engine was starting (or, for a SIGKILL, finishing) when the fault struck. */
    when: string;
    killPoint: string;
    faultedExit: string;
    recovery: string[];
    outcome: string;
    problems: string[];
  }
  const rows: Row[] = [];

  const agentConfig = (c: Record<string, unknown>) =>
    (c["hermes-lxc:agents"] as Record<string, Record<string, unknown>>)[AGENT];

  /** Sets the flow's change up; returns a check of what the flow must have achieved once recovered. */
  async function prepare(flow: Flow): Promise<() => Promise<string[]>> {
    if (flow === "first-up") {
      const d = await stack.destroy();
      if (d.code !== 0) throw new Error(`destroy before a first-up trial failed:\n${lastLines(d.output)}`);
      return async () => [];
    }
    if (flow === "rotation") {
      const token = `654321:${canary("rotated")}`;
      stack.setSecret(`agentSecrets.${AGENT}.telegramBotToken`, token);
      return async () => {
        const env = fs.readFileSync(path.join(target.hostDataDir(AGENT), ".env"), "utf8");
        return env.includes(token) ? [] : ["the .env does not hold the rotated token"];
      };
    }
    const schema = nextSchema++;
    const tag = await target.upgradeTag(schema);
    stack.world.editStackFile((c) => (agentConfig(c).imageTag = tag));
    return async () => {
      const problems: string[] = [];
      const want = await target.sh(`docker image inspect -f '{{.Id}}' ${target.imageRepo}:${tag}`);
      const running = await target.sh(`docker inspect -f '{{.Image}}' ${CONTAINER}`);
      if (want !== running) problems.push(`the gateway does not run hermes-standin:${tag}`);
      const config = fs.readFileSync(path.join(target.hostDataDir(AGENT), "config.yaml"), "utf8");
      if (!new RegExp(`^_config_version: ${schema}$`, "m").test(config)) {
        problems.push(`config.yaml was not migrated to schema ${schema}`);
      }
      return problems;
    };
  }

  /** What must hold after every trial, whatever the flow. */
  async function invariants(before: DataDigest): Promise<string[]> {
    const problems: string[] = [];
    const names = (await target.sh(`docker ps -a --format '{{.Names}}' --filter name=hermes-`))
      .split("\n")
      .filter(Boolean);
    if (names.join(",") !== CONTAINER)
      problems.push(`gateway containers: [${names.join(", ")}], want exactly ${CONTAINER}`);
    const state = await target.sh(
      `docker inspect -f '{{.State.Status}}' ${CONTAINER} 2>/dev/null || echo absent`,
    );
    if (state !== "running") problems.push(`the gateway is ${state}`);
    const status = await target.sh(
      `docker exec ${CONTAINER} hermes gateway status >/dev/null 2>&1 && echo ok || echo failed`,
    );
    if (status !== "ok") problems.push("`hermes gateway status` fails in the gateway");
    const locks = stack.locks();
    if (locks.length > 0) problems.push(`lock files left: ${locks.join(", ")}`);
    const pveLocks = target.proxmoxLocks();
    if (pveLocks.length > 0) problems.push(`Proxmox locks left: ${pveLocks.join(", ")}`);
    const exported = stack.exportState();
    if (exported.pendingOperations.length > 0) {
      problems.push(
        `pending operations: ${exported.pendingOperations.map((o) => `${o.type} ${o.resource.urn.split("::").pop()}`).join(", ")}`,
      );
    }
    const after = stack.digest(AGENT);
    for (const [f, h] of Object.entries(before)) if (after[f] !== h) problems.push(`user data changed: ${f}`);
    problems.push(...stack.secretLeaks());
    return problems;
  }

  /** For an upgrade cut after its pre-change snapshot ran: that snapshot holds the user's data as it was. */
  async function preChangeSnapshotHolds(before: DataDigest, since: number): Promise<string[]> {
    const dir = target.snapshotsDir(AGENT);
    const newest = await target.snapshotSh(
      `ls -t ${dir} | grep -- '-pre-change\\.tar\\.\\(gz\\|zst\\)$' | head -n1`,
    );
    if (!newest) return ["no pre-change snapshot"];
    const mtime = Number(await target.snapshotSh(`stat -c %Y ${dir}/${newest}`));
    if (mtime < since) return []; // the cut came before the snapshot step: nothing to restore from, nothing needed
    const problems: string[] = [];
    const unpack = newest.endsWith(".zst") ? "zstd -dc" : "gzip -dc";
    for (const rel of ["memories/MEMORY.md", "state.db"]) {
      const h = await target.snapshotSh(
        `${unpack} ${dir}/${newest} | tar -xO ${rel} | sha256sum | cut -d' ' -f1`,
      );
      if (h !== before[rel])
        problems.push(`the pre-change snapshot ${newest} does not hold ${rel} as it was`);
    }
    return problems;
  }

  /** The orphans a SIGKILL leaves: this world's plugins and language host, still running. Given 30 s, then ended. */
  async function reapOrphans(): Promise<number> {
    const list = () =>
      fs
        .readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return fs
              .readFileSync(`/proc/${p}/environ`, "latin1")
              .includes(`PULUMI_HOME=${stack.world.pulumiHome}`);
          } catch {
            return false;
          }
        })
        .map(Number)
        .filter((p) => p !== process.pid);
    const first = list();
    for (let i = 0; i < 30 && list().length > 0; i++) await new Promise((r) => setTimeout(r, 1000));
    for (const pid of list()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone meanwhile */
      }
    }
    return first.length;
  }

  async function runTrial(trial: Trial): Promise<Row> {
    const row: Row = {
      trial,
      struck: false,
      when: "",
      killPoint: "",
      faultedExit: "",
      recovery: [],
      outcome: "",
      problems: [],
    };
    const check = await prepare(trial.flow);
    const before = stack.digest(AGENT);
    const startedAt = Math.floor(Date.now() / 1000);
    const total = flowSteps[trial.flow] ?? 1;
    const k = stepsBeforeFault(trial, total);
    let linkDown: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    const strike = (step: string, kill: () => void) => {
      if (row.struck) return;
      row.struck = true;
      row.when = step;
      clearTimeout(timer);
      if (trial.fault === "sigkill") return kill();
      const fault = trial.fault;
      target.breakLink(fault);
      linkDown = new Promise((r) => setTimeout(r, trial.downSeconds * 1000)).then(() => target.mend(fault));
    };
    const faulted: CliRun = await stack.up({
      onStepStart: (count, step, kill) => {
        if (count !== k) return;
        // A link fault strikes as the step starts; a SIGKILL its drawn delay later, or as the step ends if sooner.
        if (trial.fault !== "sigkill" || trial.delayMs === 0) return strike(`${step} (start)`, kill);
        timer = setTimeout(() => strike(`${step} +${trial.delayMs} ms`, kill), trial.delayMs);
      },
      onStepEnd: (count, step, kill) => {
        if (count === k && trial.fault === "sigkill") strike(`${step} (as it finished)`, kill);
      },
    });
    // An up that ended before the moment came is not struck afterwards (the recovery must not meet the fault).
    clearTimeout(timer);
    await linkDown;
    row.killPoint =
      trial.fault === "sigkill" && row.struck ? killPoint(faulted.events) : row.struck ? row.when : "-";
    row.faultedExit = faulted.signal ? faulted.signal : `exit ${faulted.code}`;
    const orphans = trial.fault === "sigkill" ? await reapOrphans() : 0;
    if (orphans > 0) row.faultedExit += ` (${orphans} orphaned plugin processes)`;

    for (const r of await stack.recover()) {
      // `pulumi cancel`, `pulumi refresh`; the file backend's sidecar line by what it does.
      const label = r.command.startsWith("pulumi ")
        ? r.command.split(" ").slice(0, 2).join(" ")
        : "empty .attrs sweep";
      const removed = r.output.split("\n").filter((l) => l.endsWith(".attrs")).length;
      row.recovery.push(
        `${label}: ${r.code === 0 ? "ok" : `exit ${r.code}`}${removed ? ` (${removed} removed)` : ""}`,
      );
      if (r.code !== 0) row.problems.push(`\`${r.command}\` failed: ${lastLines(r.output, 4)}`);
    }
    let plain = await stack.up();
    row.recovery.push(`pulumi up: ${plain.code === 0 ? "ok" : `exit ${plain.code}`}`);
    const conflict = CONTAINER_CONFLICT.exec(plain.output);
    if (plain.code !== 0 && conflict) {
      // The README's second step: Docker created the container, the killed CLI never recorded it.
      for (const r of await stack.removeUnrecordedContainer(conflict[1])) {
        row.recovery.push(`docker rm -f hermes-${conflict[1]}: ${r.code === 0 ? "ok" : `exit ${r.code}`}`);
      }
      plain = await stack.up();
      row.recovery.push(`pulumi up: ${plain.code === 0 ? "ok" : `exit ${plain.code}`}`);
    }
    if (plain.code !== 0) row.problems.push(`the plain pulumi up failed: ${lastLines(plain.output)}`);
    if (plain.code === 0) {
      row.problems.push(...(await check()));
      row.problems.push(...(await invariants(before)));
      if (trial.flow === "upgrade") row.problems.push(...(await preChangeSnapshotHolds(before, startedAt)));
      const noop = await stack.noopChanges();
      if (noop.length > 0) row.problems.push(`the no-op up changed: ${noop.join(", ")}`);
    }
    row.outcome = row.problems.length > 0 ? "FAILED" : row.struck ? "recovered" : "not struck (not counted)";
    return row;
  }

  beforeAll(
    async () => {
      await ensureDocker();
      await target.setUp();
      stack = new ChaosStack(target, "chaos", [{ name: AGENT, imageTag: "local", memoryMb: 1024 }]);
      // Calibration: a clean run of each flow counts its resource steps (the planner's moments are fractions of them).
      const first = await stack.up();
      if (first.code !== 0) throw new Error(`the first up failed:\n${lastLines(first.output, 30)}`);
      flowSteps["first-up"] = workSteps(first.events).length;
      stack.seedData(AGENT, systemEnv().ownerId);
      for (const flow of ["rotation", "upgrade"] as const) {
        const check = await prepare(flow);
        const r = await stack.up();
        if (r.code !== 0) throw new Error(`the clean ${flow} failed:\n${lastLines(r.output, 30)}`);
        flowSteps[flow] = workSteps(r.events).length;
        const problems = await check();
        if (problems.length > 0) throw new Error(`the clean ${flow}: ${problems.join("; ")}`);
      }
      process.stderr.write(`chaos: ${target.label}; steps per flow ${JSON.stringify(flowSteps)}\n`);
    },
    30 * 60 * 1000,
  );

  afterAll(async () => {
    const struck = rows.filter((r) => r.struck);
    const table = [
      `interrupted trials (${target.path}, seed ${SEED}: ${struck.length} struck of ${rows.length} run, ` +
        `${struck.filter((r) => r.outcome === "recovered").length} recovered; ${target.label}):`,
      "| trial | path | flow | fault | struck at (engine step) | kill point (engine step in flight) | faulted up | recovery commands run | outcome |",
      "|---|---|---|---|---|---|---|---|---|",
      ...rows.map(
        (r) =>
          `| ${r.trial.id} | ${target.path} | ${r.trial.flow} | ${r.trial.fault}${r.trial.downSeconds ? ` ${r.trial.downSeconds} s` : ""} | ${r.struck ? r.when : "not struck: the up ended first"} | ${r.killPoint} | ${r.faultedExit} | ${r.recovery.join("; ")} | ${r.outcome}${r.problems.length ? `: ${r.problems.join("; ").replace(/\n/g, " ")}` : ""} |`,
      ),
    ].join("\n");
    process.stderr.write(`\n${table}\n`);
    if (process.env.CHAOS_REPORT) fs.writeFileSync(process.env.CHAOS_REPORT, `${table}\n`, { flag: "a" });
    for (const fault of FAULTS.filter((f): f is LinkFault => f !== "sigkill")) {
      try {
        target.mend(fault);
      } catch {
        /* not this path's link, or already mended */
      }
    }
    if (process.env.ENGINE_TIER_KEEP !== "1") {
      await target.sh(`docker rm -f ${CONTAINER} >/dev/null 2>&1 || true`).catch(() => undefined);
      fs.rmSync(target.hostDataDir(AGENT), { recursive: true, force: true });
      stack?.remove();
    }
    await target.tearDown();
  });

  describe(`interrupted pulumi up (${onPath}, seed ${SEED}, ${COUNT} trials)`, () => {
    for (const trial of PLAN) {
      it(`trial ${trial.id}: ${trial.flow}, ${trial.fault} at ${Math.round(trial.at * 100)}% of its steps`, async () => {
        const row = await runTrial(trial);
        rows.push(row);
        expect(row.problems).toEqual([]);
      });
    }
  });
}
