/**
 * Crowded: ten agents on one Docker host through the real engine, each with its own container, data and Telegram
 * token (on the stand-in). Measured: the first `up` for 1 to 10 agents (CROWD_SIZES, default 1,5,10) and an image
 * change for all ten. Asserted: a no-op `up` changes nothing; rotating agent 3's token restarts agent 3 only (0
 * starts for the other nine, from `docker events`); one agent's memory change touches that container only; the image
 * change re-creates each container once with one pre-change snapshot each; `destroy` keeps all ten data directories.
 * The figures are printed at the end (the README's Benchmarks quote them).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { ensureDocker, systemEnv } from "../system/harness";
import { ChaosStack, lastLines } from "./chaosStack";
import { changedSteps } from "./cliRun";
import { ChaosAgent, ChaosTarget, DockerHostTarget } from "./target";

const target: ChaosTarget = new DockerHostTarget();
const SIZES = (process.env.CROWD_SIZES ?? "1,5,10").split(",").map(Number);
const CROWD = Math.max(...SIZES);
const name = (i: number) => `agent${String(i).padStart(2, "0")}`;
const agents = (n: number): ChaosAgent[] =>
  Array.from({ length: n }, (_, i) => ({ name: name(i + 1), imageTag: "local", memoryMb: 1024 }));

const figures: Array<[string, string]> = [];
let stack: ChaosStack;

/** docker events on the Docker host between two instants: `<container name> <action>` per line. */
async function dockerEvents(since: number, until: number): Promise<string[]> {
  const out = await target.sh(
    `docker events --since ${since} --until ${until} --filter type=container --format '{{.Actor.Attributes.name}} {{.Action}}'`,
  );
  return out.split("\n").filter((l) => l.startsWith("hermes-"));
}

/** A step with the docker events it caused (the events are read once the step is over). */
async function withEvents<T>(
  run: () => Promise<T>,
): Promise<{ result: T; events: string[]; seconds: number }> {
  const since = Math.floor(Date.now() / 1000);
  const t0 = Date.now();
  const result = await run();
  const seconds = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1100));
  return { result, events: await dockerEvents(since, Math.floor(Date.now() / 1000) + 1), seconds };
}

const count = (events: string[], action: string) =>
  events.filter((e) => e.split(" ")[1] === action).map((e) => e.split(" ")[0]);

beforeAll(
  async () => {
    await ensureDocker();
    await target.setUp();
  },
  20 * 60 * 1000,
);

afterAll(async () => {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  const table = [
    `crowded (${target.label}; ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${load}):`,
    "| measure | value |",
    "|---|---|",
    ...figures.map(([k, v]) => `| ${k} | ${v} |`),
  ].join("\n");
  process.stderr.write(`\n${table}\n`);
  if (process.env.CHAOS_REPORT) fs.writeFileSync(process.env.CHAOS_REPORT, `${table}\n`, { flag: "a" });
  if (process.env.ENGINE_TIER_KEEP !== "1") {
    await target.sh("docker ps -aq --filter name=hermes-agent | xargs -r docker rm -f >/dev/null");
    for (const a of agents(CROWD)) fs.rmSync(target.hostDataDir(a.name), { recursive: true, force: true });
    stack?.remove();
  }
});

