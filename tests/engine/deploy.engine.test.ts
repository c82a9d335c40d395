/**
 * The engine tier: a dockerHosts stack deployed with the real Pulumi engine, language host and provider plugins
 * onto the system tier's CT (Docker inside an unprivileged LXC), with the hermes stand-in image. Each step's counts
 * come from the engine's own event stream; container ids, restarts and files are read from the CT and the host.
 *
 * Runs inside the system tier's jest run (its globalSetup brings the CT up) whenever tests/engine/toolchain.js
 * finds the plugins; `npm run test:engine` runs it alone.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDocker, ensureStandinImage, systemEnv } from "../system/harness";
import { EngineWorld, StepReport } from "./engineWorld";

const AGENT = "engine";
const CONTAINER = `hermes-${AGENT}`;
const canary = (what: string) => `canary-${what}-${randomBytes(8).toString("hex")}`;
const secrets = {
  llmApiKey: canary("llm"),
  telegramBotToken: `123456:${canary("telegram")}`,
  rotatedToken: `654321:${canary("rotated")}`,
  rotatedAfterUpgrade: `765432:${canary("rotated-again")}`,
};

let world: EngineWorld;
/** Per step: `starts` = the gateway container's start events; `gatewayStarts` = gateway processes started in it. */
const steps: Array<{
  step: string;
  report: StepReport;
  containerId: string;
  starts: number;
  gatewayStarts: number;
  seconds: number;
}> = [];

const agentConfig = (config: Record<string, unknown>) =>
  (config["hermes-lxc:agents"] as Record<string, Record<string, unknown>>)[AGENT];

function stackFile(): string {
  const { file } = systemEnv();
  return `config:
  hermes-lxc:ssh:
    privateKeyPath: ${file.sshKey}
    knownHostsDir: ${path.join(world?.root ?? "/nonexistent", "known_hosts")}
  hermes-lxc:dockerHosts:
    ct:
      address: ${file.ct.host}
      hostKey: ${file.ct.hostKey}
      dataRoot: /srv/hermes
      docker:
        install: true
        source: debian
  hermes-lxc:agents:
    ${AGENT}:
      dockerHost: ct
      image: hermes-standin
      imageTag: local
      memoryMb: 1536
      llm:
        baseUrl: http://${file.ct.host}:4000/v1
        model: test-model
      platforms:
        telegram:
          allowedUsers: ["12345"]
      workspaceMounts:
        - source: /data
          target: /opt/data/workspace/data
`;
}

/** Host path of the agent's /opt/data (the CT's /srv/hermes is the host's state directory, bind-mounted). */
const hostDataDir = () => path.join(systemEnv().file.hostDirs.state, AGENT);
/** The agent's snapshots on the Docker host (the CT): the default directory for host `ct`. */
const SNAPSHOTS = `/var/lib/hermes-lxc-snapshots/ct/${AGENT}`;
const TIMER = `hermes-lxc-snapshot-ct-${AGENT}.timer`;

async function containerId(): Promise<string> {
  return systemEnv().lxc.sh(`docker inspect -f '{{.Id}}' ${CONTAINER} 2>/dev/null || echo none`);
}

/** Container starts between two instants (docker events, in the CT). */
async function startsBetween(since: number, until: number): Promise<number> {
  const out = await systemEnv().lxc.sh(
    `docker events --since ${since} --until ${until} --filter container=${CONTAINER} --filter event=start --format '{{.Time}}'`,
  );
  return out === "" ? 0 : out.split("\n").length;
}

/** Gateway processes started so far: the stand-in logs one line per start (tests/system/standin/README.md). */
function gatewayStartCount(): number {
  const log = path.join(hostDataDir(), "logs", "starts.log");
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean).length : 0;
}

async function step(name: string, run: () => Promise<StepReport>): Promise<StepReport> {
  const since = Math.floor(Date.now() / 1000);
  const startsBefore = gatewayStartCount();
  const started = Date.now();
  const report = await run();
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 1100));
  const until = Math.floor(Date.now() / 1000) + 1;
  steps.push({
    step: name,
    report,
    containerId: (await containerId()).slice(0, 12),
    starts: await startsBetween(since, until),
    gatewayStarts: gatewayStartCount() - startsBefore,
    seconds,
  });
  return report;
}

/** Hashes of the files the user's data is made of (what must survive replacements and destroy). */
function userDataDigest(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of ["memories/MEMORY.md", "state.db", "workspace/data/notes.txt"]) {
    const p = rel.startsWith("workspace/data/")
      ? path.join(systemEnv().file.hostDirs.data, rel.slice("workspace/data/".length))
      : path.join(hostDataDir(), rel);
    out[rel] = fs.existsSync(p) ? createHash("sha256").update(fs.readFileSync(p)).digest("hex") : "missing";
  }
  return out;
}

