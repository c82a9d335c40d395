/**
 * Where an agent's snapshots are taken and how: the environments of install-agent-snapshots.sh and
 * prune-gateway-images.sh, the installed commands' names, and what makes a deploy take a pre-change snapshot. Pure
 * functions: the components pass them to remote commands, the system tier runs the same scripts with them.
 */
import * as crypto from "node:crypto";
import type { SnapshotsConfig } from "../config/snapshots";
import { readTemplate, shellQuote } from "../lib/remoteScript";

/** Where the installed files go on the node or Docker host (overridable only by the tests). */
export interface SnapshotPaths {
  binDir: string;
  libDir: string;
  confDir: string;
  unitDir: string;
  systemctl: string;
}

/** Debian's places for a local administrator's commands, libraries, configuration and units. */
export const DEFAULT_SNAPSHOT_PATHS: SnapshotPaths = {
  binDir: "/usr/local/sbin",
  libDir: "/usr/local/lib/hermes-lxc",
  confDir: "/etc/hermes-lxc/snapshots",
  unitDir: "/etc/systemd/system",
  systemctl: "systemctl",
};

/** Where prune-gateway-images.sh records each gateway's current and previous healthy image (on the Docker host). */
export const IMAGE_STATE_DIR = "/var/lib/hermes-lxc/images";

/** One agent's snapshot setup: where its data is, where snapshots go, how often. */
export interface SnapshotPlacement {
  /** `<lxc or host>-<agent>`: the id the installed commands take. */
  id: string;
  /** Agent name. */
  agent: string;
  /** The agent's /opt/data on the machine the snapshots run on (the node for an LXC, else the Docker host). */
  dataPath: string;
  /** The configured snapshot directory (the agent's snapshots go to `<directory>/<agent>`). */
  directory: string;
  /** The gateway container. */
  containerName: string;
  /** The LXC it runs in (restore reaches docker with `pct exec`); absent on a Docker host. */
  vmId?: number;
  /** Schedule and retention. */
  settings: SnapshotsConfig;
}

/** The instance id of an agent's snapshots on its node or host. */
export function snapshotId(scope: string, agent: string): string {
  return `${scope}-${agent}`;
}

/** Environment of install-agent-snapshots.sh. */
export function snapshotInstallEnv(
  p: SnapshotPlacement,
  paths: SnapshotPaths = DEFAULT_SNAPSHOT_PATHS,
): Record<string, string | number> {
  return {
    SNAPSHOT_ID: p.id,
    AGENT: p.agent,
    DATA_DIR: p.dataPath,
    SNAPSHOT_ROOT: p.directory,
    KEEP: p.settings.keep,
    MAX_AGE_DAYS: p.settings.maxAgeDays,
    SCHEDULE: p.settings.schedule,
    CONTAINER_NAME: p.containerName,
    VMID: p.vmId ?? "",
    BIN_DIR: paths.binDir,
    LIB_DIR: paths.libDir,
    CONF_DIR: paths.confDir,
    UNIT_DIR: paths.unitDir,
    SYSTEMCTL: paths.systemctl,
    SNAPSHOT_SH: readTemplate("snapshot-agent-data.sh"),
    RESTORE_SH: readTemplate("restore-agent-data.sh"),
  };
}

/** What an agent's removal from the stack undoes: its timer, units and conf file. Its snapshots stay. */
export function snapshotUninstallCommand(
  p: SnapshotPlacement,
  paths: SnapshotPaths = DEFAULT_SNAPSHOT_PATHS,
): string {
  const unit = `hermes-lxc-snapshot-${p.id}`;
  return [
    `${paths.systemctl} disable --now ${unit}.timer >/dev/null 2>&1 || true`,
    `rm -f ${shellQuote(`${paths.unitDir}/${unit}.timer`)} ${shellQuote(`${paths.unitDir}/${unit}.service`)} ${shellQuote(`${paths.confDir}/${p.id}.conf`)}`,
    `${paths.systemctl} daemon-reload >/dev/null 2>&1 || true`,
  ].join("; ");
}

