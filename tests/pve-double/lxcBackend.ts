/**
 * The PVE double's real container backend: one unprivileged LXC per CT, on the system tier's machinery
 * (tests/system/ct.sh and common.sh: the same extraction with shifted ids, the same LXC config rendering and the
 * same start/stop the `pct` shim uses on the node). What it does, with the Proxmox source each step stands for, is
 * in ct.sh; this file only maps the ContainerBackend contract (backend.ts) onto it.
 *
 * Simulated here: storage volumes are directories (the rootfs "volume" is Layout.volumeDir), sizes are
 * bookkeeping, cgroup values other than the memory limit, AppArmor (absent on the test host). Volume mount points
 * other than the rootfs, and hot-plugging netN or a new mpN, are not emulated: such keys stay pending until the next
 * start (the program only uses bind mounts and never changes net0 in place).
 */
import { spawn } from "node:child_process";
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

const CT_SH = path.resolve(__dirname, "..", "system", "ct.sh");

interface RunOptions {
  task?: TaskContext;
  /** Written to the script's stdin (the root password: never an argument, never logged). */
  stdin?: string;
  env?: Record<string, string>;
}

export class LxcBackend implements ContainerBackend {
  readonly kind = "lxc";
  private layout?: Layout;
  private readonly started = new Set<number>();
  /** CTs whose start is under way: Proxmox's check_running is true from the moment lxc-start runs. */
  private readonly starting = new Set<number>();

  async init(layout: Layout): Promise<void> {
    this.layout = layout;
    fs.mkdirSync(layout.lxcPath, { recursive: true });
    // The CTs' mapped root (host uid 100000) must traverse to its rootfs volume below the state directory.
    for (const dir of [layout.stateDir, layout.lxcPath]) traversable(dir);
  }

  async create(spec: CreateSpec, task: TaskContext): Promise<void> {
    const layout = this.need();
    const rootfs = spec.mounts.find((m) => m.key === "rootfs");
    if (!rootfs || rootfs.type !== "volume") throw new Error("rootfs must be a storage volume");
    const unsupported = spec.mounts.filter((m) => m.key !== "rootfs" && m.type === "volume");
    if (unsupported.length > 0) {
      throw new Error(
        `volume mount points are not emulated by the LXC backend: ${unsupported.map((m) => m.key).join(", ")}`,
      );
    }
    fs.mkdirSync(rootfs.source, { recursive: true });
    for (let d = path.dirname(rootfs.source); d.startsWith(layout.stateDir); d = path.dirname(d))
      traversable(d);
    await this.withConf(spec.ct, spec.config, async (conf, dir) => {
      const env: Record<string, string> = {};
      if (spec.sshPublicKeys) {
        env.CT_SSH_KEYS_FILE = path.join(dir, "keys");
        fs.writeFileSync(env.CT_SSH_KEYS_FILE, `${spec.sshPublicKeys}\n`, { mode: 0o600 });
      }
      if (spec.password !== undefined) env.CT_PASSWORD_STDIN = "1";
      await this.run(["create", String(spec.ct.vmid), rootfs.source, spec.templatePath, conf], {
        task,
        env,
        stdin: spec.password,
      });
    });
  }

  async start(ct: CtRef, config: CtConfig, mounts: MountSpec[], task: TaskContext): Promise<void> {
    // The rootfs volume as this node resolves it (Layout.volumeDir): on a node-local storage of another node it is
    // not there, and Proxmox cannot activate it (a CT moved off a non-shared storage does not start). ct.sh itself
    // starts from the path recorded at create, so the check is made here.
    const rootfs = mounts.find((m) => m.key === "rootfs");
    if (rootfs?.type === "volume" && !fs.existsSync(rootfs.source)) {
      throw new Error(
        `startup for container '${ct.vmid}' failed: volume '${config.props.rootfs?.split(",")[0]}' does not exist on node '${ct.node}'`,
      );
    }
    this.starting.add(ct.vmid);
    try {
      await this.withConf(ct, config, (conf) => this.run(["start", String(ct.vmid), conf], { task }));
    } finally {
      this.starting.delete(ct.vmid);
    }
    this.started.add(ct.vmid);
  }

  async shutdown(ct: CtRef, opts: { timeout: number; forceStop: boolean }, task: TaskContext): Promise<void> {
    await this.run(["shutdown", String(ct.vmid), String(opts.timeout), opts.forceStop ? "1" : "0"], { task });
  }

  async stop(ct: CtRef, task: TaskContext): Promise<void> {
    await this.run(["stop", String(ct.vmid)], { task });
  }

  async destroy(ct: CtRef, mounts: MountSpec[], task: TaskContext): Promise<void> {
    const layout = this.need();
    // Only storage volumes, and only inside the double's storage: a bind source is never passed to ct.sh.
    const volumes = mounts
      .filter((m) => m.type === "volume")
      .map((m) => m.source)
      .filter((dir) => dir.startsWith(`${path.join(layout.stateDir, "storage")}/`));
    await this.run(["destroy", String(ct.vmid), ...volumes], { task });
    this.started.delete(ct.vmid);
  }

