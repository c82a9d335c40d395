/** The rules of one agent that span fields and other keys: its host, mounts, platforms, secrets, ports, files. */
import * as path from "node:path";
import { literalApiKeyProblems } from "../lib/hermesConfig";
import { agentEnvVars } from "./agentEnv";
import { hostPathProblem } from "../lib/validators";
import { AgentConfig, AgentDocument, PublishedPort, RESERVED_ENV, WorkspaceMount } from "./agent";
import { ParsedAgent } from "./agentSchema";
import { AgentSecretValues, platformSecret } from "./agentSecrets";
import type { DockerHostConfig } from "./dockerHost";
import { Findings, checkUnique } from "./errors";
import { DEFAULT_HERMES_IMAGE, imagePin } from "./hermesImage";
import { checkMcpReferences } from "./mcpRules";
import type { LxcConfig } from "./lxc";
import { PLATFORMS } from "./platforms";
import { accessEnvProblem, settingsAccessProblems } from "./platforms/access";

/** How document files are read (relative to the project directory). */
export interface ParseOptions {
  readFile: (relativePath: string) => string;
}

/** Resolves one agent against its host and checks it with its secrets. */
export function resolveAgent(
  name: string,
  agent: ParsedAgent,
  secrets: AgentSecretValues,
  hosts: { lxcs: LxcConfig[]; dockerHosts: DockerHostConfig[] },
  options: ParseOptions,
  findings: Findings,
): AgentConfig | undefined {
  const { problems, warnings } = findings;
  const at = `agents.${name}`;
  const secretsAt = `agentSecrets.${name}`;

  // Its host: exactly one of lxc / dockerHost, a key of the stack's. An agent whose host is refused gets no target,
  // data directory or ids (no placeholder that the rules across agents would then compare); its other rules still run.
  let host: Pick<AgentConfig, "target" | "dataDir" | "gatewayIds"> | undefined;
  let lxc: LxcConfig | undefined;
  if ((agent.lxc === undefined) === (agent.dockerHost === undefined)) {
    problems.push(`${at}: set exactly one of lxc (a key of lxcs) or dockerHost (a key of dockerHosts)`);
  } else if (agent.lxc !== undefined) {
    lxc = hosts.lxcs.find((l) => l.name === agent.lxc);
    if (!lxc)
      problems.push(
        `${at}.lxc: is not a key of lxcs (known: ${hosts.lxcs.map((l) => l.name).join(", ") || "none"})`,
      );
    else
      host = {
        target: { kind: "lxc", name: lxc.name },
        dataDir: `${lxc.stateMount.containerPath}/${name}`,
        gatewayIds: lxc.gateway,
      };
  } else {
    const dockerHost = hosts.dockerHosts.find((h) => h.name === agent.dockerHost);
    if (!dockerHost)
      problems.push(
        `${at}.dockerHost: is not a key of dockerHosts (known: ${hosts.dockerHosts.map((h) => h.name).join(", ") || "none"})`,
      );
    else
      host = {
        target: { kind: "dockerHost", name: dockerHost.name },
        dataDir: `${dockerHost.dataRoot}/${name}`,
        gatewayIds: dockerHost.gateway,
      };
  }

  const workspaceMounts = resolveWorkspaceMounts(at, agent, lxc, problems);
  const platforms = checkPlatforms(name, agent, secrets, findings);
  checkSecrets(at, secretsAt, agent, secrets, findings);

  // .env names: the program owns the platform and container variables; one name, one source.
  const envSources = new Map<string, string>();
  const claim = (envName: string, where: string) => {
    const other = envSources.get(envName);
    if (other) problems.push(`${where}: ${envName} is also set by ${other}`);
    else envSources.set(envName, where);
  };
  // Who may talk to the agent is decided by the typed platform blocks alone (platforms/access.ts).
  for (const key of Object.keys(agent.environment)) {
    const access = accessEnvProblem(key, name, PLATFORMS);
    if (access) problems.push(`${at}.environment.${key}: is managed by the program; it ${access}`);
    else if (RESERVED_ENV.has(key))
      problems.push(`${at}.environment.${key}: is managed by the program; use the typed setting instead`);
    claim(key, `${at}.environment.${key}`);
  }
  for (const key of Object.keys(secrets.env)) {
    const access = accessEnvProblem(key, name, PLATFORMS);
    if (access) problems.push(`${secretsAt}.env.${key}: is managed by the program; it ${access}`);
    else if (RESERVED_ENV.has(key))
      problems.push(`${secretsAt}.env.${key}: is managed by the program; use the typed secret instead`);
    claim(key, `${secretsAt}.env.${key}`);
  }
  if (agent.llm) {
    if (RESERVED_ENV.has(agent.llm.apiKeyEnv))
      problems.push(`${at}.llm.apiKeyEnv: names a variable the program writes itself; pick another name`);
    claim(agent.llm.apiKeyEnv, `${at}.llm.apiKeyEnv`);
  }
  for (const problem of literalApiKeyProblems(agent.settings)) problems.push(`${at}.${problem}`);
  problems.push(...settingsAccessProblems(agent.settings, at, PLATFORMS));

  for (const [server, def] of Object.entries(agent.mcpServers)) {
    // An empty command or url counts as unset, as when config.yaml is rendered (lib/hermesConfig.ts).
    if (!def.command === !def.url) {
      problems.push(`${at}.mcpServers.${server}: set exactly one of command (stdio) or url (HTTP)`);
    }
  }

  const documents = readDocuments(at, agent, options, problems);
  const { tag: imageTag, digest: imageDigest } = imagePin(at, agent, warnings);
  const imageRef = `${agent.image}:${imageTag}${imageDigest ? `@${imageDigest}` : ""}`;
  const ports = publishedPorts(agent, platforms);
  const { lxc: _l, dockerHost: _d, workspaceMounts: _w, documents: _docs, ...rest } = agent; // replaced below
  const resolved: Omit<AgentConfig, "target" | "dataDir" | "gatewayIds"> = {
    ...rest,
    imageTag,
    imageDigest,
    llm: agent.llm && {
      ...agent.llm,
      // No key, no `api_key: ${VAR}`: hermes would send the unexpanded text as the key.
      apiKeyEnv: secrets.llmApiKey === undefined ? undefined : agent.llm.apiKeyEnv,
    },
    platforms,
    name,
    containerName: `hermes-${name}`,
    imageRef,
    workspaceMounts,
    documents,
    ports,
  };
  // `${VAR}` in MCP servers must name a variable of the .env this agent gets. Stage 2 of the image adds
  // API_SERVER_KEY itself when the file has none (docker/stage2-hook.sh), so that one is always there.
  const envNames = new Set(["API_SERVER_KEY", ...agentEnvVars(resolved, secrets).map((v) => v.name)]);
  checkMcpReferences(at, secretsAt, agent.mcpServers, envNames, findings);
  return host && { ...resolved, ...host };
}

