/**
 * Day two on a real unprivileged LXC: snapshots of an agent's /opt/data taken on the node (outside the LXC), the
 * restore command, and an image upgrade whose health gate fails, undone by the README's rollback. The scripts are
 * installed on the node by install-agent-snapshots.sh exactly as AgentSnapshots does (only the install directories
 * and systemctl point into the test's runtime directory: the node here is this machine), and every gateway step
 * uses the same environments as HermesGateway.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { AgentConfig, AgentSecretValues } from "../../components/config/model";
import { parseStackConfig } from "../../components/config/stack";
import { agentFilesPayload } from "../../components/gateway/agentPayload";
import {
  agentFilesScriptEnv,
  configMigrationScriptEnv,
  gatewayHealthScriptEnv,
} from "../../components/gateway/gatewayScripts";
import { dockerRunArgs, gatewayContainerSpec } from "../../components/gateway/gatewaySpec";
import { shellQuote } from "../../components/lib/remoteScript";
import {
  SnapshotPaths,
  SnapshotPlacement,
  preChangeSnapshotCommand,
  pruneImagesEnv,
  recreateDigest,
  restoreCommand,
  snapshotCommand,
  snapshotInstallEnv,
} from "../../components/gateway/snapshotScripts";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";
import {
  DOCKER_ENV_DEBIAN,
  RUNTIME,
  ensureDocker,
  ensureStandinImage,
  host,
  hostStat,
  lastLine,
  systemEnv,
} from "./harness";

const env = systemEnv();
const { lxc, node } = env;
const TOKEN = "123456:SYSTEST-snapshot-token";
const LLM_KEY = "SYSTEST-llm-key-snap";
const HEALTHY =
  /^healthy hermes-bk: gateway running \(pid \d+\); platforms: api_server=connected telegram=connected$/;

function agentFromStack(): { agent: AgentConfig; secrets: AgentSecretValues } {
  const raw = homelabWithSecrets() as any;
  raw.agents = { bk: { ...raw.agents.hermes, healthTimeoutSeconds: 60 } };
  raw.agentSecrets = { bk: { llmApiKey: LLM_KEY, telegramBotToken: TOKEN } };
  const parsed = parseStackConfig(raw, { readFile: readProjectFile });
  return { agent: parsed.config.agents[0], secrets: parsed.secrets.agents.bk };
}
const deployed = agentFromStack();
const agent = deployed.agent;
const hostDataDir = path.join(env.file.hostDirs.state, agent.name);
const SNAP_ROOT = path.join(RUNTIME, "snapshots");
const SNAP = path.join(RUNTIME, "snap");
const IMAGE_STATE = "/var/lib/hermes-lxc-systest/images";
const paths: SnapshotPaths = {
  binDir: path.join(RUNTIME, "bin"), // on the node sessions' PATH (tests/system/README.md)
  libDir: path.join(SNAP, "lib"),
  confDir: path.join(SNAP, "conf"),
  unitDir: path.join(SNAP, "units"),
  systemctl: path.join(SNAP, "systemctl"),
};
const placement: SnapshotPlacement = {
  id: "systest-bk",
  agent: agent.name,
  dataPath: hostDataDir,
  directory: SNAP_ROOT,
  containerName: agent.containerName,
  vmId: env.vmid,
  settings: { schedule: "daily", keep: 10, maxAgeDays: 30 },
};

const imageId = (ref: string) => lxc.sh(`docker image inspect -f '{{.Id}}' ${ref}`);
const spec = gatewayContainerSpec(agent, { maxSize: "10m", maxFile: 3 });

async function runGateway(image: string): Promise<void> {
  await lxc.exec(`docker rm -f ${agent.containerName} >/dev/null 2>&1 || true`);
  await lxc.exec(`docker ${dockerRunArgs(spec, image).map(shellQuote).join(" ")}`);
}
const waitHealthy = async () =>
  lastLine((await lxc.run("wait-for-gateway.sh", gatewayHealthScriptEnv(agent))).stdout);
const migrate = async (image: string) =>
  lastLine(
    (await lxc.run("migrate-agent-config.sh", configMigrationScriptEnv(agent, await imageId(image)))).stdout,
  );
const prune = async (image: string) =>
  lxc.run(
    "prune-gateway-images.sh",
    pruneImagesEnv(agent.containerName, "hermes-standin", await imageId(image), IMAGE_STATE),
  );
const tags = async () =>
  (await lxc.sh("docker image ls --format '{{.Tag}}' hermes-standin | sort")).split("\n");
const configVersion = () => lxc.sh(`sed -n 's/^_config_version: *//p' ${agent.dataDir}/config.yaml`);

