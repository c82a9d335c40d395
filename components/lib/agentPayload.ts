/**
 * What the files step writes into an agent's /opt/data: config.yaml, .env, auth.json and documents, as one
 * payload for write-agent-files.sh's stdin. Pure: takes plain secret values; the component calls it inside an
 * apply over secret Outputs, so the payload itself stays secret.
 */
import { createHmac } from "node:crypto";
import type { AgentConfig, AgentSecretValues } from "../config/schema";
import { AgentFile, encodeAgentFilesPayload } from "./agentFiles";
import { renderEnvFile } from "./envFile";
import { renderHermesSettings, toYaml } from "./hermesConfig";

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
  const list = (values: string[] | undefined) => (values && values.length > 0 ? values.join(",") : undefined);

  if (agent.llm?.apiKeyEnv) add(agent.llm.apiKeyEnv, secrets.llmApiKey);
  const { telegram, discord, slack } = agent.platforms;
  if (telegram) {
    add("TELEGRAM_BOT_TOKEN", secrets.telegramBotToken);
    add("TELEGRAM_ALLOWED_USERS", list(telegram.allowedUsers));
    if (telegram.allowAllUsers) add("TELEGRAM_ALLOW_ALL_USERS", "true");
    add("TELEGRAM_HOME_CHANNEL", telegram.homeChannel);
  }
  if (discord) {
    add("DISCORD_BOT_TOKEN", secrets.discordBotToken);
    add("DISCORD_ALLOWED_USERS", list(discord.allowedUsers));
    add("DISCORD_ALLOWED_ROLES", list(discord.allowedRoles));
    add("DISCORD_ALLOWED_CHANNELS", list(discord.allowedChannels));
    if (discord.requireMention !== undefined) add("DISCORD_REQUIRE_MENTION", String(discord.requireMention));
    if (discord.allowAllUsers) add("DISCORD_ALLOW_ALL_USERS", "true");
  }
  if (slack) {
    add("SLACK_BOT_TOKEN", secrets.slackBotToken);
    add("SLACK_APP_TOKEN", secrets.slackAppToken);
    add("SLACK_ALLOWED_USERS", list(slack.allowedUsers));
    if (slack.allowAllUsers) add("SLACK_ALLOW_ALL_USERS", "true");
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
