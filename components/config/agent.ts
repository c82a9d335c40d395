/** The resolved agent the components deploy, and the names the program reserves in its .env. */
import type { ParsedAgent } from "./agentSchema";
import { PLATFORMS } from "./platforms";

/** A bulk mount of an agent's gateway container: a path on the Docker host shown under /opt/data. */
export interface WorkspaceMount {
  /** Path on the Docker host (inside the LXC). */
  source: string;
  /** Path inside the gateway container. */
  target: string;
  readOnly: boolean;
}

/** A document the agent reads. */
export interface AgentDocument {
  /** Path relative to the agent's data directory (SOUL.md, or workspace/<name>). */
  path: string;
  content: string;
}

/** A port of the gateway container published on its Docker host. */
export interface PublishedPort {
  /** What listens there, as a key path (`apiServer`, `platforms.webhook`). */
  what: string;
  /** Port inside the container. */
  containerPort: number;
  /** Port on the Docker host. */
  hostPort: number;
  /** Address on the Docker host. */
  bind: string;
}

/** One agent, fully defaulted and resolved against its host. */
export interface AgentConfig extends Omit<
  ParsedAgent,
  "lxc" | "dockerHost" | "workspaceMounts" | "documents" | "imageTag" | "llm" | "platforms"
> {
  /** Image tag actually deployed (the pinned default when the stack sets none). */
  imageTag: string;
  /** The LLM endpoint; apiKeyEnv is unset when the stack holds no key for it. */
  llm?: Omit<NonNullable<ParsedAgent["llm"]>, "apiKeyEnv"> & { apiKeyEnv?: string };
  /** Enabled platforms' blocks, by registry key (see config/platforms). */
  platforms: Record<string, Record<string, unknown>>;
  /** Key in `agents`. */
  name: string;
  /** Where it runs. */
  target: { kind: "lxc"; name: string } | { kind: "dockerHost"; name: string };
  /** The agent's data directory on the Docker host: the container's /opt/data. */
  dataDir: string;
  /** Docker container name. */
  containerName: string;
  /** Image reference, digest-pinned when configured. */
  imageRef: string;
  /** Uid/gid of the gateway process. */
  gatewayIds: { uid: number; gid: number };
  workspaceMounts: WorkspaceMount[];
  documents: AgentDocument[];
  /** Every port published on the Docker host. */
  ports: PublishedPort[];
}

/** Container-level variables the program sets itself, outside any platform. */
const PROGRAM_ENV = [
  "HERMES_UID",
  "HERMES_GID",
  "PUID",
  "PGID",
  "HERMES_HOME",
  "HERMES_MANAGED",
  "HOME",
  "API_SERVER_ENABLED",
  "API_SERVER_KEY",
  "API_SERVER_HOST",
  "API_SERVER_PORT",
  "HERMES_DASHBOARD",
  "HERMES_DASHBOARD_HOST",
  "HERMES_DASHBOARD_PORT",
  "HERMES_DASHBOARD_BASIC_AUTH_USERNAME",
  "HERMES_DASHBOARD_BASIC_AUTH_PASSWORD",
  "HERMES_DASHBOARD_BASIC_AUTH_SECRET",
  "HERMES_SKIP_CONFIG_MIGRATION",
];

/** Every variable the program writes; the stack must not set them through `environment` or secrets' `env`.
 * Platform variables come from the registry, so a new platform cannot forget to reserve its names. */
export const RESERVED_ENV: ReadonlySet<string> = new Set([
  ...PROGRAM_ENV,
  ...PLATFORMS.flatMap((p) => [...Object.keys(p.variables), ...p.secrets.map((s) => s.env)]),
]);