/** The pre-change snapshot exactly as the component runs it on the node for a new image. Returns its file. */
async function preChangeSnapshot(image: string): Promise<string> {
  const digest = recreateDigest(await imageId(image), { ...spec, image: undefined });
  const out = await node.sh(preChangeSnapshotCommand(placement, digest, paths));
  const m = /^snapshot (\S+)$/m.exec(out);
  if (!m) throw new Error(`no snapshot line in:\n${out}`);
  return m[1];
}

/**
 * Everything in the agent's directory, as the node sees it: path, owner, mode and content hash, minus what the live
 * gateway rewrites on its own (its state file, pid, log of starts) and the databases (compared by their rows).
 */
function dataDigest(dir = hostDataDir): string {
  return host("bash", [
    "-c",
    `cd ${shellQuote(dir)} && find . \\( -name gateway_state.json -o -name gateway.pid -o -name '.gateway_state_*' ` +
      `-o -path ./logs -o -name '*.db' -o -name '*.db-wal' -o -name '*.db-shm' \\) -prune -o ` +
      `-printf '%p %U:%G %m %y ' -exec sh -c 'if [ -f "$1" ]; then sha256sum < "$1" | cut -c1-16; else echo -; fi' _ {} \\; | sort`,
  ]);
}
const dbRows = (file: string) => host("sqlite3", [file, "SELECT id, body FROM memories ORDER BY id"]).trim();

