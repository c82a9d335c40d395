/**
 * The agent's .env, as variables: which names it holds and their values. The files step writes it
 * (gateway/agentPayload.ts); the config rules check `${VAR}` references in config.yaml against its names.
 */
import { createHmac } from "node:crypto";
import type { AgentConfig } from "./agent";
import { AgentSecretValues, platformSecret } from "./agentSecrets";
import { PLATFORMS } from "./platforms";

/** One .env variable. */
export interface EnvVar {
  name: string;
  value: string;
}

/**
 * The agent's .env: platform tokens and allow-lists, the LLM key, the API server, and the stack's own variables.
 * hermes reads this file at every start, so changing it costs a restart, not a container re-creation.
 */
export function agentEnvVars(
  agent: Omit<AgentConfig, "target" | "dataDir" | "gatewayIds">,
  secrets: AgentSecretValues,
): EnvVar[] {
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