/** Bulk mounts: hermes' file tools only write under /opt/data, so every mount goes inside it. */
function resolveWorkspaceMounts(
  at: string,
  agent: ParsedAgent,
  lxc: LxcConfig | undefined,
  problems: string[],
): WorkspaceMount[] {
  const lxcMounts = lxc?.mounts ?? [];
  const mounts =
    agent.workspaceMounts === undefined
      ? lxcMounts.map((m) => ({
          source: m.containerPath,
          target: `/opt/data/workspace/${m.name}`,
          readOnly: m.readOnly,
        }))
      : agent.workspaceMounts.map((wm, i) => {
          let source = wm.source;
          const mount = lxcMounts.find((m) => m.name === wm.source);
          if (agent.dockerHost === undefined) {
            // On an LXC: a mount name of it (none to check against when the LXC itself is refused).
            if (lxc && !mount) {
              problems.push(
                `${at}.workspaceMounts[${i}].source: is not a mount name of lxcs.${lxc.name} (known: ${lxcMounts.map((m) => m.name).join(", ") || "none"})`,
              );
            } else if (mount) source = mount.containerPath;
          } else {
            // The same rule as every other host directory handed to the gateway (an LXC's mounts, a host's
            // dataRoot): a Docker host's /etc or /var/lib/docker bound read-write into the agent is the host's.
            const reason = hostPathProblem(wm.source);
            if (reason)
              problems.push(
                `${at}.workspaceMounts[${i}].source: on a Docker host this is a host path and ${reason}`,
              );
          }
          const defaultName = mount?.name ?? path.posix.basename(wm.source);
          const targetPath = wm.target ?? `/opt/data/workspace/${defaultName}`;
          if (!targetPath.startsWith("/opt/data/")) {
            problems.push(
              `${at}.workspaceMounts[${i}].target: must be under /opt/data/ (hermes' file tools only write there)`,
            );
          }
          return { source, target: targetPath, readOnly: wm.readOnly || (mount?.readOnly ?? false) };
        });
  checkUnique(
    mounts.map((m, i) => [m.target, `${at}.workspaceMounts[${i}].target`]),
    "uses the same target as",
    problems,
  );
  return mounts;
}