describe("snapshots, restore and an upgrade with a way back, on a real LXC", () => {
  beforeAll(async () => {
    await ensureDocker();
    await ensureStandinImage();
    await lxc.exec(`docker rm -f ${agent.containerName} >/dev/null 2>&1; rm -rf ${agent.dataDir}`);
    fs.rmSync(SNAP_ROOT, { recursive: true, force: true });
    fs.rmSync(SNAP, { recursive: true, force: true });
    fs.mkdirSync(SNAP, { recursive: true });
    // No systemd on this machine: a systemctl that records what it is asked.
    fs.writeFileSync(
      paths.systemctl,
      `#!/bin/bash\necho "$*" >> ${SNAP}/systemctl.log\ncase $1 in is-enabled|is-active) [[ -f ${SNAP}/enabled ]];; enable) touch ${SNAP}/enabled;; esac\n`,
      { mode: 0o755 },
    );
  });

  afterAll(async () => {
    await lxc.exec(
      `pkill -f 'systest-db-write[r]' || true; docker rm -f ${agent.containerName} >/dev/null 2>&1 || true`,
    );
  });

  test("the Docker install step reports the rootfs usage, and warns above the threshold (default 80%)", async () => {
    const res = await ensureDocker();
    const usage = /^rootfs usage: (\d+)% of \d+ GiB \(\d+ MiB free\) at \/var\/lib\/docker$/m.exec(
      res.stdout,
    );
    expect(usage).not.toBeNull();
    // This CT's disk is far from 80%: no warning; with the threshold under the real usage, the warning.
    expect(Number(usage![1])).toBeLessThan(80);
    expect(res.stderr).not.toContain("WARNING: the filesystem holding /var/lib/docker");
    const low = await lxc.run("install-docker.sh", { ...DOCKER_ENV_DEBIAN, DISK_WARN_PERCENT: 0 });
    expect(low.stderr).toContain(
      `WARNING: the filesystem holding /var/lib/docker is ${usage![1]}% full (over 0%)`,
    );
    expect(lastLine(low.stdout)).toMatch(/^docker-ready /);
  });

  test("install on the node: commands, conf 0600, timer units systemd accepts; a re-run changes nothing", async () => {
    const first = await node.run("install-agent-snapshots.sh", snapshotInstallEnv(placement, paths));
    expect(lastLine(first.stdout)).toBe(
      `snapshots systest-bk: schedule=daily keep=10 max-age=30d dir=${SNAP_ROOT}/bk`,
    );
    expect(first.stdout).toContain(`changed ${paths.unitDir}/hermes-lxc-snapshot-systest-bk.timer`);
    expect(hostStat(path.join(paths.confDir, "systest-bk.conf"))).toBe("0:0 600");
    expect(hostStat(SNAP_ROOT)).toBe("0:0 700");
    host("systemd-analyze", [
      "verify",
      ...["service", "timer"].map((t) => `${paths.unitDir}/hermes-lxc-snapshot-systest-bk.${t}`),
    ]);
    expect(fs.readFileSync(`${paths.unitDir}/hermes-lxc-snapshot-systest-bk.timer`, "utf8")).toContain(
      "OnCalendar=daily\nPersistent=true",
    );
    expect(fs.readFileSync(`${SNAP}/systemctl.log`, "utf8")).toContain(
      "enable hermes-lxc-snapshot-systest-bk.timer",
    );
    const again = await node.run("install-agent-snapshots.sh", snapshotInstallEnv(placement, paths));
    expect(again.stdout.trim().split("\n")).toEqual([lastLine(first.stdout)]);
  });

  test("deploy: the agent runs healthy, then writes memories and a database row (live, in WAL mode)", async () => {
    await lxc.run(
      "write-agent-files.sh",
      agentFilesScriptEnv(agent),
      agentFilesPayload(agent, deployed.secrets),
    );
    expect(await migrate("hermes-standin:local")).toBe("config-version 0 -> 44");
    await lxc.run(
      "write-agent-files.sh",
      agentFilesScriptEnv(agent),
      agentFilesPayload(agent, deployed.secrets),
    );
    await runGateway("hermes-standin:local");
    expect(await waitHealthy()).toMatch(HEALTHY);
    // The program's prune step after a healthy start: the other stand-in tags are no gateway's current or previous.
    await lxc.exec(`rm -rf ${IMAGE_STATE}`);
    const pruned = await prune("hermes-standin:local");
    expect(lastLine(pruned.stdout)).toMatch(/^images kept: \d+ \(current \w{12}, previous none\)$/);
    expect(pruned.stdout).toContain("removed hermes-standin:v2");
    expect(pruned.stdout).toContain("removed hermes-standin:v3");
    // As the agent: uid 10000 in the container.
    await lxc.exec(
      `docker exec -u 10000:10000 ${agent.containerName} bash -c ` +
        shellQuote(
          "mkdir -p /opt/data/memories /opt/data/skills/notes && echo 'the user likes tea' > /opt/data/memories/MEMORY.md && echo skill > /opt/data/skills/notes/SKILL.md",
        ),
    );
    // A writer that keeps state.db open in WAL mode, its row not yet checkpointed: a plain copy of state.db would
    // miss it. Runs in the LXC as the gateway's uid (the stand-in image has no sqlite).
    await lxc.exec(
      "setsid setpriv --reuid=10000 --regid=10000 --clear-groups python3 -c " +
        shellQuote(
          "import sqlite3, time, sys\n" +
            `c = sqlite3.connect('${agent.dataDir}/state.db')\n` +
            "c.execute('PRAGMA journal_mode=wal'); c.execute('PRAGMA wal_autocheckpoint=0')\n" +
            "c.execute('CREATE TABLE memories (id INTEGER PRIMARY KEY, body TEXT)')\n" +
            "c.execute(\"INSERT INTO memories (body) VALUES ('first'), ('second')\"); c.commit()\n" +
            "time.sleep(600)  # systest-db-writer",
        ) +
        " systest-db-writer >/dev/null 2>&1 < /dev/null &",
    );
    for (let i = 0; i < 50 && !fs.existsSync(path.join(hostDataDir, "state.db-wal")); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(fs.statSync(path.join(hostDataDir, "state.db-wal")).size).toBeGreaterThan(0);
    expect(hostStat(path.join(hostDataDir, "state.db")).split(" ")[0]).toBe("110000:110000");
  });

  let before = "";
  let snapshotFile = "";
  test("a snapshot on the node: root only, verified, holds the live database's committed rows and the owners", async () => {
    before = dataDigest();
    const res = await node.exec(snapshotCommand(placement, "manual", paths));
    const m = /^snapshot (\S+)$/m.exec(res.stdout);
    expect(m).not.toBeNull();
    snapshotFile = m![1];
    expect(path.dirname(snapshotFile)).toBe(path.join(SNAP_ROOT, "bk"));
    expect(hostStat(snapshotFile)).toBe("0:0 600");
    expect(hostStat(path.join(SNAP_ROOT, "bk"))).toBe("0:0 700");
    expect(res.stderr).toMatch(
      /wrote bk-\S+-manual\.tar\.zst: \d+ bytes, \d+ entries, 1 databases \(sqlite via shell\)/,
    );
    // The live WAL still holds the rows (nothing checkpointed): the snapshot has them anyway.
    expect(fs.statSync(path.join(hostDataDir, "state.db-wal")).size).toBeGreaterThan(0);
    const x = fs.mkdtempSync("/tmp/hermes-systest-x-");
    host("tar", ["-C", x, "--numeric-owner", "-xf", snapshotFile]);
    expect(dbRows(path.join(x, "state.db"))).toBe("1|first\n2|second");
    expect(fs.existsSync(path.join(x, "state.db-wal"))).toBe(false);
    expect(fs.existsSync(path.join(x, "gateway_state.json"))).toBe(false);
    expect(hostStat(path.join(x, ".env"))).toBe("110000:110000 600");
    expect(hostStat(path.join(x, "memories", "MEMORY.md")).split(" ")[0]).toBe("110000:110000");
    fs.rmSync(x, { recursive: true, force: true });
    // The snapshot read the database as root: no journal it may have created is left to root.
    for (const f of ["state.db-wal", "state.db-shm"]) {
      if (fs.existsSync(path.join(hostDataDir, f)))
        expect(hostStat(path.join(hostDataDir, f)).split(" ")[0]).toBe("110000:110000");
    }
  });

  test("damage, then the restore command: identical content and owners, the damaged data kept aside, healthy again", async () => {
    await lxc.exec("pkill -f 'systest-db-write[r]' || true");
    // Damage: a memory overwritten and re-owned (root in the LXC), a skill deleted, the database overwritten.
    await lxc.exec(
      `cd ${agent.dataDir} && echo 'forgot everything' > memories/MEMORY.md && chown 0:0 memories/MEMORY.md && ` +
        "rm -rf skills/notes && rm -f state.db-wal state.db-shm && echo garbage > state.db",
    );
    expect(dataDigest()).not.toBe(before);
    const res = await node.exec(restoreCommand(placement, path.basename(snapshotFile), paths));
    const m = /^restored (\S+) into (\S+); previous data kept at (\S+); started hermes-bk: yes$/m.exec(
      res.stdout,
    );
    expect(m).not.toBeNull();
    expect(m![2]).toBe(hostDataDir);
    expect(await waitHealthy()).toMatch(HEALTHY);
    expect(dataDigest()).toBe(before);
    expect(dbRows(path.join(hostDataDir, "state.db"))).toBe("1|first\n2|second");
    expect(hostStat(path.join(hostDataDir, "state.db")).split(" ")[0]).toBe("110000:110000");
    expect(hostStat(hostDataDir)).toBe("110000:110000 750");
    // The scheduled run on the live, healthy gateway: a first snapshot, then nothing changed, nothing written.
    const scheduled = await node.sh(snapshotCommand(placement, "scheduled", paths));
    expect(lastLine(scheduled)).toMatch(/^snapshot \S+-scheduled\.tar\.zst$/);
    await new Promise((r) => setTimeout(r, 3000));
    expect(lastLine(await node.sh(snapshotCommand(placement, "scheduled", paths)))).toBe(
      lastLine(scheduled).replace(/^snapshot /, "unchanged "),
    );
    // Nothing deleted: the damaged tree is where the restore said.
    expect(fs.readFileSync(path.join(m![3], "memories", "MEMORY.md"), "utf8")).toBe("forgot everything\n");
    host("rm", ["-rf", m![3]]);
  });

  test("upgrade: a pre-change snapshot, the new image's migration, healthy; old images pruned (current + previous kept)", async () => {
    await ensureStandinImage(); // the pull of the new tag (the stand-in has no registry)
    const pre = await preChangeSnapshot("hermes-standin:v2");
    expect(pre).toMatch(/-pre-change\.tar\.zst$/);
    expect(await migrate("hermes-standin:v2")).toBe("config-version 44 -> 45");
    await runGateway("hermes-standin:v2");
    expect(await waitHealthy()).toMatch(HEALTHY);
    const res = await prune("hermes-standin:v2");
    expect(lastLine(res.stdout)).toMatch(/^images kept: \d+ \(current \w{12}, previous \w{12}\)$/);
    expect(res.stdout.split("\n").filter((l) => l.startsWith("removed"))).toEqual([
      "removed hermes-standin:v3",
    ]);
    expect(await tags()).toEqual(["local", "v2"]);
    // Idempotent: nothing more to remove.
    expect((await prune("hermes-standin:v2")).stdout).not.toContain("removed");
  });

  test("a broken release fails its health gate; the README's rollback (restore + previous tag) brings the agent back", async () => {
    await ensureStandinImage(); // the pull of :v3
    await lxc.exec(
      `docker exec -u 10000:10000 ${agent.containerName} bash -c ${shellQuote("echo 'learned on v2' >> /opt/data/memories/MEMORY.md")}`,
    );
    const onV2 = dataDigest();
    // `pulumi up` with imageTag v3: snapshot, migration to 46, new container, health gate.
    const pre = await preChangeSnapshot("hermes-standin:v3");
    expect(await migrate("hermes-standin:v3")).toBe("config-version 45 -> 46");
    await runGateway("hermes-standin:v3");
    const gate = await lxc.run(
      "wait-for-gateway.sh",
      { ...gatewayHealthScriptEnv(agent), TIMEOUT_SECONDS: 10 },
      undefined,
      { allowFailure: true },
    );
    expect(gate.code).toBe(1);
    expect(gate.stderr).toMatch(/not healthy after \d+s/);
    expect(await configVersion()).toBe("46");

    // The rollback, as the README says: 1. restore the pre-upgrade snapshot by name (from `list`).
    const list = await node.sh(restoreCommand(placement, "list", paths));
    expect(list.split("\n")[0]).toContain(path.basename(pre));
    const res = await node.exec(restoreCommand(placement, path.basename(pre), paths));
    expect(lastLine(res.stdout)).toMatch(
      /^restored \S+-pre-change\.tar\.zst into .*; started hermes-bk: yes$/,
    );
    expect(await configVersion()).toBe("45");
    // 2. the previous tag and `pulumi up`: snapshot, migration (nothing to do at 45), new container, health gate.
    await preChangeSnapshot("hermes-standin:v2");
    expect(await migrate("hermes-standin:v2")).toBe("config-version 45 -> 45");
    await runGateway("hermes-standin:v2");
    expect(await waitHealthy()).toMatch(HEALTHY);
    expect(dataDigest()).toBe(onV2);
    expect(await lxc.sh(`cat ${agent.dataDir}/memories/MEMORY.md`)).toBe("the user likes tea\nlearned on v2");
    expect(dbRows(path.join(hostDataDir, "state.db"))).toBe("1|first\n2|second");
    // Healthy again on v2: the broken image goes, v2 and the one before it stay.
    expect((await prune("hermes-standin:v2")).stdout).toContain("removed hermes-standin:v3");
    expect(await tags()).toEqual(["local", "v2"]);
    for (const aside of fs
      .readdirSync(env.file.hostDirs.state)
      .filter((f) => f.startsWith("bk.before-restore-"))) {
      host("rm", ["-rf", path.join(env.file.hostDirs.state, aside)]);
    }
  });
});
