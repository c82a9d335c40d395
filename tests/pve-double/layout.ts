/**
 * The on-disk layout the PVE double and its container backend share. Everything lives under one state directory,
 * so a restarted double recovers and a teardown knows what to remove.
 *
 *   <stateDir>/
 *     authkey                          HMAC key of tickets and CSRF tokens (pve-access-control keeps authkey.key)
 *     requests.jsonl                   the request log, one JSON object per request
 *     pve/nodes/<node>/lxc/<vmid>.conf the PVE-format CT configs, laid out as pmxcfs lays out /etc/pve. On a real
 *                                      node /etc/pve/lxc is a symlink to nodes/<local node>/lxc, so confDir(node) is
 *                                      the directory that node's SSH sessions must see as /etc/pve/lxc.
 *     storage/shared/<storage>/        a shared storage: one directory for all nodes (the shared storage of
 *                                      the two-node cluster)
 *     storage/<node>/<storage>/        one directory per (node, storage); `dir` storages keep templates in
 *                                      template/cache/<file> as /var/lib/vz does; simulated lvmthin/zfs storages
 *                                      keep each volume as a plain directory vm-<vmid>-disk-<n>/ (size is bookkeeping)
 *     tasks/<node>/<UPID>              task logs (Proxmox: /var/log/pve/tasks/<hex>/<UPID>), last line TASK OK/ERROR
 *     lxc/                             the backend's own private lxcpath (container name = vmid); the double never
 *                                      reads it
 */
import * as path from "node:path";

/** A storage of a node. `dir` is a real directory storage; any other type is simulated as a directory. */
export interface StorageDef {
  /** Storage id, e.g. `local` or `local-lvm`. */
  id: string;
  /** Proxmox storage type. Only `dir` is real; `lvmthin` and `zfspool` are simulated by directories. */
  type: "dir" | "lvmthin" | "zfspool";
  /** Content types the storage accepts, e.g. `["vztmpl", "iso"]` or `["rootdir", "images"]`. */
  content: string[];
  /** A shared storage (Ceph, NFS in Proxmox's storage.cfg `shared 1`): one directory for every node that has it,
   *  `<stateDir>/storage/shared/<storage>`, so a CT recovered on another node finds its volumes. */
  shared?: boolean;
}

export class Layout {
  /** Ids of shared storages (set by the double from the nodes' StorageDefs). */
  readonly sharedStorages = new Set<string>();
  constructor(readonly stateDir: string) {}

  get authKeyFile(): string {
    return path.join(this.stateDir, "authkey");
  }
  get requestLog(): string {
    return path.join(this.stateDir, "requests.jsonl");
  }
  /** pmxcfs root: what a node sees as /etc/pve. */
  get pveDir(): string {
    return path.join(this.stateDir, "pve");
  }
  /** What `node`'s SSH sessions must see as /etc/pve/lxc. */
  confDir(node: string): string {
    return path.join(this.pveDir, "nodes", node, "lxc");
  }
  confPath(node: string, vmid: number): string {
    return path.join(this.confDir(node), `${vmid}.conf`);
  }
  storageDir(node: string, storage: string): string {
    if (this.sharedStorages.has(storage)) return path.join(this.stateDir, "storage", "shared", storage);
    return path.join(this.stateDir, "storage", node, storage);
  }
  /** Where a `dir` storage keeps vztmpl files (on a node: /var/lib/vz/template/cache for `local`). */
  templateDir(node: string, storage: string): string {
    return path.join(this.storageDir(node, storage), "template", "cache");
  }
  /** The directory standing in for volume `<storage>:vm-<vmid>-disk-<n>` (the CT's rootfs for n = 0). */
  volumeDir(node: string, storage: string, volname: string): string {
    return path.join(this.storageDir(node, storage), "images", volname);
  }
  taskDir(node: string): string {
    return path.join(this.stateDir, "tasks", node);
  }
  /** The backend's private lxcpath; the double never looks inside. */
  get lxcPath(): string {
    return path.join(this.stateDir, "lxc");
  }
}
