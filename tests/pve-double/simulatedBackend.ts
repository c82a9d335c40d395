/**
 * SIMULATED container backend: files only, no processes, no namespaces. For the contract tests and CI on any
 * machine. It keeps Proxmox's *observable* rules that need no kernel (a missing bind source fails the create,
 * the post-create files are written into the rootfs directory, destroy never touches a bind source) and
 * simulates the rest:
 *  - the template is not extracted (its first bytes are not even read); the rootfs directory gets only the
 *    post-create files, owned by the double's user (no id shift);
 *  - "running" is a flag; there is no init pid, no cgroup, no console;
 *  - interfaces are made up from the netN lines: `lo` plus each NIC with its hwaddr and its static `ip`/`ip6`;
 *  - shutdown always succeeds at once (unless `hangOnShutdown` holds the vmid: then it waits for `timeout`
 *    and kills only with forceStop, as lxc-stop --nokill would);
 *  - durations: none unless `delays` asks for them;
 *  - hot-plug records the keys it was asked to apply (`hotplugged`).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type {
  ContainerBackend,
  CreateSpec,
  CtConfig,
  CtRef,
  CtStatus,
  IpLink,
  MountSpec,
  TaskContext,
} from "./backend";
import type { Layout } from "./layout";
import { parseNet } from "./pveConf";

export class SimulatedBackend implements ContainerBackend {
  readonly kind = "simulated";
  private layout!: Layout;
  private readonly started = new Map<string, number>();
  /** Every hot-plug call, in order (tests assert on it). */
  readonly hotplugged: Array<{ vmid: number; keys: string[] }> = [];
  /** VMIDs whose CT ignores a clean shutdown (to exercise timeout and forceStop). */
  readonly hangOnShutdown = new Set<number>();
  /** Simulated durations in ms (a real create takes tens of seconds; here 0 unless a test asks). */
  readonly delays: { create?: number; start?: number } = {};
  /** Configs the CTs were last started with (tests check that pending changes were applied at start). */
  readonly startedWith = new Map<number, CtConfig>();

  async init(layout: Layout): Promise<void> {
    this.layout = layout;
    fs.mkdirSync(layout.lxcPath, { recursive: true });
  }

  private key(ct: CtRef): string {
    return `${ct.node}/${ct.vmid}`;
  }

  async create(spec: CreateSpec, task: TaskContext): Promise<void> {
    // mount_all (pve-container src/PVE/LXC.pm:2300): a bind source must exist.
    for (const m of spec.mounts) {
      if (m.type === "bind" && !fs.existsSync(m.source))
        throw new Error(`directory '${m.source}' does not exist`);
    }
    const rootfs = spec.mounts.find((m) => m.key === "rootfs");
    if (!rootfs) throw new Error("no rootfs");
    fs.mkdirSync(rootfs.source, { recursive: true });
    task.log(`extracting archive '${spec.templatePath}' (simulated: not extracted)`);
    await sleep(this.delays.create, task.signal);
    const hostname = spec.config.props.hostname || `CT${spec.ct.vmid}`;
    const put = (rel: string, text: string, mode = 0o644) => {
      const f = path.join(rootfs.source, rel);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, text, { mode });
    };
    put("etc/hostname", `${hostname}\n`);
    put("etc/machine-id", "");
    // Base.pm:451-475: a SHA-512 crypt of the password, or `*` (locked). The password goes on stdin only.
    const crypt = spec.password
      ? execFileSync("openssl", ["passwd", "-6", "-stdin"], {
          input: spec.password,
          stdio: ["pipe", "pipe", "ignore"],
        })
          .toString()
          .trim()
      : "*";
    put("etc/shadow", `root:${crypt}:20000:0:99999:7:::\n`, 0o640);
    if (spec.sshPublicKeys) {
      // Base.pm:487-503,883-930: the keys between the PVE markers.
      put(
        "root/.ssh/authorized_keys",
        `# --- BEGIN PVE ---\n${spec.sshPublicKeys.replace(/\n*$/, "\n")}# --- END PVE ---\n`,
        0o600,
      );
    }
    task.log(
      "Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ... (simulated: not created)",
    );
  }

  async start(ct: CtRef, config: CtConfig, mounts: MountSpec[], task: TaskContext): Promise<void> {
    for (const m of mounts)
      if (m.type === "bind" && !fs.existsSync(m.source))
        throw new Error(`directory '${m.source}' does not exist`);
    await sleep(this.delays.start, task.signal);
    this.started.set(this.key(ct), Date.now());
    this.startedWith.set(ct.vmid, { props: { ...config.props }, lxc: [...config.lxc] });
    task.log(`starting CT ${ct.vmid} (simulated)`);
  }

  async shutdown(ct: CtRef, opts: { timeout: number; forceStop: boolean }, task: TaskContext): Promise<void> {
    if (this.hangOnShutdown.has(ct.vmid)) {
      await sleep(opts.timeout * 1000, task.signal);
      if (!opts.forceStop) throw new Error("container did not stop"); // src/PVE/LXC.pm vm_stop
    }
    this.started.delete(this.key(ct));
    task.log(`CT ${ct.vmid} stopped (simulated)`);
  }

  async stop(ct: CtRef): Promise<void> {
    this.started.delete(this.key(ct));
  }

  async destroy(ct: CtRef, mounts: MountSpec[]): Promise<void> {
    this.started.delete(this.key(ct));
    // Only volumes are removed; a bind source is never touched (src/PVE/LXC.pm:1009-1021).
    for (const m of mounts) if (m.type === "volume") fs.rmSync(m.source, { recursive: true, force: true });
  }

  async status(ct: CtRef): Promise<CtStatus> {
    const t = this.started.get(this.key(ct));
    return t === undefined
      ? { running: false }
      : { running: true, uptime: Math.floor((Date.now() - t) / 1000) };
  }

  async interfaces(ct: CtRef): Promise<IpLink[]> {
    if (!this.started.has(this.key(ct))) return [];
    const raw = fs.readFileSync(this.layout.confPath(ct.node, ct.vmid), "utf8");
    const links: IpLink[] = [
      {
        ifname: "lo",
        address: "00:00:00:00:00:00",
        addr_info: [
          { family: "inet", local: "127.0.0.1", prefixlen: 8 },
          { family: "inet6", local: "::1", prefixlen: 128 },
        ],
      },
    ];
    for (const line of raw.split("\n")) {
      if (line.startsWith("[")) break;
      const m = /^net\d+: (.+)$/.exec(line);
      if (!m) continue;
      const net = parseNet(m[1], true);
      const info: NonNullable<IpLink["addr_info"]> = [];
      const v4 = /^([\d.]+)\/(\d+)$/.exec(net.ip ?? "");
      if (v4) info.push({ family: "inet", local: v4[1], prefixlen: Number(v4[2]) });
      const v6 = /^([0-9a-fA-F:]+)\/(\d+)$/.exec(net.ip6 ?? "");
      if (v6) info.push({ family: "inet6", local: v6[1], prefixlen: Number(v6[2]) });
      links.push({ ifname: net.name, address: net.hwaddr.toLowerCase(), addr_info: info });
    }
    return links;
  }

  async hotplug(ct: CtRef, _config: CtConfig, keys: string[]): Promise<void> {
    this.hotplugged.push({ vmid: ct.vmid, keys });
  }

  async close(): Promise<void> {
    this.started.clear();
  }
}

function sleep(ms: number | undefined, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms ?? 0);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
