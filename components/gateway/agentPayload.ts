/**
 * What the files step writes into an agent's /opt/data: config.yaml, .env, auth.json and documents, as one
 * payload for write-agent-files.sh's stdin. Pure: takes plain secret values; the component calls it inside an
 * apply over secret Outputs, so the payload itself stays secret.
 */
import { agentEnvVars } from "../config/agentEnv";
import { AgentConfig, AgentSecretValues } from "../config/model";
import { AgentFile, encodeAgentFilesPayload } from "../lib/agentFiles";
import { renderEnvFile } from "../lib/envFile";
import { renderHermesSettings, toYaml } from "../lib/hermesConfig";

// The .env's variables are a fact of the config model (its MCP rules check references against them).
export { agentEnvVars, dashboardSessionSecret, type EnvVar } from "../config/agentEnv";

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