describe(`${CROWD} agents on one Docker host`, () => {
  it(`first up: wall time for ${SIZES.join(", ")} agents`, async () => {
    for (const n of SIZES) {
      if (stack) {
        const d = await stack.destroy();
        expect(d.code).toBe(0);
        stack.remove();
        for (const a of agents(CROWD))
          fs.rmSync(target.hostDataDir(a.name), { recursive: true, force: true });
      }
      stack = new ChaosStack(target, `crowd${n}`, agents(n));
      const { result: up, seconds } = await withEvents(() => stack.up());
      if (up.code !== 0) throw new Error(`first up of ${n} agents failed:\n${lastLines(up.output, 30)}`);
      figures.push([`first up, ${n} agent${n > 1 ? "s" : ""}`, `${seconds.toFixed(0)} s`]);
      const names = (await target.sh("docker ps --format '{{.Names}}' --filter name=hermes-agent")).split(
        "\n",
      );
      expect(names.sort()).toEqual(agents(n).map((a) => `hermes-${a.name}`));
    }
    for (const a of stack.agents) stack.seedData(a.name, systemEnv().ownerId);
  });

  it("a no-op up changes nothing and starts nothing", async () => {
    const { result, events, seconds } = await withEvents(() => stack.up());
    expect(result.code).toBe(0);
    expect(changedSteps(result.events)).toEqual([]);
    expect(count(events, "start")).toEqual([]);
    figures.push([`no-op up, ${CROWD} agents`, `${seconds.toFixed(0)} s, 0 changes`]);
  });

  it("rotating agent 3's token restarts agent 3 only", async () => {
    const a3 = name(3);
    stack.setSecret(`agentSecrets.${a3}.telegramBotToken`, "654321:rotated-" + Date.now());
    const { result, events, seconds } = await withEvents(() => stack.up());
    expect(result.code).toBe(0);
    expect(count(events, "start")).toEqual([`hermes-${a3}`]);
    expect(count(events, "create")).toEqual([]);
    expect(changedSteps(result.events).filter((s) => !s.startsWith(`${a3}-`))).toEqual([]);
    figures.push([
      "token rotation of agent 3",
      `${seconds.toFixed(0)} s; starts: agent03 ${count(events, "start").length}, others 0`,
    ]);
  });

  it("one agent's memory change touches that container only", async () => {
    const a5 = name(5);
    stack.world.editStackFile((c) => {
      (c["hermes-lxc:agents"] as Record<string, Record<string, unknown>>)[a5].memoryMb = 1536;
    });
    const { result, events, seconds } = await withEvents(() => stack.up());
    expect(result.code).toBe(0);
    expect(changedSteps(result.events)).toEqual([`${a5}-gateway update`]);
    expect([...new Set(events.map((e) => e.split(" ")[0]))]).toEqual([`hermes-${a5}`]);
    expect(count(events, "start")).toEqual([]);
    figures.push([
      "memory change of agent 5",
      `${seconds.toFixed(0)} s; docker events only for hermes-${a5}`,
    ]);
  });

  it(`an image change for all ${CROWD} re-creates each once, each after a pre-change snapshot`, async () => {
    const before = Object.fromEntries(stack.agents.map((a) => [a.name, stack.digest(a.name)]));
    // The first up pruned the stand-in tags no gateway used; build them again, as a registry would serve the pull.
    await target.setUp();
    const t0 = Math.floor(Date.now() / 1000);
    stack.world.editStackFile((c) => {
      for (const a of Object.values(c["hermes-lxc:agents"] as Record<string, Record<string, unknown>>)) {
        a.imageTag = "v2";
      }
    });
    const { result, events, seconds } = await withEvents(() => stack.up());
    if (result.code !== 0) throw new Error(`image change failed:\n${lastLines(result.output, 30)}`);
    const replaced = changedSteps(result.events).filter(
      (s) => / replace$/.test(s) && s.includes("-gateway "),
    );
    expect(replaced.sort()).toEqual(stack.agents.map((a) => `${a.name}-gateway replace`));
    expect(count(events, "create").sort()).toEqual(stack.agents.map((a) => `hermes-${a.name}`));
    for (const a of stack.agents) {
      const pre = await target.sh(
        // The archive only: each has a `.fingerprint` sidecar next to it.
        `find ${target.snapshotsDir(a.name)} \\( -name '*-pre-change.tar.gz' -o -name '*-pre-change.tar.zst' \\) -newermt @${t0 - 1} | wc -l`,
      );
      expect(`${a.name} ${pre}`).toBe(`${a.name} 1`);
      expect(stack.digest(a.name)).toEqual(before[a.name]);
    }
    figures.push([
      `image change, all ${CROWD} agents`,
      `${seconds.toFixed(0)} s: ${replaced.length} re-creations, one pre-change snapshot each`,
    ]);
  });

  it(`destroy keeps all ${CROWD} data directories`, async () => {
    const before = Object.fromEntries(stack.agents.map((a) => [a.name, stack.digest(a.name)]));
    const { result, seconds } = await withEvents(() => stack.destroy());
    expect(result.code).toBe(0);
    expect(await target.sh("docker ps -aq --filter name=hermes-agent | wc -l")).toBe("0");
    for (const a of stack.agents) {
      expect(fs.existsSync(`${target.hostDataDir(a.name)}/.env`)).toBe(true);
      expect(stack.digest(a.name)).toEqual(before[a.name]);
    }
    expect(stack.secretLeaks()).toEqual([]);
    figures.push([`destroy, ${CROWD} agents`, `${seconds.toFixed(0)} s; ${CROWD} data directories kept`]);
  });
});