beforeAll(
  async () => {
    await ensureDocker();
    await ensureStandinImage();
    world = new EngineWorld("engine", "");
    fs.writeFileSync(path.join(world.project, "Pulumi.engine.yaml"), stackFile());
    world.cli(["stack", "init", "engine", "--secrets-provider", "passphrase"]);
    world.setSecret(`agentSecrets.${AGENT}.llmApiKey`, secrets.llmApiKey);
    world.setSecret(`agentSecrets.${AGENT}.telegramBotToken`, secrets.telegramBotToken);
  },
  20 * 60 * 1000,
);

afterAll(async () => {
  process.stderr.write(
    "\nengine tier steps:\n| step | resources changed | remote commands run | container id | container starts | gateway starts | wall time |\n|---|---|---|---|---|---|---|\n" +
      steps
        .map(
          (s) =>
            `| ${s.step} | ${s.report.changed.length} ${JSON.stringify(s.report.ops)} | ${s.report.commandRuns} | ${s.containerId} | ${s.starts} | ${s.gatewayStarts} | ${s.seconds.toFixed(1)} s |`,
        )
        .join("\n") +
      "\n",
  );
  if (process.env.ENGINE_TIER_KEEP !== "1") {
    await systemEnv().lxc.exec(`docker rm -f ${CONTAINER} >/dev/null 2>&1 || true`, undefined, {
      allowFailure: true,
    });
    fs.rmSync(hostDataDir(), { recursive: true, force: true });
    world?.remove();
  }
});