  async status(ct: CtRef): Promise<CtStatus> {
    const out = await this.lxcInfo(ct.vmid);
    const state = /^State:\s+(\S+)/m.exec(out)?.[1];
    const pid = Number(/^PID:\s+(\d+)/m.exec(out)?.[1]);
    // Starting counts as running, as pve-container's check_running does (the CT's monitor exists): a second
    // start then gets `CT <vmid> already running` at once, which the provider takes as success.
    if (this.starting.has(ct.vmid) && state !== "RUNNING") return { running: true };
    if (state !== "RUNNING" || !pid) return { running: false };
    return { running: true, pid, uptime: uptimeOf(pid) };
  }

  async interfaces(ct: CtRef): Promise<IpLink[]> {
    const out = await this.run(["interfaces", String(ct.vmid)]);
    return JSON.parse(out || "[]") as IpLink[];
  }

  async hotplug(ct: CtRef, config: CtConfig, keys: string[]): Promise<void> {
    const rest = keys.filter((k) => !["memory", "swap", "cpulimit", "cpuunits"].includes(k));
    if (keys.includes("memory") || keys.includes("swap")) {
      await this.run(["memory", String(ct.vmid), config.props.memory ?? "512", config.props.swap ?? "512"]);
    }
    // cpulimit/cpuunits: PVE writes cgroup cpu values; the tier does not emulate them (bookkeeping only).
    if (rest.length > 0) throw new Error(`hot-plug of ${rest.join(", ")} is not emulated; left pending`);
  }

  async close(): Promise<void> {
    for (const vmid of this.started) {
      await this.run(["stop", String(vmid)]).catch(() => undefined);
    }
    this.started.clear();
  }

  private need(): Layout {
    if (!this.layout) throw new Error("LxcBackend used before init()");
    return this.layout;
  }

  /** The config to act on, as a PVE-format file in a private temporary directory (removed afterwards). */
  private async withConf<T>(
    ct: CtRef,
    config: CtConfig,
    use: (conf: string, dir: string) => Promise<T>,
  ): Promise<T> {
    const dir = fs.mkdtempSync(path.join(this.need().stateDir, `.ct-${ct.vmid}-`));
    try {
      const conf = path.join(dir, `${ct.vmid}.conf`);
      fs.writeFileSync(conf, renderConf(config), { mode: 0o600 });
      return await use(conf, dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private lxcInfo(vmid: number): Promise<string> {
    return new Promise((resolve) => {
      const child = spawn("lxc-info", ["-P", this.need().lxcPath, "-n", String(vmid), "-s", "-p"], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.on("close", () => resolve(out));
    });
  }

  /** ct.sh with the double's layout; stdout lines go to the task log; a failure throws stderr's text. */
  private run(args: string[], opts: RunOptions = {}): Promise<string> {
    const layout = this.need();
    return new Promise((resolve, reject) => {
      const child = spawn("bash", [CT_SH, ...args], {
        env: {
          PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
          SYSTEST_RUNTIME: layout.stateDir,
          SYSTEST_LXCPATH: layout.lxcPath,
          ...opts.env,
        },
        stdio: ["pipe", "pipe", "pipe"],
        signal: opts.task?.signal,
      });
      let out = "";
      let err = "";
      let partial = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (!opts.task) return;
        partial += d.toString();
        const lines = partial.split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) opts.task.log(l);
      });
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("error", (e) => reject(e));
      child.on("close", (code) => {
        if (partial && opts.task) opts.task.log(partial);
        if (code === 0) resolve(out.trim());
        else {
          const lines = err.trim().split("\n").filter(Boolean);
          reject(new Error(lines[lines.length - 1] ?? `ct.sh ${args[0]} failed with exit code ${code}`));
        }
      });
      child.stdin.end(opts.stdin ?? "");
    });
  }
}

/** CtConfig as a PVE conf's main section (the description is left out: nothing here reads it). */
export function renderConf(config: CtConfig): string {
  const lines = Object.entries(config.props)
    .filter(([k]) => k !== "description")
    .map(([k, v]) => `${k}: ${v}`);
  for (const [k, v] of config.lxc) lines.push(`${k}: ${v}`);
  return `${lines.join("\n")}\n`;
}

/** Makes a directory traversable (not listable) for the CTs' mapped root. */
function traversable(dir: string): void {
  const mode = fs.statSync(dir).mode & 0o7777;
  if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001);
}

/** Seconds since process `pid` started (/proc/<pid>/stat field 22, in clock ticks of 1/100 s on Linux). */
function uptimeOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const startTicks = Number(fields[19]);
    const sinceBoot = Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    return Math.max(0, Math.floor(sinceBoot - startTicks / 100));
  } catch {
    return undefined;
  }
}
