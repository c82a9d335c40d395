/** components/gateway/gatewayScripts.ts: the environments of the gateway's remote scripts, exactly. */
import { parseStackConfig } from "../../components/config/stack";
import {
  agentFilesScriptEnv,
  configMigrationScriptEnv,
  gatewayHealthScriptEnv,
  requiredPlatforms,
} from "../../components/gateway/gatewayScripts";
import { readTemplate } from "../../components/lib/remoteScript";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

type Mutable = any;
function agentWith(mutate: (a: Mutable, secrets: Mutable) => void) {
  const raw = homelabWithSecrets() as Mutable;
  mutate(raw.agents.hermes, raw.agentSecrets.hermes);
  return parseStackConfig(raw, { readFile: readProjectFile }).config.agents[0];
}
const withApi = () =>
  agentWith((a, s) => {
    a.apiServer = { enabled: true };
    s.apiServerKey = "0123456789abcdef0123";
  });

describe("the gateway scripts' environments", () => {
  it("write-agent-files.sh: the agent, its owner, its container, managed mode and the two helper scripts", () => {
    const agent = agentWith(() => {});
    expect(agentFilesScriptEnv(agent)).toEqual({
      AGENT_NAME: agent.name,
      AGENT_DIR: agent.dataDir,
      OWNER_UID: agent.gatewayIds.uid,
      OWNER_GID: agent.gatewayIds.gid,
      CONTAINER_NAME: agent.containerName,
      MANAGED: agent.managed,
      MERGE_CONFIG_PY: readTemplate("merge-config.py"),
      HERMES_WRAPPER_SH: readTemplate("hermes-wrapper.sh"),
    });
  });

  it("migrate-agent-config.sh: the image, the agent's directory and its owner", () => {
    const agent = agentWith(() => {});
    expect(configMigrationScriptEnv(agent, "sha256:abc")).toEqual({
      IMAGE: "sha256:abc",
      AGENT_DIR: agent.dataDir,
      HERMES_UID: agent.gatewayIds.uid,
      HERMES_GID: agent.gatewayIds.gid,
    });
  });

  it("wait-for-gateway.sh: the API server is a platform to wait for, checked on its loopback health URL", () => {
    const off = agentWith(() => {});
    expect(requiredPlatforms(off)).not.toContain("api_server");
    expect(gatewayHealthScriptEnv(off)).toEqual({
      CONTAINER_NAME: off.containerName,
      PLATFORMS: requiredPlatforms(off).join(" "),
      TIMEOUT_SECONDS: off.healthTimeoutSeconds,
      API_HEALTH_URL: "",
      LOG_LINES: 50,
    });
    const on = withApi();
    expect(requiredPlatforms(on)).toEqual([...requiredPlatforms(off), "api_server"].sort());
    expect(gatewayHealthScriptEnv(on)).toMatchObject({
      PLATFORMS: [...requiredPlatforms(off), "api_server"].sort().join(" "),
      API_HEALTH_URL: "http://127.0.0.1:8642/health",
    });
  });
});
