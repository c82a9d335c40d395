/** The homelab stack made HA-ready on a 3-node cluster: an NFS storage `nas` at /mnt/pve/nas on every node, the
 *  rootfs on Ceph RBD `ceph`, state, bulk mounts and snapshots on `nas`, and `lxcs.hermes.ha` on PVE 9. */
import { homelabWithSecrets } from "./stackFile";

export function haStack(version: 8 | 9 = 9): any {
  const raw = homelabWithSecrets() as any;
  const key = raw.proxmox.nodes.gihyeon.hostKey;
  raw.proxmox.nodes.pve2 = { address: "10.1.10.3", hostKey: key };
  raw.proxmox.nodes.pve3 = { address: "10.1.10.4", hostKey: key };
  raw.proxmox.version = version;
  raw.proxmox.storages = {
    nas: { kind: "shared", paths: { gihyeon: "/mnt/pve/nas", pve2: "/mnt/pve/nas", pve3: "/mnt/pve/nas" } },
    ceph: { kind: "shared" },
    "local-zfs": { kind: "replicated", replicationMinutes: 5 },
    "local-lvm": { kind: "local" },
  };
  const lxc = raw.lxcs.hermes;
  lxc.rootfs.datastore = "ceph";
  lxc.stateMount.hostPath = "/mnt/pve/nas/hermes/state";
  lxc.mounts = [{ hostPath: "/mnt/pve/nas/hermes/data", containerPath: "/data", onSeparateDisk: false }];
  lxc.snapshots = { directory: "/mnt/pve/nas/hermes-snapshots" };
  lxc.ha = {};
  return raw;
}
