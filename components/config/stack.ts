/**
 * The whole stack: the top-level keys of the `hermes-lxc:` namespace, and parseStackConfig, which validates every
 * value and every rule between them before any resource is registered. Pure: no Pulumi, no I/O except through the
 * injected file reader for documents.
 */
import { z } from "zod";
import { AgentConfig } from "./agent";
import { ParseOptions, resolveAgent } from "./agentRules";
import { agentSchema } from "./agentSchema";
import { AgentSecretValues, agentSecretsSchema, lxcSecretsSchema } from "./agentSecrets";
import { DockerHostConfig, dockerHostSchema } from "./dockerHost";
import { ConfigError, Findings, checkUnique, formatPath } from "./errors";
import { KEY_PATH, dnsLabel, doc, secretValue, strictObject } from "./fields";
import { LxcConfig, lxcSchema } from "./lxc";
import { resolveLxc } from "./lxcRules";
import { checkStorages } from "./haRules";
import { snapshotProblems, snapshotScopes } from "./snapshotRules";
import { isSameOrInside } from "../lib/validators";
import {
  ProxmoxConfig,
  SshClientConfig,
  checkProxmoxTls,
  checkProxmoxUser,
  proxmoxSchema,
  sshClientSchema,
} from "./proxmox";

export type { ParseOptions } from "./agentRules";

/** Raw stack config as read from Pulumi: one entry per top-level key the program reads. */
export interface RawStackConfig {
  proxmox?: unknown;
  proxmoxPassword?: unknown;
  ssh?: unknown;
  lxcs?: unknown;
  dockerHosts?: unknown;
  agents?: unknown;
  agentSecrets?: unknown;
  lxcSecrets?: unknown;
}

/** Every top-level key of the `hermes-lxc:` namespace the program reads. */
export const TOP_LEVEL_KEYS = [
  "proxmox",
  "proxmoxPassword",
  "ssh",
  "lxcs",
  "dockerHosts",
  "agents",
  "agentSecrets",
  "lxcSecrets",
] as const;

/**
 * The top-level keys that hold secrets. They are not declared in Pulumi.yaml (the engine refuses a secret key's
 * default and requires one without a default on every stack); the program refuses them unless encrypted.
 */
export const SECRET_TOP_LEVEL_KEYS = ["proxmoxPassword", "agentSecrets", "lxcSecrets"] as const;

export const stackSchema = strictObject({
  proxmox: proxmoxSchema.optional(),
  proxmoxPassword: secretValue
    .optional()
    .meta(doc("secret string", "required with lxcs", "root@pam's password.")),
  ssh: sshClientSchema.prefault({}),
  lxcs: z.record(dnsLabel, lxcSchema).default({}),
  dockerHosts: z.record(dnsLabel, dockerHostSchema).default({}),
  agents: z.record(dnsLabel, agentSchema).default({}),
  agentSecrets: z.record(dnsLabel, agentSecretsSchema).default({}),
  lxcSecrets: z.record(dnsLabel, lxcSecretsSchema).default({}),
});

type ParsedStack = z.output<typeof stackSchema>;

/** The typed stack configuration. */
export interface StackConfig {
  proxmox?: ProxmoxConfig;
  ssh: SshClientConfig;
  lxcs: LxcConfig[];
  dockerHosts: DockerHostConfig[];
  agents: AgentConfig[];
}

/** The result of parsing: the model, the secrets, and warnings to show at preview. */
export interface ParsedStackConfig {
  config: StackConfig;
  secrets: {
    proxmoxPassword?: string;
    agents: Record<string, AgentSecretValues>;
    lxcs: Record<string, { rootPassword?: string }>;
  };
  warnings: string[];
}

/**
 * Parses and validates raw stack config. Throws ConfigError listing every problem; nothing is registered
 * before this returns.
 */
