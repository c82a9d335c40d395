/**
 * The gateway layer on a real unprivileged LXC, driven by the program's own pure functions: the stack config goes
 * through the config model, the agent files payload and the script environments are the ones HermesGateway sends,
 * and the container is started from gatewayContainerSpec (only the image is swapped for the local stand-in, since
 * no registry is reachable). Everything runs over SSH with the CT's pinned host key.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AgentConfig, AgentSecretValues, parseStackConfig } from "../../components/config/schema";
import { agentFilesPayload } from "../../components/lib/agentPayload";
import { agentFilesScriptEnv, gatewayHealthScriptEnv } from "../../components/lib/gatewayScripts";
import { dockerRunArgs, gatewayContainerSpec } from "../../components/lib/gatewaySpec";
import { shellQuote } from "../../components/lib/remoteScript";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";
import { ensureDocker, ensureStandinImage, hostStat, lastLine, sleep, systemEnv } from "./harness";

const env = systemEnv();
const { lxc } = env;
const STANDIN = "hermes-standin:local";
const TOKEN_1 = "123456:SYSTEST-telegram-token-one";
const TOKEN_2 = "123456:SYSTEST-telegram-token-two";
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

    const args = dockerRunArgs(gatewayContainerSpec(agent, { maxSize: "10m", maxFile: 3 }), STANDIN);
    await lxc.exec(`docker ${args.map(shellQuote).join(" ")}`);
    expect(await waitHealthy()).toBe(`healthy ${agent.containerName}`);
  });

  test("the container is what the spec says, and carries no secret", async () => {
    const inspect = JSON.parse(await lxc.sh(`docker inspect ${agent.containerName}`))[0];
    expect(inspect.Config.Env).toEqual(
      expect.arrayContaining(["HERMES_UID=10000", "HERMES_GID=10000", "HERMES_MANAGED=true"]),
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
    expect(dotEnv).toContain(`TELEGRAM_BOT_TOKEN='${TOKEN_1}'`);
    expect(dotEnv).toContain(`LITELLM_API_KEY='${LLM_KEY}'`);
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
    expect(await waitHealthy()).toBe(`healthy ${agent.containerName}`);
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
    expect(await waitHealthy()).toBe(`healthy ${agent.containerName}`);
    const after = await startsLog();
    expect(after.length).toBe(before.length + 1);
    const sha = (line: string) => /env_sha256=(\S+)/.exec(line)![1];
    expect(sha(after[after.length - 1])).not.toBe(sha(before[before.length - 1]));
    expect(fs.readFileSync(path.join(hostAgentDir, ".env"), "utf8")).toContain(
      `TELEGRAM_BOT_TOKEN='${TOKEN_2}'`,
    );
    expect(hostStat(path.join(hostAgentDir, ".env"))).toBe("110000:110000 600");
  });

  test("an unhealthy gateway fails the step with its state and last log lines", async () => {
    await lxc.exec(`docker stop -t 5 ${agent.containerName} >/dev/null`);
    const res = await lxc.run(
      "wait-for-gateway.sh",
      { ...gatewayHealthScriptEnv(agent), TIMEOUT_SECONDS: 6 },
      undefined,
      {
        allowFailure: true,
      },
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/deployment failed: the gateway in container hermes-gw is not healthy/);
    expect(res.stderr).toMatch(/state=exited/);
    await lxc.exec(`docker start ${agent.containerName} >/dev/null`);
    expect(await waitHealthy()).toBe(`healthy ${agent.containerName}`);
  });
});
