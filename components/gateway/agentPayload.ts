/**
 * What the files step writes into an agent's /opt/data: config.yaml, .env, auth.json and documents, as one
 * payload for write-agent-files.sh's stdin. Pure: takes plain secret values; the component calls it inside an
 * apply over secret Outputs, so the payload itself stays secret.
 */
import { createHmac } from "node:crypto";
import { AgentConfig, AgentSecretValues, PLATFORMS, platformSecret } from "../config/model";
import { AgentFile, encodeAgentFilesPayload } from "../lib/agentFiles";
import { renderEnvFile } from "../lib/envFile";
import { renderHermesSettings, toYaml } from "../lib/hermesConfig";

/** One .env variable. */
export interface EnvVar {
  name: string;
  value: string;
}

/**
 * The agent's .env: platform tokens and allow-lists, the LLM key, the API server, and the stack's own variables.
 * hermes reads this file at every start, so changing it costs a restart, not a container re-creation.
 */
export function agentEnvVars(agent: AgentConfig, secrets: AgentSecretValues): EnvVar[] {
  const vars: EnvVar[] = [];
  const add = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== "") vars.push({ name, value });
  };

  if (agent.llm?.apiKeyEnv) add(agent.llm.apiKeyEnv, secrets.llmApiKey);
  // Each enabled platform: its credentials and the variables its registry module declares.
  for (const platform of PLATFORMS) {
    const block = agent.platforms[platform.key];
    if (!block) continue;
    for (const s of platform.secrets) add(s.env, platformSecret(secrets, s.key));
    for (const [name, value] of Object.entries(platform.variables)) add(name, value(block));
  }
  if (agent.apiServer.enabled) {
    // Versions of hermes disagree on what enables the API server: set both the flag and the key.
    add("API_SERVER_ENABLED", "true");
    // Inside the container: Docker's port mapping reaches the container's own interface, not its loopback.
    add("API_SERVER_HOST", "0.0.0.0");
    add("API_SERVER_PORT", "8642");
    add("API_SERVER_KEY", secrets.apiServerKey);
  }
  if (agent.dashboard.enabled) {
    add("HERMES_DASHBOARD_BASIC_AUTH_USERNAME", agent.dashboard.basicAuthUser);
    add("HERMES_DASHBOARD_BASIC_AUTH_PASSWORD", secrets.dashboardPassword);
    add("HERMES_DASHBOARD_BASIC_AUTH_SECRET", dashboardSessionSecret(agent.name, secrets.dashboardPassword));
  }
  for (const [name, value] of Object.entries(agent.environment)) add(name, value);
  for (const [name, value] of Object.entries(secrets.env)) add(name, value);
  return vars;
}

/**
 * The key hermes signs dashboard sessions with. Without one, its basic-auth provider makes a random key per process
 * (plugins/dashboard_auth/basic), so every restart, and this program restarts on every change, logs everyone out.
 * Derived from the password, so it is as secret as the password, stable across deploys, and a new password ends
 * every session.
 */
export function dashboardSessionSecret(agentName: string, password: string | undefined): string | undefined {
  if (password === undefined) return undefined;
  return createHmac("sha256", password)
    .update(`hermes-lxc dashboard session key for agent ${agentName}`)
    .digest("hex");
}

/** The rendered config.yaml content (declared part; merged with the file on disk by the files step). */
export function agentConfigYaml(agent: AgentConfig): string {
  return toYaml(
    renderHermesSettings({
      llm: agent.llm,
      mcpServers: agent.mcpServers,
      platformToolsets: agent.platformToolsets,
      settings: agent.settings,
    }),
  );
}

/** Every file of the agent's data directory that the stack declares. */
export function agentFiles(agent: AgentConfig, secrets: AgentSecretValues): AgentFile[] {
  const files: AgentFile[] = [
    {
      path: "config.yaml",
      mode: 0o640,
      policy: agent.configMode === "merge" ? "merge-yaml" : "replace",
      content: agentConfigYaml(agent),
    },
    { path: ".env", mode: 0o600, policy: "replace", content: renderEnvFile(agentEnvVars(agent, secrets)) },
  ];
  if (secrets.authJson !== undefined) {
    // hermes refreshes OAuth tokens into auth.json at runtime: seed it once unless the stack insists.
    files.push({
      path: "auth.json",
      mode: 0o600,
      policy: agent.authJsonForceOverwrite ? "replace" : "seed",
      content: secrets.authJson,
    });
  }
  for (const doc of agent.documents)
    files.push({ path: doc.path, mode: 0o640, policy: "replace", content: doc.content });
  return files;
}

/** The stdin payload of write-agent-files.sh for an agent. */
export function agentFilesPayload(agent: AgentConfig, secrets: AgentSecretValues): string {
  return encodeAgentFilesPayload(agentFiles(agent, secrets));
}
