/**
 * The pieces of an `lxcs` world that the engine tier's lxc.engine.test.ts and the chaos tier's LxcTarget share: the
 * stand-in image served by a pull-only registry inside the LXC's network namespace, a shell in the CT as the node
 * sees it, and the stack file a user would write for one LXC on the Proxmox API double (tests/pve-double).
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDocker, ensureStandinImage, RUNTIME, systemEnv } from "../system/harness";

export const REGISTRY_PORT = 5000;
const REGISTRY = path.join(__dirname, "standin-registry.py");

/** A command in the CT `vmid` of the lxcpath `lxcPath` (lxc-attach, as the node would); trimmed stdout, "" on failure. */
export function inCt(lxcPath: string, vmid: number, cmd: string): string {
  const r = spawnSync(
    "lxc-attach",
    [
      "-P",
      lxcPath,
      "-n",
      String(vmid),
      "--clear-env",
      "--",
      "env",
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "sh",
      "-c",
      cmd,
    ],
    { encoding: "utf8" },
  );
  return r.status === 0 ? r.stdout.trim() : "";
}

/**
 * `docker save` of the stand-in image's `tags` (built in the system tier's CT), extracted into `imageDir` with its
 * layers compressed once, so a registry (re)started for a rebooted or replaced LXC serves at once.
 */
export async function saveStandinImages(imageDir: string, tags: string[] = ["local"]): Promise<void> {
  const env = systemEnv();
  await ensureDocker();
  await ensureStandinImage();
  fs.rmSync(imageDir, { recursive: true, force: true });
  fs.mkdirSync(imageDir, { recursive: true });
  const tar = path.join(imageDir, "image.tar");
  const fd = fs.openSync(tar, "w");
  const r = spawnSync(
    "lxc-attach",
    [
      "-P",
      env.file.lxcpath,
      "-n",
      String(env.vmid),
      "--clear-env",
      "--",
      "env",
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "docker",
      "save",
      ...tags.map((t) => `hermes-standin:${t}`),
    ],
    { stdio: ["ignore", fd, "inherit"] },
  );
  fs.closeSync(fd);
  if (r.status !== 0) throw new Error("docker save of the stand-in image failed");
  execFileSync("tar", ["-xf", tar, "-C", imageDir]);
  fs.rmSync(tar);
  execFileSync("python3", [REGISTRY, imageDir, "--prepare"]);
}

/**
 * Keeps the stand-in registry running on 127.0.0.1:5000 inside whatever CT currently has the vmid: a boot, a reboot
 * or a replacement makes a new network namespace, and the registry is started again in it (checked every second).
 */
export class RegistryKeeper {
  private registry?: { proc: ChildProcess; pid: number };
  private watcher?: NodeJS.Timeout;

  constructor(
    private readonly imageDir: string,
    private readonly status: () => Promise<{ running: boolean; pid?: number }>,
  ) {}

  start(): void {
    this.watcher = setInterval(() => this.check(), 1000);
  }

  private check(): void {
    void this.status().then((s) => {
      const r = this.registry;
      if (!s.running || !s.pid || (r?.pid === s.pid && r.proc.exitCode === null)) return;
      r?.proc.kill();
      const log = fs.openSync(path.join(RUNTIME, "standin-registry.log"), "a");
      const proc = spawn(
        "nsenter",
        ["-t", String(s.pid), "--net", "--", "python3", REGISTRY, this.imageDir, String(REGISTRY_PORT)],
        { stdio: ["ignore", "ignore", log] },
      );
      fs.closeSync(log);
      this.registry = { proc, pid: s.pid };
    });
  }

  stop(): void {
    if (this.watcher) clearInterval(this.watcher);
    this.registry?.proc.kill();
  }
}

/** One agent on the LXC: the stand-in image from the registry inside the LXC, Telegram on the stand-in. */
export interface LxcAgent {
  name: string;
  imageTag: string;
  memoryMb: number;
}

/** What the stack file of one LXC on the double is made of (what a user sets: endpoint, node, paths, sizes). */
export interface LxcStackOptions {
  pveUrl: string;
  knownHostsDir: string;
  lxc: string;
  vmid: number;
  ctIp: string;
  templateUrl: string;
  templateSha512: string;
  dirs: { state: string; hdd: string; fast: string };
  agents: LxcAgent[];
  /** `protect: false` on the LXC (the chaos trials destroy it before each first `up`); the product's default otherwise. */
  unprotected?: boolean;
}

export function lxcStackFile(o: LxcStackOptions): string {
  const env = systemEnv();
  const node = env.file.pveNode;
  const nodeKey = fs.readFileSync(env.file.node.knownHosts, "utf8").trim().split(" ").slice(1, 3).join(" ");
  const agents = o.agents.map(
    (a) => `    ${a.name}:
      lxc: ${o.lxc}
      image: 127.0.0.1:${REGISTRY_PORT}/hermes-standin
      imageTag: ${a.imageTag}
      memoryMb: ${a.memoryMb}
      llm:
        baseUrl: http://${o.ctIp}:4000/v1
        model: test-model
      platforms:
        telegram:
          allowedUsers: ["12345"]
`,
  );
  return `config:
  hermes-lxc:proxmox:
    endpoint: ${o.pveUrl}
    insecure: true
    username: root@pam
    nodes:
      ${node}:
        address: 127.0.0.1
        sshPort: ${env.file.node.port}
        hostKey: ${nodeKey}
  hermes-lxc:ssh:
    privateKeyPath: ${env.file.sshKey}
    knownHostsDir: ${o.knownHostsDir}
  hermes-lxc:lxcs:
    ${o.lxc}:
      node: ${node}
      vmId: ${o.vmid}
      hostname: hermes
${o.unprotected ? "      protect: false\n" : ""}      template:
        url: ${o.templateUrl}
        checksum: ${o.templateSha512}
        datastore: local
      cores: 2
      memoryMb: 2048
      swapMb: 512
      rootfs:
        datastore: local-lvm
        sizeGb: 8
      network:
        bridge: ${env.file.bridge}
        ipv4:
          address: ${o.ctIp}/24
          gateway: ${env.file.netPrefix}.1
      tags: [ai, agent, pulumi]
      rootSshKeys:
        - ${fs.readFileSync(`${env.file.sshKey}.pub`, "utf8").trim()}
      stateMount:
        hostPath: ${o.dirs.state}
      mounts:
        - hostPath: ${o.dirs.hdd}
          containerPath: /data
          onSeparateDisk: false
        - hostPath: ${o.dirs.fast}
          containerPath: /fast
          onSeparateDisk: false
      rawConfig:
        extraLines:
          - "lxc.environment: HERMES_TIER=engine"
      docker:
        source: debian
      snapshots:
        schedule: "off"
  hermes-lxc:agents:
${agents.join("")}`;
}