export function parseStackConfig(raw: RawStackConfig, options: ParseOptions): ParsedStackConfig {
  const input = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  // NUL ends a C string: whatever reads the value next (ssh, bash, the Proxmox API, YAML) would see less of it.
  const nul = nulPaths(input, []);
  if (nul.length > 0) throw new ConfigError(nul.map((p) => `${p}: contains a NUL character`));
  const result = stackSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map(
        (i) => `${formatPath(i.path)}: ${issueMessage(i).replaceAll(KEY_PATH, formatPath(i.path))}`,
      ),
    );
  }
  const findings: Findings = { problems: [], warnings: [] };
  const parsed = result.data;
  const model = resolveStack(parsed, options, findings);
  if (findings.problems.length > 0) throw new ConfigError(findings.problems);
  return {
    config: model,
    secrets: {
      proxmoxPassword: parsed.proxmoxPassword,
      agents: parsed.agentSecrets,
      lxcs: parsed.lxcSecrets,
    },
    warnings: findings.warnings,
  };
}

/** Key paths of every string (key or value) that holds NUL. */
function nulPaths(value: unknown, path: PropertyKey[]): string[] {
  if (typeof value === "string") return value.includes("\0") ? [formatPath(path)] : [];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const at = [...path, Array.isArray(value) ? Number(k) : k];
    return k.includes("\0") ? [`${formatPath(path)} (a key)`] : nulPaths(v, at);
  });
}

/** zod reports a bad record key as "Invalid key in record" and keeps the reason in a nested issue. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_key" && issue.issues.length > 0)
    return `invalid name: ${issue.issues[0].message}`;
  return issue.message;
}

/** Cross-field rules and defaults that depend on other keys. */
function resolveStack(parsed: ParsedStack, options: ParseOptions, findings: Findings): StackConfig {
  const { problems } = findings;
  const lxcNames = Object.keys(parsed.lxcs).sort();
  if (lxcNames.length > 0 || Object.values(parsed.agents).some((a) => a.lxc)) {
    if (!parsed.proxmox) problems.push("proxmox: is required when lxcs are configured (endpoint, nodes)");
    if (parsed.proxmoxPassword === undefined && lxcNames.length > 0) {
      problems.push(
        "proxmoxPassword: is required (root@pam's password): bind mounts and keyctl are refused to API tokens. " +
          "Set it with: pulumi config set --secret proxmoxPassword",
      );
    }
  }
  if (parsed.proxmox) {
    checkProxmoxUser(parsed.proxmox, findings);
    checkProxmoxTls(parsed.proxmox, findings);
    checkStorages(parsed.proxmox, findings);
  }

  const lxcs = lxcNames.map((name) => resolveLxc(name, parsed.lxcs[name], parsed.proxmox, findings));
  // VMIDs are unique across the cluster (one proxmox.endpoint), not per node: Proxmox refuses a second CT 118 on any
  // node (placement.ts meets it as "taken cluster-wide").
  checkUnique(
    lxcs.map((l) => [String(l.vmId), `lxcs.${l.name}.vmId`]),
    "uses a VMID already used by",
    problems,
  );
  checkUnique(
    lxcs.map((l) => [l.stateMount.hostPath, `lxcs.${l.name}.stateMount.hostPath`]),
    "uses the same host directory as",
    problems,
  );

  const dockerHosts = Object.keys(parsed.dockerHosts)
    .sort()
    .map((name) => ({ ...parsed.dockerHosts[name], name }));
  for (const name of Object.keys(parsed.dockerHosts)) {
    if (parsed.lxcs[name])
      problems.push(`dockerHosts.${name}: the name is already used by lxcs.${name}; names must be unique`);
  }

  // An agent whose host is refused is left out of the rules across agents (it has no machine or data directory).
  const agents = Object.keys(parsed.agents)
    .sort()
    .flatMap((name) => {
      const agent = resolveAgent(
        name,
        parsed.agents[name],
        parsed.agentSecrets[name] ?? agentSecretsSchema.parse({}),
        { lxcs, dockerHosts },
        options,
        findings,
      );
      return agent ? [agent] : [];
    });

  for (const name of Object.keys(parsed.lxcSecrets)) {
    if (!parsed.lxcs[name]) problems.push(`lxcSecrets.${name}: there is no LXC '${name}' in lxcs`);
  }
  for (const name of Object.keys(parsed.agentSecrets)) {
    if (!parsed.agents[name]) problems.push(`agentSecrets.${name}: there is no agent '${name}' in agents`);
  }
  // Two agents on one data directory corrupt each other's sessions (hermes' Docker guide), and an agent whose data
  // directory holds another's can read and rewrite the other's .env and auth.json. Names are unique, so two data
  // directories (<root>/<name>) are never equal: they nest when one Docker host entry's dataRoot is inside another
  // agent's directory. Hosts are told apart by address, not by name: two entries may be one machine.
  const machine = machineOf(lxcs, dockerHosts);
  agents.forEach((a, i) => {
    for (const b of agents.slice(0, i)) {
      if (machine(a) !== machine(b)) continue;
      if (!isSameOrInside(a.dataDir, b.dataDir) && !isSameOrInside(b.dataDir, a.dataDir)) continue;
      problems.push(
        `agents.${a.name}: its data directory (${a.dataDir}) and that of agents.${b.name} (${b.dataDir}) are one inside ` +
          "the other on the same machine, so each could read the other's secrets: give each agent its own " +
          "(a dockerHosts.<name>.dataRoot outside the other's)",
      );
    }
  });
  checkPublishedPorts(agents, dockerHosts, machine, problems);
  problems.push(...snapshotProblems(snapshotScopes(lxcs, dockerHosts, agents)));

  return { proxmox: parsed.proxmox, ssh: parsed.ssh, lxcs, dockerHosts, agents };
}

