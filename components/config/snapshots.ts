/**
 * The `snapshots` block of an LXC and of a Docker host: when each agent's /opt/data is snapshotted, how many
 * snapshots are kept and for how long, and where they are stored. Pure: no Pulumi, no I/O.
 *
 * Why the program takes snapshots at all: Proxmox backups never include a bind mount (pve-container's
 * PVE/VZDump/LXC.pm logs "excluding bind mount point mpN (...) from backup (not a volume)", whatever its `backup`
 * flag says), and every agent's /opt/data is exactly such a bind mount.
 */
import { z } from "zod";
import { absolutePathProblem, isSameOrInside } from "../lib/validators";
import type { AgentConfig, DockerHostConfig, LxcConfig } from "./schema";

/** Where snapshots go by default: the node's (or host's) local disk, outside every bind mount, root only. */
export const DEFAULT_SNAPSHOT_PARENT = "/var/lib/hermes-lxc-snapshots";

/** Trees that belong to the OS, to Proxmox or to Docker: snapshots must not be written there. */
const FORBIDDEN_SNAPSHOT_TREES = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/proc",
  "/run",
  "/sbin",
  "/sys",
  "/tmp",
  "/usr",
  "/var/lib/docker",
  "/var/lib/containerd",
  "/var/lib/lxc",
  "/var/log",
  "/var/tmp",
];
/** Directories that may hold the snapshot directory below them but must not be it. */
const FORBIDDEN_SNAPSHOT_EXACT = [
  "/home",
  "/media",
  "/mnt",
  "/mnt/pve",
  "/opt",
  "/root",
  "/srv",
  "/var",
  "/var/lib",
];

const DAYS = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const TIME = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?";
/**
 * The accepted subset of systemd's OnCalendar syntax (systemd.time(7)): a keyword, or an optional weekday list, an
 * optional `*-*-*` and a time of day. Anything richer is refused rather than passed to systemd unchecked: the value
 * is written into a unit file.
 */
const ON_CALENDAR = new RegExp(`^((hourly|daily|weekly)|(${DAYS}(,${DAYS})* )?(\\*-\\*-\\* )?${TIME})$`);

/** Why `s` is not an accepted schedule, if it is not. */
export function scheduleProblem(s: string): string | undefined {
  if (s === "off" || ON_CALENDAR.test(s)) return undefined;
  return (
    "must be off, hourly, daily, weekly, or a time of day in systemd OnCalendar form: " +
    "'03:30', '*-*-* 03:30', 'Mon,Thu 03:30' (24-hour HH:MM[:SS], weekdays Mon..Sun)"
  );
}

/** Why `p` may not hold snapshots, if it may not (the bind-mount checks need the whole stack: snapshotProblems). */
export function snapshotDirectoryProblem(p: string): string | undefined {
  const basic = absolutePathProblem(p);
  if (basic) return basic;
  const tree = FORBIDDEN_SNAPSHOT_TREES.find((t) => isSameOrInside(p, t));
  if (tree) return `must not be inside ${tree}, which the operating system owns`;
  if (FORBIDDEN_SNAPSHOT_EXACT.includes(p)) return `must be a dedicated subdirectory, not ${p} itself`;
  return undefined;
}

function wholeNumber(min: number, max: number) {
  const message = `must be a whole number between ${min} and ${max}`;
  return z.preprocess(
    (v) => (typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v),
    z
      .number({ error: message })
      .int({ error: message })
      .min(min, { error: message })
      .max(max, { error: message }),
  );
}

function checkedString(problem: (s: string) => string | undefined) {
  return z.string({ error: "must be a string" }).superRefine((s, ctx) => {
    const reason = problem(s);
    if (reason) ctx.addIssue({ code: "custom", message: reason });
  });
}

