/**
 * The environments of the gateway's remote scripts, as pure functions: HermesGateway passes them to its remote
 * commands, and the system tier runs the same scripts with the same environments against a real LXC.
 */
import { AgentConfig, PLATFORMS } from "../config/model";
import { readTemplate } from "../lib/remoteScript";

/** Environment of write-agent-files.sh for an agent (its stdin is the agent files payload). */
export function agentFilesScriptEnv(agent: AgentConfig): Record<string, string | number | boolean> {
  return {
    AGENT_NAME: agent.name,
    AGENT_DIR: agent.dataDir,
    OWNER_UID: agent.gatewayIds.uid,
    OWNER_GID: agent.gatewayIds.gid,
    CONTAINER_NAME: agent.containerName,
    MANAGED: agent.managed,
    MERGE_CONFIG_PY: readTemplate("merge-config.py"),
    HERMES_WRAPPER_SH: readTemplate("hermes-wrapper.sh"),
  };
}

/** The platforms hermes must report connected for the agent to count as healthy, by hermes' names (a platform
 * that connects only after an interactive pairing, WhatsApp's QR code, is not waited for). */
export function requiredPlatforms(agent: AgentConfig): string[] {
  const names = PLATFORMS.filter((p) => agent.platforms[p.key] && !p.connectsAfterPairing).map(
    (p) => p.hermesName,
  );
  if (agent.apiServer.enabled) names.push("api_server");
  return names.sort();
}

/** The platforms whose senders hermes pairs (by hermes' names): those with users to allow, WhatsApp included;
 * not Home Assistant or the webhook, which have none. */
export function pairingPlatforms(agent: AgentConfig): string[] {
  return PLATFORMS.filter((p) => agent.platforms[p.key] && p.access).map((p) => p.hermesName);
}

/** Environment of migrate-agent-config.sh for an agent and the image id about to run. */
export function configMigrationScriptEnv(
  agent: AgentConfig,
  imageId: string,
): Record<string, string | number> {
  return {
    IMAGE: imageId,
    AGENT_DIR: agent.dataDir,
    HERMES_UID: agent.gatewayIds.uid,
    HERMES_GID: agent.gatewayIds.gid,
  };
}

/** Environment of wait-for-gateway.sh for an agent. */
export function gatewayHealthScriptEnv(agent: AgentConfig): Record<string, string | number | boolean> {
  return {
    CONTAINER_NAME: agent.containerName,
    PLATFORMS: requiredPlatforms(agent).join(" "),
    TIMEOUT_SECONDS: agent.healthTimeoutSeconds,
    // The API server listens inside the container; the image ships curl.
    API_HEALTH_URL: agent.apiServer.enabled ? "http://127.0.0.1:8642/health" : "",
    LOG_LINES: 50,
  };
}
