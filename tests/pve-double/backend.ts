/**
 * What the PVE double asks of a container backend. The double owns the API: auth, checks and error texts, the
 * PVE-format config (including `[pve:pending]`), locks, tasks and the request log. A backend owns what a node's
 * `lxc-*` tools own: the container's root filesystem, its processes and its network namespace.
 *
 * Two backends implement this:
 *  - simulatedBackend.ts: files only, no processes (contract tests, CI on any machine). Everything it does is
 *    bookkeeping and says so.
 *  - the LXC backend (tests/pve-double/lxcBackend.ts, written on branch i15lxc): a real unprivileged LXC per CT.
 *
 * Conventions for every method:
 *  - Methods that run inside a task get a TaskContext: write progress with `task.log(line)`; fail the task by
 *    throwing an Error whose message is the Proxmox error text (the double writes it as `TASK ERROR: <message>`,
 *    and for create prefixes `unable to create CT <vmid> - `). Honour `task.signal` (DELETE of a task aborts it).
 *  - The double has already written the config file before calling (create: with `lock: create`); a backend
 *    reads what it needs from the CtConfig it is given and never writes the PVE conf itself.
 *  - Secrets (the root password) arrive only in CreateSpec.password and must never be logged or written anywhere
 *    but the crypt in the CT's /etc/shadow.
 *  - Bind-mount sources are never created, chowned or deleted by a backend: Proxmox only checks that they exist.
 */
import type { Layout } from "./layout";

/** A CT config as the double keeps it: the main section's `key: value` pairs as stored in the file (property
 *  strings in canonical form, `description` decoded from its `#` lines) and the raw `lxc.*` lines in file order. */
export interface CtConfig {
  props: Record<string, string>;
  lxc: Array<[string, string]>;
}

/** Where a CT lives. */
export interface CtRef {
  node: string;
  vmid: number;
}

/** A mount point as the backend needs it (parsed from `mpN`/`rootfs`). */
export interface MountSpec {
  /** `rootfs`, `mp0`, … */
  key: string;
  /** Path inside the CT (`/` for rootfs). */
  target: string;
  /** `bind`: an absolute host path; `volume`: a storage volume (simulated as a directory, see Layout.volumeDir). */
  type: "bind" | "volume";
  /** Host path: the bind source, or the volume's directory. */
  source: string;
  readOnly: boolean;
}

export interface TaskContext {
  /** The task's UPID (its worker pid is a real process while the task runs). */
  upid: string;
  /** Append one line to the task log (what `GET …/tasks/{upid}/log` returns). */
  log(line: string): void;
  /** Aborted when the task is stopped with `DELETE /nodes/{node}/tasks/{upid}`. */
  signal: AbortSignal;
}

export interface CreateSpec {
  ct: CtRef;
  /** The config as written with `lock: create` (defaults hostname/memory/swap not yet applied: Proxmox sets them
   *  after the post-create hook, pve-container src/PVE/API2/LXC.pm:602-615). */
  config: CtConfig;
  /** Host path of the template file (`ostemplate` resolved through the storage). */
  templatePath: string;
  /** rootfs and every mpN, rootfs first. The backend checks, inside the task, that bind sources exist, as
   *  mount_all does (`directory '<path>' does not exist`, pve-container src/PVE/LXC.pm:2300). */
  mounts: MountSpec[];
  /** Root password in clear (secret): set as a SHA-512 crypt; undefined means root is locked (`*`). */
  password?: string;
  /** `ssh-public-keys` (newline-separated), written between `# --- BEGIN PVE ---` and `# --- END PVE ---`. */
  sshPublicKeys?: string;
}

export interface CtStatus {
  running: boolean;
  /** Init pid of the running CT (host pid namespace). */
  pid?: number;
  /** Seconds since the CT started. */
  uptime?: number;
}

/** One element of `ip --json address` run in the CT's network namespace (only the fields the double maps). */
export interface IpLink {
  ifname: string;
  address?: string;
  /** `family` is `inet` or `inet6` for addresses; other families are passed through as Proxmox does. */
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

export interface ContainerBackend {
  /** `simulated` or `lxc`: shown in the README and the double's startup line. */
  readonly kind: string;
  /** Called once at start with the shared layout. */
  init(layout: Layout): Promise<void>;
  /** vzcreate worker body: check bind sources exist, create the rootfs volume directories, extract the template
   *  with shifted ids (unprivileged: u/g 0 → 100000, 65536 ids), apply the post-create effects (machine-id
   *  cleared, root password crypt or locked, authorized_keys between the PVE markers, new SSH host keys with
   *  comment root@<hostname>, hostname/hosts/network/resolv files). Throw to fail the create (the double then
   *  removes the config and calls destroy()). */
  create(spec: CreateSpec, task: TaskContext): Promise<void>;
  /** vzstart worker body. `config` already has the pending changes applied (vm_start applies them first,
   *  pve-container src/PVE/LXC.pm:3273-3287); render the LXC config from it (mpN → bind entries, netN → veth,
   *  features, memory/swap → cgroup limits, hostname, raw lxc.* lines) and start. */
  start(ct: CtRef, config: CtConfig, mounts: MountSpec[], task: TaskContext): Promise<void>;
  /** vzshutdown worker body: clean shutdown, waiting at most `timeout` s; after that, kill if `forceStop`, else
   *  throw Error("container did not stop") (pve-container src/PVE/LXC.pm vm_stop, :3219-3271). */
  shutdown(ct: CtRef, opts: { timeout: number; forceStop: boolean }, task: TaskContext): Promise<void>;
  /** Hard stop (vzstop): kill the CT at once. Reboot (vzreboot) is composed by the double as shutdown, then
   *  apply pending, then start, as vm_reboot does (pve-container src/PVE/LXC.pm:3128-3131). */
  stop(ct: CtRef, task: TaskContext): Promise<void>;
  /** vzdestroy worker body: the CT is stopped; remove its volume directories (rootfs and volume mpN) and its LXC
   *  directory. Never touch a bind source (pve-container src/PVE/LXC.pm:1009-1021). */
  destroy(ct: CtRef, mounts: MountSpec[], task: TaskContext): Promise<void>;
  /** Running or stopped, from the real CT (lxc-info), never from the config. */
  status(ct: CtRef): Promise<CtStatus>;
  /** `ip --json address` inside the running CT's network namespace; [] if it has none. */
  interfaces(ct: CtRef): Promise<IpLink[]>;
  /** Hot-plug `keys` of a running CT (memory, swap, cpulimit, cpuunits, netN, a new mpN) from `config`. Throw to
   *  refuse: the double then answers the PUT with 400 `unable to hotplug <key>: <message>` and does not write the
   *  config (pve-container src/PVE/API2/LXC/Config.pm:255-262). */
  hotplug(ct: CtRef, config: CtConfig, keys: string[]): Promise<void>;
  /** Stop everything the backend started (test teardown); must not touch bind sources. */
  close(): Promise<void>;
}
