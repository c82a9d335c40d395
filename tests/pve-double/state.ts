/**
 * The double's view of the cluster: nodes, their storages, the CT configs on disk (pmxcfs layout), the
 * cluster-wide VMID list and the per-CT config lock.
 *
 *  - load_config (pve-guest-common src/PVE/AbstractConfig.pm:50-60): `Configuration file
 *    'nodes/<node>/lxc/<vmid>.conf' does not exist` when the CT is not on *this* node, which is also what a
 *    request for a CT on another node gets (the API is proxied to the node named in the path and reads that
 *    node's directory).
 *  - check_vmid_unused (pve-cluster src/PVE/Cluster.pm:785-797): a VMID is unique cluster-wide:
 *    `CT <vmid> already exists on node '<node>'`.
 *  - unknown node: the proxy's address lookup fails (pve-cluster src/PVE/Cluster.pm:811-828 remote_node_ip →
 *    pve-common src/PVE/Network.pm get_ip_from_hostname): `hostname lookup '<node>' failed - failed to get
 *    address info for: <node>: Name or service not known`.
 */
import * as fs from "node:fs";
import { die } from "./errors";
import type { Layout, StorageDef } from "./layout";
import { ConfFile, parseConf, writeConf } from "./pveConf";

export interface NodeDef {
  name: string;
  storages: StorageDef[];
}

export const DEFAULT_STORAGES: StorageDef[] = [
  { id: "local", type: "dir", content: ["vztmpl", "iso", "backup", "import"] },
  { id: "local-lvm", type: "lvmthin", content: ["rootdir", "images"] },
];

export class ClusterState {
  private readonly locks = new Map<number, Promise<void>>();
  /** Nodes out of the cluster (powered off, fenced): pveproxy cannot reach them (clusterApi.ts proxyCheck). */
  readonly offline = new Set<string>();

  constructor(
    readonly layout: Layout,
    readonly nodes: NodeDef[],
  ) {
    for (const n of nodes) {
      fs.mkdirSync(layout.confDir(n.name), { recursive: true });
      fs.mkdirSync(layout.taskDir(n.name), { recursive: true });
      for (const s of n.storages) fs.mkdirSync(layout.storageDir(n.name, s.id), { recursive: true });
    }
  }

  node(name: string): NodeDef {
    const n = this.nodes.find((x) => x.name === name);
    if (!n)
      throw die(
        `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`,
      );
    return n;
  }

  storage(node: string, id: string): StorageDef {
    const s = this.node(node).storages.find((x) => x.id === id);
    // storage_config (pve-storage src/PVE/Storage.pm): `storage '<id>' does not exist`.
    if (!s) throw die(`storage '${id}' does not exist`);
    return s;
  }

  /** The cluster-wide VMID list (pmxcfs .vmlist): vmid → node. */
  vmlist(): Map<number, string> {
    const res = new Map<number, string>();
    for (const n of this.nodes) {
      for (const f of fs.readdirSync(this.layout.confDir(n.name))) {
        const m = /^(\d+)\.conf$/.exec(f);
        if (m) res.set(Number(m[1]), n.name);
      }
    }
    return res;
  }

  checkVmidUnused(vmid: number): void {
    const on = this.vmlist().get(vmid);
    if (on !== undefined) throw die(`CT ${vmid} already exists on node '${on}'`);
  }

  exists(node: string, vmid: number): boolean {
    return fs.existsSync(this.layout.confPath(node, vmid));
  }

  load(node: string, vmid: number): ConfFile {
    this.node(node);
    let raw: string;
    try {
      raw = fs.readFileSync(this.layout.confPath(node, vmid), "utf8");
    } catch {
      throw die(`Configuration file 'nodes/${node}/lxc/${vmid}.conf' does not exist`);
    }
    return parseConf(raw);
  }

  /** write_config: atomically replace the file (pmxcfs writes are atomic). */
  write(node: string, vmid: number, conf: ConfFile): void {
    const file = this.layout.confPath(node, vmid);
    fs.writeFileSync(`${file}.tmp`, writeConf(conf));
    fs.renameSync(`${file}.tmp`, file);
  }

  remove(node: string, vmid: number): void {
    fs.rmSync(this.layout.confPath(node, vmid), { force: true });
  }

  /** lock_config: one holder per VMID at a time (Proxmox: flock on /run/lock/lxc/pve-config-<vmid>.lock). */
  async withLock<T>(vmid: number, fn: () => Promise<T> | T): Promise<T> {
    const prev = this.locks.get(vmid) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    this.locks.set(vmid, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(vmid) === chained) this.locks.delete(vmid);
    }
  }
}
