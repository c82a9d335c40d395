/**
 * The `snapshots` block of an LXC and of a Docker host: when each agent's /opt/data is snapshotted, how many
 * snapshots are kept and for how long, and where they are stored. Pure: no Pulumi, no I/O.
 *
 * Why the program takes snapshots at all: Proxmox backups never include a bind mount (pve-container's
 * PVE/VZDump/LXC.pm logs "excluding bind mount point mpN (...) from backup (not a volume)", whatever its `backup`
 * flag says), and every agent's /opt/data is exactly such a bind mount.
 */
import { z } from "zod";
import { OS_TREES, absolutePathProblem, isSameOrInside } from "../lib/validators";
import { checked, doc, int, strictObject } from "./fields";

/** Where snapshots go by default: the node's (or host's) local disk, outside every bind mount, root only. */
export const DEFAULT_SNAPSHOT_PARENT = "/var/lib/hermes-lxc-snapshots";

/** Trees that belong to the OS, to Proxmox or to Docker: snapshots must not be written there. */
export const FORBIDDEN_SNAPSHOT_TREES = [
  ...OS_TREES,
  "/tmp",
  "/var/lib/docker",
  "/var/lib/containerd",
  "/var/lib/lxc",
  "/var/log",
  "/var/tmp",
];
/** Directories that may hold the snapshot directory below them but must not be it. */
export const FORBIDDEN_SNAPSHOT_EXACT = [
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

/** The `snapshots` block of an LXC or a Docker host; every key optional. */
export const snapshotsSchema = strictObject({
  schedule: checked(scheduleProblem)
    .default("daily")
    .meta(
      doc(
        "`off`, `hourly`, `daily`, `weekly`, `HH:MM`, `Mon,Thu 03:30`",
        "`daily`",
        "When the scheduled snapshot of each agent runs (a systemd timer where the data lives).",
      ),
    ),
  keep: int(1, 1000)
    .default(7)
    .meta(doc("1-1000", "`7`", "Snapshots kept per agent (the newest is never removed).")),
  maxAgeDays: int(1, 3650)
    .default(30)
    .meta(doc("1-3650", "`30`", "Snapshots older than this are removed (the newest is never removed).")),
  directory: checked(snapshotDirectoryProblem)
    .optional()
    .meta(
      doc(
        "absolute path, outside every bind mount",
        "`/var/lib/hermes-lxc-snapshots/<name>`",
        "Where the snapshots are kept (root only, 0700/0600); a PBS- or NFS-backed path keeps them off the node.",
      ),
    ),
}).prefault({});

/** A `snapshots` block as parsed (the directory may still be the default). */
export type SnapshotsConfig = z.output<typeof snapshotsSchema>;

/** The directory an LXC's or a Docker host's snapshots go to: the configured one, or the default for `name`. */
export function snapshotDirectory(name: string, snapshots: SnapshotsConfig): string {
  return snapshots.directory ?? `${DEFAULT_SNAPSHOT_PARENT}/${name}`;
}
