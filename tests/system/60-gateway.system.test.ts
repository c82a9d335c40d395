/**
 * The gateway layer on a real unprivileged LXC, driven by the program's own pure functions: the stack config goes
 * through the config model, the agent files payload and the script environments are the ones HermesGateway sends,
 * and the container is started from gatewayContainerSpec (only the image is swapped for the local stand-in, since
 * no registry is reachable). Everything runs over SSH with the CT's pinned host key.
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
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";
import { ensureDocker, ensureStandinImage, hostStat, lastLine, sleep, systemEnv } from "./harness";

const env = systemEnv();
const { lxc } = env;
const STANDIN = "hermes-standin:local";
const TOKEN_1 = "123456:SYSTEST-telegram-token-one";
const TOKEN_2 = "123456:SYSTEST-telegram-token-two";
// The stand-in treats a credential containing "revoked" as one the platform rejects (a non-retryable fatal), and one
// containing "flaky" as one whose first connect fails with a retryable error (tests/system/standin/README.md).
const TOKEN_REVOKED = "123456:SYSTEST-revoked-token";
const TOKEN_FLAKY = "123456:SYSTEST-flaky-token";
const HEALTHY =
  /^healthy hermes-gw: gateway running \(pid \d+\); platforms: api_server=connected telegram=connected$/;
const LLM_KEY = "SYSTEST-llm-key-0000";

/** The agent `gw` as the config model resolves it on the homelab LXC (state on /srv/hermes, bulk /data, /fast). */
function agentFromStack(
  settings: Record<string, unknown>,
  token: string,
): { agent: AgentConfig; secrets: AgentSecretValues } {
  const raw = homelabWithSecrets() as any;
  raw.agents = { gw: { ...raw.agents.hermes, healthTimeoutSeconds: 60, settings } };
  raw.agentSecrets = { gw: { llmApiKey: LLM_KEY, telegramBotToken: token } };
  const parsed = parseStackConfig(raw, { readFile: readProjectFile });
  return { agent: parsed.config.agents[0], secrets: parsed.secrets.agents.gw };
}

const first = agentFromStack({ terminal: { backend: "local" } }, TOKEN_1);
const agent = first.agent;
const hostAgentDir = path.join(env.file.hostDirs.state, agent.name);

async function writeFiles(a: { agent: AgentConfig; secrets: AgentSecretValues }): Promise<string[]> {
  const res = await lxc.run(
    "write-agent-files.sh",
    agentFilesScriptEnv(a.agent),
    agentFilesPayload(a.agent, a.secrets),
  );
  for (const secret of [TOKEN_1, TOKEN_2, LLM_KEY]) {
    expect(res.stdout + res.stderr).not.toContain(secret);
  }
  return res.stdout.trim().split("\n");
}

async function waitHealthy(): Promise<string> {
  return lastLine((await lxc.run("wait-for-gateway.sh", gatewayHealthScriptEnv(agent))).stdout);
}

/** The health gate expected to fail: its stderr. */
async function gateFails(timeoutSeconds: number): Promise<{ stderr: string; seconds: number }> {
  const started = Date.now();
  const res = await lxc.run(
    "wait-for-gateway.sh",
    { ...gatewayHealthScriptEnv(agent), TIMEOUT_SECONDS: timeoutSeconds },
    undefined,
    { allowFailure: true },
  );
  expect(res.code).toBe(1);
  return { stderr: res.stderr, seconds: (Date.now() - started) / 1000 };
}

/** The program's migration step for an image, as HermesGateway runs it. */
async function migrate(image: string): Promise<string> {
  const id = await lxc.sh(`docker image inspect -f '{{.Id}}' ${image}`);
  return lastLine((await lxc.run("migrate-agent-config.sh", configMigrationScriptEnv(agent, id))).stdout);
}

/** (Re)creates the gateway container from the component's spec, with an image and extra environment. */
async function runGateway(image: string, extraEnv: string[] = []): Promise<void> {
  const spec = gatewayContainerSpec(agent, { maxSize: "10m", maxFile: 3 });
  spec.envs.push(...extraEnv);
  await lxc.exec(`docker rm -f ${agent.containerName} >/dev/null 2>&1 || true`);
  await lxc.exec(`docker ${dockerRunArgs(spec, image).map(shellQuote).join(" ")}`);
}