const SHAPE = {
  /** When the scheduled snapshot runs (a systemd timer on the node or host), or `off`. */
  schedule: checkedString(scheduleProblem).default("daily"),
  /** How many snapshots per agent are kept (the newest one is never removed). */
  keep: wholeNumber(1, 1000).default(7),
  /** Snapshots older than this many days are removed (the newest one is never removed). */
  maxAgeDays: wholeNumber(1, 3650).default(30),
  /** Directory on the node (or Docker host) holding `<agent>/` snapshot directories; root only. */
  directory: checkedString(snapshotDirectoryProblem).optional(),
};
const ALLOWED = Object.keys(SHAPE).join(", ");

/** The `snapshots` block; every key optional. */
export const snapshotsSchema = z
  .strictObject(SHAPE, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key ${issue.keys.map((k) => `'${k}'`).join(", ")}; allowed keys: ${ALLOWED}`
        : undefined,
  })
  .prefault({});

/** A `snapshots` block as parsed (the directory may still be the default). */
export type SnapshotsConfig = z.output<typeof snapshotsSchema>;

/** The directory an LXC's or a Docker host's snapshots go to: the configured one, or the default for `name`. */
export function snapshotDirectory(name: string, snapshots: SnapshotsConfig): string {
  return snapshots.directory ?? `${DEFAULT_SNAPSHOT_PARENT}/${name}`;
}

/** What the cross-field check needs to know about one LXC or Docker host. */
export interface SnapshotScope {
  /** Key path of the block, e.g. `lxcs.hermes.snapshots`. */
  at: string;
  /** The LXC's or host's name. */
  name: string;
  /** Its parsed block. */
  snapshots: SnapshotsConfig;
  /** Bind-mounted directories on the same machine: state, bulk disks, a Docker host's dataRoot and workspace sources. */
  boundPaths: Array<{ path: string; at: string }>;
}

/**
 * A snapshot directory inside a bind-mounted directory would be visible (and writable) to the agent it protects,
 * and would be replaced along with the data by a restore; one that contains such a directory would mix snapshots
 * with user data. Both are refused, with the key paths of both sides.
 */
export function snapshotProblems(scopes: SnapshotScope[]): string[] {
  const problems: string[] = [];
  for (const scope of scopes) {
    const dir = snapshotDirectory(scope.name, scope.snapshots);
    for (const bound of scope.boundPaths) {
      if (isSameOrInside(dir, bound.path) || isSameOrInside(bound.path, dir)) {
        problems.push(
          `${scope.at}.directory: ${dir} and ${bound.at} ${bound.path} are nested; snapshots must be stored ` +
            "outside every bind-mounted directory (a restore replaces the data, and the agent must not reach them)",
        );
      }
    }
  }
  return problems;
}

/** The LXCs and Docker hosts with what is bind-mounted on each, as snapshotProblems needs them. */
export function snapshotScopes(
  lxcs: Array<LxcConfig>,
  dockerHosts: Array<DockerHostConfig>,
  agents: Array<AgentConfig>,
): SnapshotScope[] {
  // Every LXC's directories count for every LXC: they are all bind mounts on some node of the same cluster.
  const lxcBound = lxcs.flatMap((l) => [
    { path: l.stateMount.hostPath, at: `lxcs.${l.name}.stateMount.hostPath` },
    ...l.mounts.map((m, i) => ({ path: m.hostPath, at: `lxcs.${l.name}.mounts[${i}].hostPath` })),
  ]);
  return [
    ...lxcs.map((l) => ({
      at: `lxcs.${l.name}.snapshots`,
      name: l.name,
      snapshots: l.snapshots,
      boundPaths: lxcBound,
    })),
    ...dockerHosts.map((h) => ({
      at: `dockerHosts.${h.name}.snapshots`,
      name: h.name,
      snapshots: h.snapshots,
      boundPaths: [
        { path: h.dataRoot, at: `dockerHosts.${h.name}.dataRoot` },
        ...agents
          .filter((a) => a.target.kind === "dockerHost" && a.target.name === h.name)
          .flatMap((a) =>
            a.workspaceMounts.map((m, i) => ({
              path: m.source,
              at: `agents.${a.name}.workspaceMounts[${i}].source`,
            })),
          ),
      ],
    })),
  ];
}