/** Each enabled platform's required secrets, formats and own rules; an open or unlisted bot is warned about. */
function checkPlatforms(
  name: string,
  agent: ParsedAgent,
  secrets: AgentSecretValues,
  findings: Findings,
): Record<string, Record<string, unknown>> {
  const at = `agents.${name}`;
  const secretsAt = `agentSecrets.${name}`;
  const enabled: Record<string, Record<string, unknown>> = {};
  const plain: Record<string, string | undefined> = {};
  for (const platform of PLATFORMS)
    for (const s of platform.secrets) plain[s.key] = platformSecret(secrets, s.key);
  for (const platform of PLATFORMS) {
    const block = agent.platforms[platform.key];
    const blockAt = `${at}.platforms.${platform.key}`;
    for (const s of platform.secrets) {
      const value = plain[s.key];
      if (value !== undefined) {
        if (!block) {
          findings.problems.push(
            `${secretsAt}.${s.key}: is set but ${blockAt} is not; enable the platform or remove it`,
          );
        }
        const problem = s.problem?.(value);
        if (problem) findings.problems.push(`${secretsAt}.${s.key}: ${problem}`);
      } else if (block) {
        const why = s.requiredBecause?.(block);
        if (why) {
          findings.problems.push(
            `${secretsAt}.${s.key}: is required because ${at}.${why}. ` +
              `Set it with: pulumi config set --secret --path '${secretsAt}.${s.key}'`,
          );
        }
      }
    }
    if (!block) continue;
    enabled[platform.key] = block;
    const lacks = platform.imageLacks?.(block);
    if (lacks && agent.image === DEFAULT_HERMES_IMAGE.repository) {
      findings.problems.push(
        `${blockAt}: the ${agent.image} image does not ship ${lacks} and installs nothing at runtime ` +
          `(HERMES_DISABLE_LAZY_INSTALLS=1), so hermes cannot connect it; set ${at}.image to an image that has it`,
      );
    } else if (lacks) {
      findings.warnings.push(`${blockAt}: ${at}.image must ship ${lacks} (the published image does not).`);
    }
    platform.rules?.(block, plain, { block: blockAt, secrets: secretsAt }, findings);
    const access = platform.access?.(block);
    if (access?.allowAll) {
      findings.warnings.push(
        `${blockAt}.allowAllUsers is on: anyone who finds the bot can use the agent and its tools.`,
      );
    } else if (access && !access.allowListed) {
      findings.warnings.push(
        `${blockAt} has no allow-list: hermes ignores everyone until a user is paired. Message the bot, then approve ` +
          `the code it gives you with the command in the stack output agents.${name}.pairing.` +
          `${platform.hermesName}: pulumi stack output agents`,
      );
    }
  }
  return enabled;
}

