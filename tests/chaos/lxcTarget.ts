/**
 * The `lxcs` path for the chaos trials: the stack's LXC is created by the real proxmoxve provider through the
 * Proxmox VE API double (tests/pve-double) on real unprivileged LXC, as in tests/engine/lxc.engine.test.ts; Docker
 * is installed in it by the program, and the gateway's image is really pulled from a registry inside the LXC.
 *
 * Links this path can lose: the one to the Docker host (the LXC, on the world's bridge), its sshd, and the one to
 * Proxmox (the API double on 127.0.0.1 and the node's sshd, which the program's node-side steps use).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { inCt, lxcStackFile, RegistryKeeper, saveStandinImages } from "../engine/lxcWorld";
import { RunningDouble, startDouble } from "../pve-double/double";
import { LxcBackend } from "../pve-double/lxcBackend";
import { Template, TemplateServer, templateFromRootfs } from "../pve-double/templateServer";
import { RUNTIME, ensureDocker, ensureStandinImage, systemEnv } from "../system/harness";
import {
  ChaosAgent,
  ChaosTarget,
  LinkFault,
  bridgeDropRules,
  buildStandinTag,
  deleteDropRules,
  insertDropRules,
} from "./target";

const LXC = "chaos";

export class LxcTarget implements ChaosTarget {
  readonly label: string;
  readonly path = "lxcs";
  readonly imageRepo = "127.0.0.1:5000/hermes-standin";
  private readonly env = systemEnv();
  private readonly node = this.env.file.pveNode;
  /** The double's CTs are <world vmid>·10 + n (their veth names stay this world's); lxc.engine uses n = 1. */
  readonly vmid = this.env.vmid * 10 + 2;
  readonly ctIp = `${this.env.file.netPrefix}.22`;
  private readonly dirs = {
    state: path.join(RUNTIME, "chaos-lxc-state"),
    hdd: path.join(RUNTIME, "chaos-lxc-hdd"),
    fast: path.join(RUNTIME, "chaos-lxc-fast"),
  };
  private readonly imageDir = path.join(RUNTIME, "chaos-standin-image");
  private readonly password = `pve-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  private pve!: RunningDouble;
  private template!: Template;
  private readonly templates = new TemplateServer();
  private templateBase = "";
  private readonly registry = new RegistryKeeper(this.imageDir, () => this.status());
  private readonly tags: string[] = [];

  /** `schemas`: the config schemas of the upgrade tags the trials will ask for (served by the registry). */
  constructor(
    private readonly schemas: number[],
    private readonly pveVersion = process.env.ENGINE_PVE_VERSION ?? "8.4.14",
  ) {
    this.label = `lxcs: an LXC through the Proxmox API double ${pveVersion} on real LXC`;
  }

  async setUp(): Promise<void> {
    // The upgrade tags are built where the stand-in's sources are (the system tier's CT) and served with `local`.
    await ensureDocker();
    await ensureStandinImage();
    for (const schema of this.schemas) {
      await this.env.lxc.sh(buildStandinTag(schema, `u${schema}`));
      this.tags.push(`u${schema}`);
    }
    await saveStandinImages(this.imageDir, ["local", ...this.tags]);
    this.template = templateFromRootfs(this.env.file.rootfsTarball);
    this.templates.add(this.template.name, this.template.file);
    this.templateBase = await this.templates.start();
    this.pve = await startDouble({
      rootPassword: this.password,
      stateDir: RUNTIME,
      nodes: [{ name: this.node }],
      backend: new LxcBackend(),
      version: this.pveVersion,
    });
    this.registry.start();
  }

  async tearDown(): Promise<void> {
    this.registry.stop();
    if (process.env.ENGINE_TIER_KEEP !== "1" && this.pve) {
      // Whatever the trials left: the CT goes (protection off first); the host directories are the test's own.
      const conf = this.pve.layout.confPath(this.node, this.vmid);
      if (fs.existsSync(conf)) {
        fs.writeFileSync(conf, fs.readFileSync(conf, "utf8").replace(/^protection: 1\n/m, ""));
        const noTask = { upid: "cleanup", log: () => undefined, signal: new AbortController().signal };
        const ct = { node: this.node, vmid: this.vmid };
        await this.pve.backend.stop(ct, noTask).catch(() => undefined);
        await this.pve.backend.destroy(ct, [], noTask).catch(() => undefined);
        fs.rmSync(conf, { force: true });
      }
      for (const d of Object.values(this.dirs)) fs.rmSync(d, { recursive: true, force: true });
    }
    await this.pve?.stop();
    await this.templates.close();
  }

  extraSecrets(): Record<string, string> {
    return { proxmoxPassword: this.password };
  }

  stackFile(agents: ChaosAgent[], knownHostsDir: string): string {
    return lxcStackFile({
      pveUrl: this.pve.url,
      knownHostsDir,
      lxc: LXC,
      vmid: this.vmid,
      ctIp: this.ctIp,
      templateUrl: this.templates.url(this.templateBase, this.template.name),
      templateSha512: this.template.sha512,
      dirs: this.dirs,
      agents,
      unprotected: true,
    });
  }

  hostDataDir(agent: string): string {
    return path.join(this.dirs.state, agent);
  }

  bulkDir(): string {
    return this.dirs.hdd;
  }

  snapshotsDir(agent: string): string {
    return `/var/lib/hermes-lxc-snapshots/${LXC}/${agent}`;
  }

  /** On the node (over its sshd, in its mount namespace), where an LXC agent's snapshots are taken. */
  snapshotSh(command: string): Promise<string> {
    return this.env.node.sh(command);
  }

  /** ssh to the LXC with its host key pinned (read from the LXC itself, as the program pins it through the node). */
  sshCommand(): string {
    const key = inCt(this.pve.layout.lxcPath, this.vmid, "cat /etc/ssh/ssh_host_ed25519_key.pub")
      .split(" ")
      .slice(0, 2)
      .join(" ");
    const knownHosts = path.join(RUNTIME, "chaos-lxc-known_hosts");
    fs.writeFileSync(knownHosts, `${this.ctIp} ${key}\n`);
    return [
      "ssh",
      "-F",
      "/dev/null",
      "-i",
      this.env.file.sshKey,
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      `root@${this.ctIp}`,
    ]
      .map((w) => `'${w}'`)
      .join(" ");
  }

  /** A command in the LXC, through lxc-attach (not its sshd, which a trial may have stopped). */
  async sh(command: string): Promise<string> {
    return inCt(this.pve.layout.lxcPath, this.vmid, command);
  }

  async upgradeTag(schema: number): Promise<string> {
    const tag = `u${schema}`;
    if (!this.tags.includes(tag)) throw new Error(`no upgrade tag for schema ${schema} was prepared`);
    return tag;
  }

  /**
   * `lock:` in the CT's config: Proxmox's own lock (pve-container src/PVE/LXC/Config.pm, `create`, `destroyed`,
   * `backup`, ...), which a task that died half-way leaves behind and which refuses every later change.
   */
  proxmoxLocks(): string[] {
    const conf = this.pve.layout.confPath(this.node, this.vmid);
    if (!fs.existsSync(conf)) return [];
    const lock = /^lock: (.*)$/m.exec(fs.readFileSync(conf, "utf8"));
    return lock ? [`CT ${this.vmid}: lock ${lock[1]}`] : [];
  }

  private apiDropRules(): string[][] {
    return [String(this.pve.port), String(this.env.file.node.port)].map((port) => [
      "filter",
      "INPUT",
      "-i",
      "lo",
      "-p",
      "tcp",
      "--dport",
      port,
      "-j",
      "DROP",
    ]);
  }

  breakLink(fault: LinkFault): void {
    if (fault === "link-drop") insertDropRules(bridgeDropRules(this.ctIp));
    else if (fault === "api-drop") insertDropRules(this.apiDropRules());
    else this.ctSystemctl("stop");
  }

  mend(fault: LinkFault): void {
    if (fault === "link-drop") deleteDropRules(bridgeDropRules(this.ctIp));
    else if (fault === "api-drop") deleteDropRules(this.apiDropRules());
    else this.ctSystemctl("start");
  }

  private ctSystemctl(verb: "stop" | "start"): void {
    execFileSync("lxc-attach", [
      "-P",
      this.pve.layout.lxcPath,
      "-n",
      String(this.vmid),
      "--clear-env",
      "--",
      "systemctl",
      verb,
      "ssh.service",
    ]);
  }

  private status(): Promise<{ running: boolean; pid?: number }> {
    return this.pve.backend.status({ node: this.node, vmid: this.vmid });
  }
}