/**
 * Removes an agent's data and snapshots for good, once it is no longer deployed: its /opt/data (`.env` and
 * `auth.json` hold its secrets in plain text), the copies a restore set aside, and every snapshot archive. Pulumi
 * never deletes them (README, "Rollback and destroy"); this is the one command that does, and it refuses while the
 * agent is still deployed (its snapshot conf file exists until `pulumi destroy` or the agent's removal runs).
 * One quoted argument, so that pasted after `ssh ...` it runs on the remote machine exactly as written.
 */
export function eraseCommand(p: SnapshotPlacement, paths: SnapshotPaths = DEFAULT_SNAPSHOT_PATHS): string {
  const conf = shellQuote(`${paths.confDir}/${p.id}.conf`);
  const data = shellQuote(p.dataPath);
  const script =
    `if [ -e ${conf} ]; then echo 'hermes-lxc: agent ${p.id} is still deployed: pulumi destroy (or remove the ` +
    `agent from the stack and pulumi up) first' >&2; exit 1; fi; ` +
    `rm -rf --one-file-system -- ${data} ${data}.before-restore-* ${data}.restoring-* ` +
    `${shellQuote(`${p.directory}/${p.agent}`)} && echo 'hermes-lxc: erased ${p.id}: data, set-aside copies, snapshots'`;
  return shellQuote(script);
}

/** `hermes-lxc-snapshot <id> <label>` as a command line. */
export function snapshotCommand(p: SnapshotPlacement, label: string, paths = DEFAULT_SNAPSHOT_PATHS): string {
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(label)) throw new Error(`snapshot label must be [a-z0-9-]: ${label}`);
  return `${paths.binDir}/hermes-lxc-snapshot ${p.id} ${label}`;
}

/** `hermes-lxc-restore <id> <what>`: `latest`, `list`, or a snapshot file name (the pasted output ends in `latest`). */
export function restoreCommand(
  p: SnapshotPlacement,
  what = "latest",
  paths = DEFAULT_SNAPSHOT_PATHS,
): string {
  return `${paths.binDir}/hermes-lxc-restore ${p.id} ${shellQuote(what)}`;
}

/**
 * The container inputs whose change makes the docker provider re-create the gateway container, plus the image id:
 * when this digest changes, a deploy first takes a pre-change snapshot. Memory and CPU limits are updated in place
 * (the engine tier's "memory change" step), so they are left out: changing them must not cost a snapshot.
 */
export function recreateDigest(imageId: string, spec: object): string {
  const {
    memoryMb: _m,
    memorySwapMb: _s,
    cpus: _c,
    ...recreating
  } = spec as Record<string, unknown> & { memoryMb?: unknown; memorySwapMb?: unknown; cpus?: unknown };
  return crypto.createHash("sha256").update(JSON.stringify({ imageId, recreating })).digest("hex");
}

/**
 * The pre-change snapshot as a remote command string. The digest rides along as a variable the command ignores:
 * a new digest changes the command, so Pulumi runs it (as an update) exactly when the container is about to be
 * re-created or its image changed, and never on a no-op `pulumi up`.
 */
export function preChangeSnapshotCommand(
  p: SnapshotPlacement,
  digest: string,
  paths = DEFAULT_SNAPSHOT_PATHS,
): string {
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error("the pre-change digest must be a sha256 hex digest");
  return `HERMES_LXC_CHANGE=${digest} ${snapshotCommand(p, "pre-change", paths)}`;
}

/** Environment of prune-gateway-images.sh after a healthy start on `imageId`. */
export function pruneImagesEnv(
  containerName: string,
  repository: string,
  imageId: string,
  stateDir = IMAGE_STATE_DIR,
): Record<string, string> {
  return { CONTAINER_NAME: containerName, REPOSITORY: repository, IMAGE: imageId, STATE_DIR: stateDir };
}