/**
 * Two listeners on one host collide when they use the same port and their addresses overlap: the same address, or
 * either one the wildcard 0.0.0.0. The host's own sshd (port 22 in an LXC, `port` on a Docker host, listening on
 * every address) is one of them: the program and the user reach the host through it.
 */
/**
 * The machine an agent runs on, as an address when the stack knows it: a Docker host's address, an LXC's static
 * address. An LXC on DHCP is known only by its name. Two entries with one address are one machine.
 */
function machineOf(lxcs: LxcConfig[], dockerHosts: DockerHostConfig[]): (agent: AgentConfig) => string {
  return (agent) => {
    if (agent.target.kind === "lxc") {
      const ipv4 = lxcs.find((l) => l.name === agent.target.name)?.network.ipv4;
      // A name key has a colon, which no address has: a Docker host at the address "lxcs.x" is not LXC x.
      return ipv4 && ipv4 !== "dhcp" ? ipv4.address.split("/")[0] : `lxcs:${agent.target.name}`;
    }
    const host = dockerHosts.find((h) => h.name === agent.target.name);
    return host ? host.address.toLowerCase() : `dockerHosts:${agent.target.name}`;
  };
}

function checkPublishedPorts(
  agents: AgentConfig[],
  dockerHosts: DockerHostConfig[],
  machine: (agent: AgentConfig) => string,
  problems: string[],
): void {
  type Listener = { port: number; bind: string; where: string; sshd?: boolean };
  const taken = new Map<string, Listener[]>();
  const claim = (host: string, listener: Listener) => {
    const { port, bind, where } = listener;
    const onHost = taken.get(host) ?? [];
    const clash = onHost.find(
      (t) => t.port === port && (t.bind === bind || t.bind === "0.0.0.0" || bind === "0.0.0.0"),
    );
    if (clash) problems.push(`${where}: port ${port} is already taken on that machine by ${clash.where}`);
    else onHost.push(listener);
    taken.set(host, onHost);
  };
  const sshd = (agent: AgentConfig) =>
    agent.target.kind === "lxc"
      ? { port: 22, where: `the sshd of lxcs.${agent.target.name}` }
      : {
          port: dockerHosts.find((h) => h.name === agent.target.name)?.port ?? 22,
          where: `the sshd of dockerHosts.${agent.target.name} (its port)`,
        };
  for (const agent of agents) {
    const host = machine(agent);
    const { port, where } = sshd(agent);
    // One sshd per machine: entries naming the same machine reach the same daemon.
    if (!(taken.get(host) ?? []).some((t) => t.sshd && t.port === port))
      claim(host, { port, bind: "0.0.0.0", where, sshd: true });
    for (const p of agent.ports) {
      claim(host, { port: p.hostPort, bind: p.bind, where: `agents.${agent.name}.${p.what}.port` });
    }
  }
}