const backups = async () =>
  (await lxc.sh(`cd ${agent.dataDir} && ls -a | grep -E '^(\.env|config\.yaml)\.bak-' || true`))
    .split("\n")
    .filter(Boolean);
const configVersion = async () => lxc.sh(`sed -n 's/^_config_version: *//p' ${agent.dataDir}/config.yaml`);

/** Every distinct gateway_state.json the CT holds during the next `seconds` (read every 0.2 s), parsed. */
async function observeStateFile(seconds: number): Promise<any[]> {
  const out = await lxc.sh(
    `for i in $(seq ${seconds * 5}); do cat ${agent.dataDir}/gateway_state.json 2>/dev/null; echo; sleep 0.2; done`,
  );
  const distinct = [...new Set(out.split("\n").filter((l) => l.startsWith("{")))];
  return distinct.flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return []; // a read that raced the rename
    }
  });
}
const settingsWith = (token: string) =>
  agentFromStack({ terminal: { backend: "local" }, streaming: { enabled: true } }, token);

const containerId = () => lxc.sh(`docker inspect -f '{{.Id}}' ${agent.containerName}`);
const startsLog = async () => (await lxc.sh(`cat ${agent.dataDir}/logs/starts.log`)).split("\n");

describe("the gateway layer on a real LXC", () => {
  beforeAll(async () => {
    await ensureDocker();
    await ensureStandinImage();
    await lxc.exec(
      `docker rm -f ${agent.containerName} >/dev/null 2>&1; rm -rf ${agent.dataDir}; ` +
        "rm -f /data/.hermes-standin-marker /fast/.hermes-standin-marker",
    );
  });

  afterAll(async () => {
    await lxc.exec(`docker rm -f ${agent.containerName} >/dev/null 2>&1 || true`);
  });

  test("first deploy: files written, container started from the component's spec, gateway healthy", async () => {
    const lines = await writeFiles(first);
    expect(lines).toEqual(
      expect.arrayContaining(["changed config.yaml", "changed .env", "changed .managed"]),
    );
    // The container does not exist yet: nothing to restart.
    expect(lines.some((l) => l.startsWith("restarted"))).toBe(false);

    // The migration step before the first start: config.yaml stamped with the image's schema, no copies left.
    expect(await migrate(STANDIN)).toBe("config-version 0 -> 44");
    expect(await backups()).toEqual([]);
    // What upstream's migrate_config + save_config leave (tests/system/standin/README.md): the YAML re-dumped in
    // hermes' key order, `agent: {}` from the save's canonicalisation, comment blocks after the YAML.
    const migrated = await lxc.sh(`cat ${agent.dataDir}/config.yaml`);
    expect(migrated).toMatch(/^_config_version: 44\nagent: \{\}\n\n# -- Security/m);
    expect(migrated).toContain("# fallback_model:");
    // The migration saved config.yaml in its own layout; the next files step (the program runs one only when the
    // stack changed) writes it back in the merge's sorted layout, keeping the stamp. Shown here once, up front.
    expect((await writeFiles(first)).filter((l) => l.startsWith("changed"))).toEqual(["changed config.yaml"]);
    expect(await configVersion()).toBe("44");
    const merged = await lxc.sh(`cat ${agent.dataDir}/config.yaml`);
    expect(merged).not.toContain("#");
    expect(merged).toMatch(/^agent: \{\}$/m);
    await runGateway(STANDIN);
    expect(await waitHealthy()).toMatch(HEALTHY);
    // The gateway's own boot skipped the migration (it would fail under managed mode and leave copies of .env).
    const logs = await lxc.sh(`docker logs ${agent.containerName} 2>&1`);
    expect(logs).toContain("HERMES_SKIP_CONFIG_MIGRATION is set; skipping config migration");
    expect(logs).not.toContain("docker_config_migrate.py failed");
    expect(await backups()).toEqual([]);
  });

  test("hermes' own messages name this program as the manager", async () => {
    const res = await lxc.exec(`docker exec ${agent.containerName} hermes config set timezone UTC`);
    expect(res.stderr).toContain("managed by hermes-lxc");
    expect(res.stderr).not.toContain("nixos");
  });

  test("the container is what the spec says, and carries no secret", async () => {
    const inspect = JSON.parse(await lxc.sh(`docker inspect ${agent.containerName}`))[0];
    expect(inspect.Config.Env).toEqual(
      expect.arrayContaining([
        "HERMES_UID=10000",
        "HERMES_GID=10000",
        "HERMES_MANAGED=hermes-lxc",
        "HERMES_SKIP_CONFIG_MIGRATION=1",
      ]),
    );
    expect(inspect.Config.Cmd).toEqual(["gateway", "run"]);
    expect(inspect.Config.User).toBe("");
    expect(inspect.HostConfig.RestartPolicy.Name).toBe("unless-stopped");
    expect(inspect.HostConfig.LogConfig).toEqual({
      Type: "json-file",
      Config: { "max-file": "3", "max-size": "10m" },
    });
    expect(inspect.HostConfig.PortBindings ?? {}).toEqual({});
    expect(inspect.Config.Labels["hermes-lxc.agent"]).toBe("gw");
    const mounts = inspect.Mounts.map((m: any) => `${m.Source}:${m.Destination}`).sort();
    expect(mounts).toEqual([
      "/data:/opt/data/workspace/data",
      "/fast:/opt/data/workspace/fast",
      "/srv/hermes/gw:/opt/data",
    ]);
    const text = JSON.stringify(inspect);
    for (const secret of [TOKEN_1, LLM_KEY]) expect(text).not.toContain(secret);
  });

  test("seen from the node: owners 110000, secrets 0600, config 0640, directory 0750, managed marker", () => {
    expect(hostStat(hostAgentDir)).toBe("110000:110000 750");
    // Created by the files step before Docker mounts the bulk disks below it (Docker would make it root's).
    expect(hostStat(path.join(hostAgentDir, "workspace"))).toBe("110000:110000 750");
    expect(hostStat(path.join(hostAgentDir, ".env"))).toBe("110000:110000 600");
    expect(hostStat(path.join(hostAgentDir, "config.yaml"))).toBe("110000:110000 640");
    expect(hostStat(path.join(hostAgentDir, ".managed"))).toBe("110000:110000 640");
    expect(fs.statSync(path.join(hostAgentDir, ".env")).mode & 0o077).toBe(0);
    const dotEnv = fs.readFileSync(path.join(hostAgentDir, ".env"), "utf8");
    expect(dotEnv).toContain(`TELEGRAM_BOT_TOKEN=${TOKEN_1}\n`);
    expect(dotEnv).toContain(`LITELLM_API_KEY=${LLM_KEY}\n`);
    expect(fs.readFileSync(path.join(hostAgentDir, "config.yaml"), "utf8")).toContain(
      "api_key: ${LITELLM_API_KEY}",
    );
  });

  test("a file the agent writes in a bulk mount lands on the node owned by 110000", async () => {
    const marker = path.join(env.file.hostDirs.data, ".hermes-standin-marker");
    for (let i = 0; i < 40 && !fs.existsSync(marker); i++) await sleep(500);
    expect(hostStat(marker).split(" ")[0]).toBe("110000:110000");
  });

  test("`hermes` in the LXC runs inside the agent's container as the hermes user", async () => {
    expect(await lxc.sh("hermes pairing approve telegram ABC123")).toBe(
      "Approved pairing code ABC123 for telegram",
    );
    expect(await lxc.sh("hermes --agent gw --version")).toMatch(/stand-in/);
    const approved = fs.readFileSync(path.join(hostAgentDir, "pairing", "telegram-approved"), "utf8");
    expect(approved).toMatch(/ ABC123 approved_by_uid=10000\n$/);
    expect(hostStat(path.join(hostAgentDir, "pairing", "telegram-approved")).split(" ")[0]).toBe(
      "110000:110000",
    );
  });

  test("the same payload again (after hermes' first boot touched .env) changes nothing and restarts nothing", async () => {
    const id = await containerId();
    const lines = await writeFiles(first);
    expect(lines.filter((l) => l.startsWith("changed") || l.startsWith("restarted"))).toEqual([]);
    // And the migration step, run again for the same image, is a no-op.
    expect(await migrate(STANDIN)).toBe("config-version 44 -> 44");
    expect(await containerId()).toBe(id);
  });

  test("a settings change merges into config.yaml, keeps the key the agent added, restarts the same container", async () => {
    // The agent (or a human) adds a key of its own.
    await lxc.exec(
      `docker exec ${agent.containerName} sh -c "printf 'agent_added:\\n  note: kept\\n' >> /opt/data/config.yaml"`,
    );
    const id = await containerId();
    const lines = await writeFiles(
      agentFromStack({ terminal: { backend: "local" }, streaming: { enabled: true } }, TOKEN_1),
    );
    expect(lines).toEqual(
      expect.arrayContaining(["changed config.yaml", "unchanged .env", `restarted ${agent.containerName}`]),
    );
    expect(await containerId()).toBe(id);
    const config = JSON.parse(
      await lxc.sh(
        `python3 -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' ${agent.dataDir}/config.yaml`,
      ),
    );
    expect(config.agent_added).toEqual({ note: "kept" });
    expect(config.streaming).toEqual({ enabled: true });
    expect(config.model).toMatchObject({ provider: "custom", api_key: "${LITELLM_API_KEY}" });
    expect(await waitHealthy()).toMatch(HEALTHY);
  });

  test("rotating a secret rewrites .env and restarts the same container (same id), which starts with the new .env", async () => {
    const id = await containerId();
    const before = await startsLog();
    const lines = await writeFiles(
      agentFromStack({ terminal: { backend: "local" }, streaming: { enabled: true } }, TOKEN_2),
    );
    expect(lines).toEqual(
      expect.arrayContaining(["changed .env", "unchanged config.yaml", `restarted ${agent.containerName}`]),
    );
    expect(await containerId()).toBe(id);
    expect(await waitHealthy()).toMatch(HEALTHY);
    const after = await startsLog();
    expect(after.length).toBe(before.length + 1);
    const sha = (line: string) => /env_sha256=(\S+)/.exec(line)![1];
    expect(sha(after[after.length - 1])).not.toBe(sha(before[before.length - 1]));
    expect(fs.readFileSync(path.join(hostAgentDir, ".env"), "utf8")).toContain(
      `TELEGRAM_BOT_TOKEN=${TOKEN_2}\n`,
    );
    expect(hostStat(path.join(hostAgentDir, ".env"))).toBe("110000:110000 600");
  });

  test("a revoked bot token fails the health gate at once, naming the platform and hermes' error", async () => {
    const lines = await writeFiles(settingsWith(TOKEN_REVOKED));
    expect(lines).toContain(`restarted ${agent.containerName}`);
    const { stderr, seconds } = await gateFails(60);
    expect(seconds).toBeLessThan(30);
    expect(stderr).toContain(
      "telegram: fatal: telegram_unauthorized: Unauthorized: the bot token was rejected",
    );
    // The container itself keeps running (s6 parks the gateway): only the state file tells.
    expect(await lxc.sh(`docker inspect -f '{{.State.Running}}' ${agent.containerName}`)).toBe("true");
  });

  test("the rotated token: the new gateway starts on the old `telegram: fatal`, and the gate waits for its own entry", async () => {
    const lines = await writeFiles(settingsWith(TOKEN_2));
    expect(lines).toContain(`restarted ${agent.containerName}`);
    const [verdict, seen] = await Promise.all([waitHealthy(), observeStateFile(12)]);
    expect(verdict).toMatch(HEALTHY);
    // What upstream leaves on disk (gateway/status.py write_runtime_status merges; the startup write keeps bare
    // entries; _mark_disconnected never overwrites fatal): the new process at the top level, the old one's fatal.
    const staleFatal = seen.filter(
      (r) =>
        r.gateway_state === "starting" &&
        r.platforms?.telegram?.state === "fatal" &&
        r.platforms.telegram.writer_start_time !== r.start_time,
    );
    expect(staleFatal.length).toBeGreaterThan(0);
    expect(seen[seen.length - 1].platforms.telegram).toMatchObject({ state: "connected" });
  });

  test("a transient failure: fatal during the connect round, retrying after it, connected on the retry", async () => {
    await writeFiles(settingsWith(TOKEN_FLAKY));
    const [verdict, seen] = await Promise.all([waitHealthy(), observeStateFile(14)]);
    expect(verdict).toMatch(HEALTHY);
    const own = (r: any) => r.platforms?.telegram?.writer_start_time === r.start_time;
    const states = seen.filter(own).map((r) => `${r.gateway_state}/${r.platforms.telegram.state}`);
    // base.py _set_fatal_error writes fatal while the round runs; _start_aggregate_connect_results makes it retrying.
    expect(states).toEqual(
      expect.arrayContaining(["starting/fatal", "running/retrying", "running/connected"]),
    );
    expect(states.indexOf("starting/fatal")).toBeLessThan(states.indexOf("running/retrying"));
    const transient = seen.find((r) => own(r) && r.platforms.telegram.state === "fatal").platforms.telegram;
    expect(transient).toMatchObject({
      error_code: "telegram_connect_error",
      error_message: "Telegram startup failed: Connection reset by peer",
    });
  });

  test("a genuinely bad token still fails at once, with hermes' own error", async () => {
    await writeFiles(settingsWith(TOKEN_REVOKED));
    const { stderr, seconds } = await gateFails(60);
    expect(seconds).toBeLessThan(30);
    expect(stderr).toContain(
      "telegram: fatal: telegram_unauthorized: Unauthorized: the bot token was rejected",
    );
  });

  test("a gateway that crashes at start fails the gate when its time is up, while the container runs on", async () => {
    await writeFiles(
      agentFromStack({ terminal: { backend: "local" }, streaming: { enabled: true } }, TOKEN_2),
    );
    await runGateway(STANDIN, ["HERMES_STANDIN_CRASH_AT_START=1"]);
    const { stderr } = await gateFails(8);
    expect(stderr).toMatch(
      /not healthy after \d+s: (the gateway process \d+ is not running|gateway starting)/,
    );
    expect(await lxc.sh(`docker inspect -f '{{.State.Running}}' ${agent.containerName}`)).toBe("true");
    await runGateway(STANDIN);
    expect(await waitHealthy()).toMatch(HEALTHY);
  });

  test("an image upgrade migrates config.yaml to the new schema once, leaving no copies of .env", async () => {
    expect(await configVersion()).toBe("44");
    expect(await migrate("hermes-standin:v2")).toBe("config-version 44 -> 45");
    expect(await backups()).toEqual([]);
    await runGateway("hermes-standin:v2");
    expect(await waitHealthy()).toMatch(HEALTHY);
    expect(await configVersion()).toBe("45");
    const config = await lxc.sh(`cat ${agent.dataDir}/config.yaml`);
    expect(config).toContain("agent_added:");
    expect(await backups()).toEqual([]);
    // Back to the old image (the README's rollback): nothing to migrate, still healthy.
    expect(await migrate(STANDIN)).toBe("config-version 45 -> 45");
    await runGateway(STANDIN);
    expect(await waitHealthy()).toMatch(HEALTHY);
  });

  test("a stopped container fails the gate at once with its last log lines", async () => {
    await lxc.exec(`docker stop -t 5 ${agent.containerName} >/dev/null`);
    const { stderr } = await gateFails(30);
    expect(stderr).toMatch(/deployment failed: the gateway in container hermes-gw is not healthy/);
    expect(stderr).toContain("the container is exited");
    expect(stderr).toContain(`last 50 log lines of ${agent.containerName}`);
    await lxc.exec(`docker start ${agent.containerName} >/dev/null`);
    expect(await waitHealthy()).toMatch(HEALTHY);
  });
});
