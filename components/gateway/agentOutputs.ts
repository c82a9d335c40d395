/**
 * Ready-to-paste endpoints of an agent for the stack outputs: the API server's URL and the dashboard's SSH tunnel,
 * when they are enabled. Pure: the index wires them to the real address and ssh command.
 */
import type { AgentConfig } from "../config/model";

/** Where the agent's OpenAI-compatible API answers, or undefined when it is off. */
export function apiServerUrl(agent: AgentConfig, hostAddress: string): string | undefined {
  if (!agent.apiServer.enabled) return undefined;
  // Published on 0.0.0.0: reachable at the Docker host's address; published on one address: at that address.
  const host = agent.apiServer.bind === "0.0.0.0" ? hostAddress : agent.apiServer.bind;
  return `http://${host}:${agent.apiServer.port}/v1`;
}

/**
 * `ssh -N -L <port>:<bind>:<port> ...` to the Docker host, then http://localhost:<port>/ (basic auth): the
 * dashboard is published on the loopback of the Docker host by default, so a tunnel is how a workstation reaches it.
 * Undefined when the dashboard is off.
 */
export function dashboardTunnel(agent: AgentConfig, sshCommand: string): string | undefined {
  if (!agent.dashboard.enabled) return undefined;
  const bind = agent.dashboard.bind === "0.0.0.0" ? "127.0.0.1" : agent.dashboard.bind;
  const port = agent.dashboard.port;
  if (!sshCommand.startsWith("ssh ")) throw new Error("the dashboard tunnel needs an ssh command");
  return `ssh -N -L ${port}:${bind}:${port} ${sshCommand.slice(4)}   # then open http://localhost:${port}/`;
}