describe("a dockerHosts stack under the real engine", () => {
  it("first up: everything created, the gateway healthy", async () => {
    const r = await step("first up", () => world.up());
    expect(r.ops.create).toBeGreaterThanOrEqual(5);
    expect(Object.keys(r.ops).filter((op) => op !== "create")).toEqual([]);
    expect(await containerId()).toMatch(/^[0-9a-f]{64}$/);
    // The deploy reports which platforms came up, in its output and as a stack output.
    expect(r.output).toMatch(
      /healthy hermes-engine: gateway running \(pid \d+\); platforms: api_server=connected telegram=connected/,
    );
    const outputs = await (await world.stack()).outputs();
    expect((outputs.agents.value as Record<string, { health: string }>)[AGENT].health).toMatch(
      /^gateway running \(pid \d+\); platforms: api_server=connected telegram=connected$/,
    );
    expect(await systemEnv().lxc.sh(`docker inspect -f '{{.State.Running}}' ${CONTAINER}`)).toBe("true");
    // The scheduled snapshot: a real systemd timer on the Docker host (the CT runs systemd), a root-only directory.
    expect(await systemEnv().lxc.sh(`systemctl is-active ${TIMER}; systemctl is-enabled ${TIMER}`)).toBe(
      "active\nenabled",
    );
    expect(await systemEnv().lxc.sh(`stat -c '%U %a' ${SNAPSHOTS}`)).toBe("root 700");
    // The user's data, written as the agent would (uid 10000 in the CT, 110000 here); later steps must keep it.
    const owned = (p: string, content: string | Buffer) => {
      fs.writeFileSync(p, content);
      fs.chownSync(p, systemEnv().ownerId, systemEnv().ownerId);
    };
    owned(path.join(hostDataDir(), "memories", "MEMORY.md"), "the user likes tea\n");
    owned(path.join(hostDataDir(), "state.db"), randomBytes(4096));
    owned(path.join(systemEnv().file.hostDirs.data, "notes.txt"), "bulk data\n");
  });

  it("a second up with nothing changed changes nothing and runs no remote command", async () => {
    const before = await containerId();
    const r = await step("no-op up", () => world.up());
    expect(r.changed).toEqual([]);
    expect(r.commandRuns).toBe(0);
    expect(await containerId()).toBe(before);
    expect(steps[steps.length - 1].starts).toBe(0);
  });

  it("after a refresh, an up still changes nothing", async () => {
    const before = await containerId();
    await step("refresh", () => world.refresh());
    const r = await step("up after refresh", () => world.up());
    expect(r.changed).toEqual([]);
    expect(r.commandRuns).toBe(0);
    expect(await containerId()).toBe(before);
  });

  it("a bot-token rotation restarts the same container once, which reads the new .env", async () => {
    const before = await containerId();
    const data = userDataDigest();
    world.setSecret(`agentSecrets.${AGENT}.telegramBotToken`, secrets.rotatedToken);
    const r = await step("token rotation", () => world.up());
    expect(r.ops.replace ?? 0).toBe(0);
    expect(r.ops["create-replacement"] ?? 0).toBe(0);
    expect(await containerId()).toBe(before);
    expect(steps[steps.length - 1].starts).toBe(1);
    const env = fs.readFileSync(path.join(hostDataDir(), ".env"), "utf8");
    expect(env).toContain(secrets.rotatedToken);
    expect(env).not.toContain(secrets.telegramBotToken);
    // The stand-in logs the sha256 of the .env it started with (tests/system/standin/README.md).
    const starts = fs
      .readFileSync(path.join(hostDataDir(), "logs", "starts.log"), "utf8")
      .trim()
      .split("\n");
    const envSha = createHash("sha256").update(env).digest("hex");
    expect(starts[starts.length - 1]).toContain(`env_sha256=${envSha}`);
    expect(userDataDigest()).toEqual(data);
  });

  it("a memory change updates the container in place, without a restart", async () => {
    const before = await containerId();
    world.editStackFile((c) => (agentConfig(c).memoryMb = 2048));
    const r = await step("memory change", () => world.up());
    expect(r.changed).toEqual([`docker:index/container:Container ${AGENT}-gateway update`]);
    expect(r.commandRuns).toBe(0);
    expect(await containerId()).toBe(before);
    expect(steps[steps.length - 1].starts).toBe(0);
    expect(await systemEnv().lxc.sh(`docker inspect -f '{{.HostConfig.Memory}}' ${CONTAINER}`)).toBe(
      String(2048 * 1024 * 1024),
    );
  });

  it("an image change re-creates the gateway container once and leaves /opt/data alone", async () => {
    const before = await containerId();
    const data = userDataDigest();
    // The first up pruned the stand-in tags no gateway used (prune-gateway-images.sh); build them again, as a
    // registry would serve the pull.
    await ensureStandinImage();
    world.editStackFile((c) => (agentConfig(c).imageTag = "v2"));
    const r = await step("image change", () => world.up());
    // One replacement is three engine steps (delete-replaced, replace, create-replacement): count `replace`.
    const replaced = r.changed.filter((c) => c.endsWith(" replace"));
    expect(replaced.filter((c) => c.startsWith("docker:index/container:Container"))).toHaveLength(1);
    expect(r.changed).toContain(`command:remote:Command ${AGENT}-config-migration update`);
    // A snapshot of /opt/data before anything of the upgrade ran, and the images no one needs removed after.
    expect(r.changed).toContain(`command:remote:Command ${AGENT}-pre-change-snapshot update`);
    expect(r.changed).toContain(`command:remote:Command ${AGENT}-prune-images update`);
    const after = await containerId();
    expect(after).not.toBe(before);
    const v2 = await systemEnv().lxc.sh("docker image inspect -f '{{.Id}}' hermes-standin:v2");
    expect(await systemEnv().lxc.sh(`docker inspect -f '{{.Image}}' ${CONTAINER}`)).toBe(v2);
    // The migration step brought config.yaml to v2's schema (45, tests/system/standin/README.md) and left no copies.
    const config = fs.readFileSync(path.join(hostDataDir(), "config.yaml"), "utf8");
    expect(config).toMatch(/^_config_version: 45$/m);
    expect(fs.readdirSync(hostDataDir()).filter((f) => /\.bak-/.test(f))).toEqual([]);
    expect(userDataDigest()).toEqual(data);
    // The pre-change snapshot ran before the migration: it holds config.yaml at the old image's schema (44). No
    // sqlite3 shell and no zstd in this CT: Python's sqlite3 and gzip.
    const pre = await systemEnv().lxc.sh(`ls ${SNAPSHOTS} | grep -- '-pre-change\\.tar\\.gz$'`);
    expect(pre.split("\n")).toHaveLength(1);
    expect(
      await systemEnv().lxc.sh(
        `tar -xzOf ${SNAPSHOTS}/${pre} config.yaml | sed -n 's/^_config_version: *//p'`,
      ),
    ).toBe("44");
    // One gateway start for the whole upgrade: the migration runs the image's script in a throwaway container
    // before the gateway container exists, and starts no gateway (issue 16, point 3).
    expect(steps[steps.length - 1].starts).toBe(1);
    expect(steps[steps.length - 1].gatewayStarts).toBe(1);
    // What the image's migration left on disk, in hermes' own layout (migrate_config + save_config).
    expect(config).toMatch(/^agent: \{\}$/m);
    expect(config).toMatch(/^# /m);
  });

  it("after the upgrade, a no-op up costs nothing, even though config.yaml is in the image's layout", async () => {
    const before = await containerId();
    const configPath = path.join(hostDataDir(), "config.yaml");
    const migrated = fs.readFileSync(configPath);
    const r = await step("no-op up after the upgrade", () => world.up());
    expect(r.changed).toEqual([]);
    expect(r.commandRuns).toBe(0);
    expect(await containerId()).toBe(before);
    expect(steps[steps.length - 1].starts).toBe(0);
    expect(steps[steps.length - 1].gatewayStarts).toBe(0);
    expect(fs.readFileSync(configPath)).toEqual(migrated);
  });

  it("after the upgrade, a token rotation costs one start (the migrated config.yaml merged along)", async () => {
    const before = await containerId();
    world.setSecret(`agentSecrets.${AGENT}.telegramBotToken`, secrets.rotatedAfterUpgrade);
    const r = await step("token rotation after the upgrade", () => world.up());
    expect(r.ops.replace ?? 0).toBe(0);
    expect(await containerId()).toBe(before);
    expect(steps[steps.length - 1].starts).toBe(1);
    expect(steps[steps.length - 1].gatewayStarts).toBe(1);
    const config = fs.readFileSync(path.join(hostDataDir(), "config.yaml"), "utf8");
    // The merge kept what the image's save added and the schema stamp.
    expect(config).toMatch(/^_config_version: 45$/m);
    expect(config).toMatch(/^agent: \{\}$/m);
    expect(r.output).toMatch(/platforms: api_server=connected telegram=connected/);
  });

  it("a failed upgrade stops at the health gate, and the README's rollback brings the agent back", async () => {
    const { lxc } = systemEnv();
    const data = userDataDigest();
    const configPath = path.join(hostDataDir(), "config.yaml");
    expect(fs.readFileSync(configPath, "utf8")).toMatch(/^_config_version: 45$/m);
    // The healthy upgrade pruned the tags no gateway used; build them again, as a registry would serve the pull.
    await ensureStandinImage();
    // v3: a release whose config migration runs (schema 46) and whose gateway then crashes at start.
    world.editStackFile((c) => (agentConfig(c).imageTag = "v3"));
    const failed = await world.up().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed?.message).toMatch(/wait-for-gateway|unhealthy|gateway/i);
    expect(fs.readFileSync(configPath, "utf8")).toMatch(/^_config_version: 46$/m);

    // The README's rollback, in its order: restore this upgrade's pre-change snapshot, the previous tag, `pulumi up`.
    const listed = await lxc.sh(`hermes-lxc-restore ct-${AGENT} list`);
    // Newest first: the first pre-change snapshot is the one this upgrade took.
    const preChange = listed
      .split("\n")
      .map((l) => l.split("\t")[0])
      .find((f) => /-pre-change\.tar\.(gz|zst)$/.test(f));
    expect(preChange).toBeDefined();
    await lxc.sh(`hermes-lxc-restore ct-${AGENT} ${preChange}`);
    world.editStackFile((c) => (agentConfig(c).imageTag = "v2"));
    const r = await step("rollback", () => world.up());
    expect(
      r.changed.filter((c) => c.startsWith("docker:index/container:Container") && c.endsWith(" replace")),
    ).toHaveLength(1);
    expect(r.output).toMatch(/healthy hermes-engine: gateway running/);
    const v2 = await lxc.sh("docker image inspect -f '{{.Id}}' hermes-standin:v2");
    expect(await lxc.sh(`docker inspect -f '{{.Image}}' ${CONTAINER}`)).toBe(v2);
    // Back to v2's schema, with the user's data as it was before the failed upgrade.
    expect(fs.readFileSync(configPath, "utf8")).toMatch(/^_config_version: 45$/m);
    expect(userDataDigest()).toEqual(data);
  });

  it("destroy removes the container and keeps /opt/data and the bulk directories", async () => {
    const data = userDataDigest();
    const snapshots = await systemEnv().lxc.sh(`ls ${SNAPSHOTS} | grep -c -- '\\.tar\\.gz$'`);
    await step("destroy", () => world.destroy());
    expect(await containerId()).toBe("none");
    expect(userDataDigest()).toEqual(data);
    expect(fs.existsSync(path.join(hostDataDir(), ".env"))).toBe(true);
    // The agent's timer goes with it; its snapshots stay.
    expect(await systemEnv().lxc.sh(`systemctl is-enabled ${TIMER} 2>&1 || true`)).not.toBe("enabled");
    expect(await systemEnv().lxc.sh(`ls ${SNAPSHOTS} | grep -c -- '\\.tar\\.gz$'`)).toBe(snapshots);
  });

  it("no secret in plain text in the state or anything the CLI printed", () => {
    const exported = world.cli(["stack", "export", "--stack", "engine"]);
    const everything = `${exported}\n${world.transcript.join("\n")}\n${steps.map((s) => s.report.output).join("\n")}`;
    const leaked = Object.entries(secrets).filter(([, v]) => everything.includes(v.split(":").pop()!));
    expect(leaked.map(([k]) => k)).toEqual([]);
  });
});
