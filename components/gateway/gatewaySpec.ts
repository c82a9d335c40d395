/**
 * The hermes gateway container, as plain data. One pure function produces it; the HermesGateway component turns
 * it into a `docker.Container`, and the system tests turn the very same object into `docker run` arguments, so
 * what is tested on a real LXC is what the program deploys.
 *
 * Only structural settings live here (changing them re-creates the container). Everything else the gateway reads
 * (platform allow-lists, API keys, config.yaml) is written into /opt/data by the files step, so changing it costs a
 * restart, not a re-creation.
 */
import type { AgentConfig } from "../config/model";

/** Mount of a directory of the Docker host into the container. */
export interface GatewayVolume {
  /** Path on the Docker host (inside the LXC). */
  hostPath: string;
  /** Path inside the container. */
  containerPath: string;
  readOnly: boolean;
}

/** A published port. */
export interface GatewayPort {
  /** Port inside the container. */
  internal: number;
  /** Port on the Docker host. */
  external: number;
  /** Address on the Docker host. */
  ip: string;
  protocol: "tcp";
}

/** Everything `docker run` needs for one agent's gateway. */
export interface GatewayContainerSpec {
  name: string;
  image: string;
  /** `gateway run`: the image's CMD is an interactive chat otherwise. */
  command: string[];
  /** Non-secret, structural environment only (secrets live in /opt/data/.env). */
  envs: string[];
  volumes: GatewayVolume[];
  ports: GatewayPort[];
  restart: "unless-stopped";
  memoryMb: number;
  /** Memory plus swap, in MB: equal to memoryMb (no swap). Docker's default when unset is twice the memory,
   * which the provider then reads back as a change on every update. */
  memorySwapMb: number;
  cpus: string;
  shmSizeMb: number;
  logDriver: "json-file";
  logOpts: Record<string, string>;
  labels: Record<string, string>;
}

/** The manager's name hermes shows ("this Hermes installation is managed by hermes-lxc"). */
export const HERMES_MANAGER = "hermes-lxc";

/** Label that the `hermes` wrapper in the LXC uses to find an agent's container. */
export const AGENT_LABEL = "hermes-lxc.agent";

/** The container spec of an agent's gateway. */
export function gatewayContainerSpec(
  agent: AgentConfig,
  log: { maxSize: string; maxFile: number },
): GatewayContainerSpec {
  // HERMES_UID/GID, never --user: the image starts as root, fixes ownership of /opt/data, then drops to the
  // hermes user itself; `--user` makes its entrypoint refuse to start.
  const envs = [`HERMES_UID=${agent.gatewayIds.uid}`, `HERMES_GID=${agent.gatewayIds.gid}`];
  // Any value but true/1/yes names the manager in hermes' own messages (hermes_cli/config.py get_managed_system);
  // "true" would tell users NixOS manages the install.
  if (agent.managed) envs.push(`HERMES_MANAGED=${HERMES_MANAGER}`);
  // The image's boot-time config migration cannot save under managed mode and would leave a copy of .env (secrets
  // included) in /opt/data on every boot; the migrate step runs it once per image instead (migrate-agent-config.sh).
  envs.push("HERMES_SKIP_CONFIG_MIGRATION=1");
  // The dashboard is an s6 service the image starts from the container environment, not from .env. It binds the
  // container's interface so Docker can publish it; hermes requires basic auth for that (enforced by the config).
  if (agent.dashboard.enabled)
    envs.push("HERMES_DASHBOARD=1", "HERMES_DASHBOARD_HOST=0.0.0.0", "HERMES_DASHBOARD_PORT=9119");
  const volumes: GatewayVolume[] = [
    { hostPath: agent.dataDir, containerPath: "/opt/data", readOnly: false },
    ...agent.workspaceMounts.map((m) => ({
      hostPath: m.source,
      containerPath: m.target,
      readOnly: m.readOnly,
    })),
  ];
  // Messaging connectors are outbound; only what the stack asks for is published (the model lists it).
  const ports: GatewayPort[] = agent.ports.map((p) => ({
    internal: p.containerPort,
    external: p.hostPort,
    ip: p.bind,
    protocol: "tcp",
  }));
  return {
    name: agent.containerName,
    image: agent.imageRef,
    command: ["gateway", "run"],
    envs,
    volumes,
    ports,
    restart: "unless-stopped",
    memoryMb: agent.memoryMb,
    memorySwapMb: agent.memoryMb,
    cpus: agent.cpus,
    // Chromium in the browser tools crashes with Docker's 64 MB default.
    shmSizeMb: agent.browserTools ? 1024 : 64,
    logDriver: "json-file",
    logOpts: { "max-size": log.maxSize, "max-file": String(log.maxFile) },
    labels: { [AGENT_LABEL]: agent.name, "hermes-lxc.managed-by": "pulumi" },
  };
}

/** `docker run` arguments for a spec (used by the system tier to start exactly what the program would). */
export function dockerRunArgs(spec: GatewayContainerSpec, imageOverride?: string): string[] {
  const args = ["run", "-d", "--name", spec.name, "--restart", spec.restart];
  for (const e of spec.envs) args.push("-e", e);
  for (const v of spec.volumes) args.push("-v", `${v.hostPath}:${v.containerPath}${v.readOnly ? ":ro" : ""}`);
  for (const p of spec.ports) args.push("-p", `${p.ip}:${p.external}:${p.internal}`);
  args.push(
    "--memory",
    `${spec.memoryMb}m`,
    "--memory-swap",
    `${spec.memorySwapMb}m`,
    "--cpus",
    spec.cpus,
    "--shm-size",
    `${spec.shmSizeMb}m`,
  );
  args.push("--log-driver", spec.logDriver);
  for (const [k, v] of Object.entries(spec.logOpts)) args.push("--log-opt", `${k}=${v}`);
  for (const [k, v] of Object.entries(spec.labels)) args.push("--label", `${k}=${v}`);
  args.push(imageOverride ?? spec.image, ...spec.command);
  return args;
}