/** The LLM key, the API server key, the dashboard's basic auth and auth.json. */
function checkSecrets(
  at: string,
  secretsAt: string,
  agent: ParsedAgent,
  secrets: AgentSecretValues,
  { problems, warnings }: Findings,
): void {
  if (agent.llm && secrets.llmApiKey === undefined) {
    warnings.push(`${at}.llm is set but ${secretsAt}.llmApiKey is not: config.yaml will carry no api_key.`);
  }
  if (secrets.llmApiKey !== undefined && !agent.llm) {
    problems.push(
      `${secretsAt}.llmApiKey: is set but ${at}.llm is not; configure the endpoint (baseUrl, model)`,
    );
  }
  if (agent.apiServer.enabled) {
    if (secrets.apiServerKey === undefined)
      problems.push(
        `${secretsAt}.apiServerKey: is required because ${at}.apiServer.enabled is true. ` +
          `Set it with: pulumi config set --secret --path '${secretsAt}.apiServerKey'`,
      );
    else if (secrets.apiServerKey.length < 16)
      problems.push(
        `${secretsAt}.apiServerKey: must be at least 16 characters (generate one with: openssl rand -hex 32)`,
      );
  }
  if (agent.dashboard.enabled) {
    const loopback = agent.dashboard.bind.startsWith("127.");
    if (!agent.dashboard.basicAuthUser || secrets.dashboardPassword === undefined) {
      problems.push(
        `${at}.dashboard: basicAuthUser and ${secretsAt}.dashboardPassword are required: Docker publishes the ` +
          "dashboard through the container's network interface, and hermes refuses a non-loopback bind without an auth " +
          `provider. Without basic auth, leave the dashboard off${loopback ? "" : "; and a non-loopback bind would expose it"}.`,
      );
    }
  }
  if (secrets.authJson !== undefined) {
    try {
      JSON.parse(secrets.authJson);
    } catch {
      problems.push(`${secretsAt}.authJson: is not valid JSON`);
    }
  }
  if (agent.authJsonForceOverwrite && secrets.authJson === undefined) {
    problems.push(`${at}.authJsonForceOverwrite: is true but ${secretsAt}.authJson is not set`);
  }
}

/** SOUL.md is the persona in HERMES_HOME; everything else lands in the workspace. */
function readDocuments(
  at: string,
  agent: ParsedAgent,
  options: ParseOptions,
  problems: string[],
): AgentDocument[] {
  const documents: AgentDocument[] = [];
  for (const [docName, doc] of Object.entries(agent.documents)) {
    let content: string;
    if ("text" in doc) content = doc.text;
    else {
      try {
        content = options.readFile(doc.file);
      } catch (e) {
        problems.push(`${at}.documents["${docName}"].file: cannot be read: ${(e as Error).message}`);
        continue;
      }
    }
    if (content.includes("\0"))
      problems.push(`${at}.documents["${docName}"]: must be text (contains NUL bytes)`);
    documents.push({ path: docName === "SOUL.md" ? "SOUL.md" : `workspace/${docName}`, content });
  }
  return documents;
}

/** Every port the agent's container publishes: the API server, the dashboard, and platforms' inbound ports. */
function publishedPorts(
  agent: ParsedAgent,
  platforms: Record<string, Record<string, unknown>>,
): PublishedPort[] {
  const ports: PublishedPort[] = [];
  if (agent.apiServer.enabled)
    ports.push({
      what: "apiServer",
      containerPort: 8642,
      hostPort: agent.apiServer.port,
      bind: agent.apiServer.bind,
    });
  if (agent.dashboard.enabled)
    ports.push({
      what: "dashboard",
      containerPort: 9119,
      hostPort: agent.dashboard.port,
      bind: agent.dashboard.bind,
    });
  for (const platform of PLATFORMS) {
    const block = platforms[platform.key];
    const inbound = block && platform.inbound?.(block);
    if (inbound?.hostPort !== undefined)
      ports.push({
        what: `platforms.${platform.key}.publish`,
        containerPort: inbound.containerPort,
        hostPort: inbound.hostPort,
        bind: inbound.bind,
      });
  }
  return ports;
}
