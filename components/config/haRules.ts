/**
 * The HA rules across fields: what Proxmox's HA manager needs before it can restart an LXC on another node, checked
 * before any resource is registered. Pure: no Pulumi, no I/O.
 *
 *  - A bind mount migrates only with `shared=1`, and that flag only tells Proxmox "this path is the same on every
 *    node" (pve-container src/PVE/LXC/Migrate.pm refuses a non-shared bind mount: "cannot migrate local bind
 *    mount point"). So every mount of an HA LXC must sit inside a shared storage mounted at the same path on every
 *    node it may run on; the program then sets `shared=1` on it.
 *  - The rootfs must be on a shared storage, or on a ZFS pool replicated by `pvesr` (then a failover starts from
 *    the last replica: the writes since the last sync are lost).
 *  - Snapshots kept on the node's local disk are gone with the node: an HA LXC keeps them on shared storage.
 */
import { isSameOrInside } from "../lib/validators";
import type { Findings } from "./errors";
import type { HaConfig, HaParsed } from "./ha";
import type { ProxmoxConfig } from "./proxmox";

/** The shared storage (id) whose mount path on `node` contains `hostPath`, if any. */
export function sharedStorageOf(
  hostPath: string,
  node: string,
  proxmox: ProxmoxConfig | undefined,
): string | undefined {
  for (const [id, s] of Object.entries(proxmox?.storages ?? {})) {
    const p = s.paths[node];
    if (s.kind === "shared" && p !== undefined && isSameOrInside(hostPath, p)) return id;
  }
  return undefined;
}

/** Storage-level rules: a shared storage's nodes must agree on its path; paths only on shared storages; nodes known. */
export function checkStorages(proxmox: ProxmoxConfig, { problems }: Findings): void {
  for (const [id, s] of Object.entries(proxmox.storages)) {
    const at = `proxmox.storages.${id}`;
    const entries = Object.entries(s.paths).sort(([a], [b]) => a.localeCompare(b));
    for (const [node] of entries) {
      if (!proxmox.nodes[node])
        problems.push(
          `${at}.paths.${node}: is not a key of proxmox.nodes (known: ${Object.keys(proxmox.nodes).join(", ")})`,
        );
    }
    if (s.kind !== "shared" && entries.length > 0)
      problems.push(`${at}.paths: only a shared storage has paths on the nodes (this one is ${s.kind})`);
    const [first, ...rest] = entries;
    for (const [node, p] of rest) {
      if (p !== first[1]) {
        problems.push(
          `${at}.paths.${node}: disagrees with ${at}.paths.${first[0]}: a shared storage must be mounted at the ` +
            "same path on every node (a bind mount with shared=1 names one path; Proxmox starts the CT with it " +
            "wherever HA puts it)",
        );
      }
    }
  }
}

/** What resolveHa needs of one LXC (already resolved by lxcRules). */
export interface HaSubject {
  name: string;
  node: string;
  vmId: number;
  protect: boolean;
  rootfsDatastore: string;
  /** [host path, key path] of the state mount and every bulk mount. */
  hostPaths: Array<[string, string]>;
  snapshotsDirectory: string;
}

/** Resolves `lxcs.<n>.ha` against the cluster, or reports why HA could not keep this LXC running. */
export function resolveHa(
  lxc: HaSubject,
  ha: HaParsed,
  proxmox: ProxmoxConfig | undefined,
  findings: Findings,
): HaConfig | undefined {
  const { problems, warnings } = findings;
  const at = `lxcs.${lxc.name}`;
  if (!proxmox) return undefined;
  if (proxmox.version === undefined) {
    problems.push(
      `proxmox.version: is required when ${at}.ha is set (8: HA groups, 9: HA rules): ` +
        "read it with `pveversion` on a node, then: pulumi config set --path proxmox.version 9",
    );
  }
  const pveMajor = proxmox.version ?? 8;
  if (pveMajor === 8 && ha.rule !== undefined)
    problems.push(`${at}.ha.rule: HA rules exist from PVE 9 on; with proxmox.version 8 use ${at}.ha.group`);
  if (pveMajor === 9 && ha.group !== undefined)
    problems.push(
      `${at}.ha.group: PVE 9 replaced HA groups by rules; with proxmox.version 9 use ${at}.ha.rule`,
    );
  // Without protect, a changed lxcs.<n>.node (ForceNew in the provider) would re-create the CT on the new node.
  if (!lxc.protect) {
    problems.push(
      `${at}.protect: must be true with ${at}.ha: a changed ${at}.node makes the provider re-create the ` +
        "container (nodeName is ForceNew); protection turns that into a refusal (README, Cluster and HA)",
    );
  }

  const nodes = ha.nodes ?? defaultNodes(lxc.node, Object.keys(proxmox.nodes));
  for (const n of Object.keys(nodes)) {
    if (!proxmox.nodes[n]) problems.push(`${at}.ha.nodes.${n}: is not a key of proxmox.nodes`);
  }
  const home = nodes[lxc.node];
  if (home === undefined || Object.values(nodes).some((p) => p > home)) {
    problems.push(
      `${at}.ha.nodes: the home node ${lxc.node} (${at}.node) must be listed with the highest priority, so HA ` +
        "returns the CT to the node the stack records (failback)",
    );
  }
  const eligible = Object.keys(nodes).filter((n) => proxmox.nodes[n]);
  if (eligible.length < 2)
    problems.push(`${at}.ha.nodes: must list at least two nodes: HA has nowhere to restart the CT otherwise`);

  for (const [hostPath, keyPath] of lxc.hostPaths) {
    const missing = eligible.filter((n) => !sharedStorageOf(hostPath, n, proxmox));
    if (missing.length > 0) {
      problems.push(
        `${keyPath}: is node-local on ${missing.join(", ")}, but ${at}.ha lets HA start the CT there: put it ` +
          "inside a shared storage (proxmox.storages.<id> with kind shared and a path on every node in " +
          `${at}.ha.nodes)`,
      );
    }
  }

  const rootfs = proxmox.storages[lxc.rootfsDatastore];
  if (!rootfs || rootfs.kind === "local") {
    problems.push(
      `${at}.rootfs.datastore: ${rootfs ? "is declared local" : "is not declared in proxmox.storages"}; with ` +
        `${at}.ha the rootfs must be on a shared storage (kind shared) or a ZFS pool replicated by pvesr ` +
        "(kind replicated)",
    );
  } else if (rootfs.kind === "replicated") {
    warnings.push(
      `${at}.rootfs.datastore is replicated, not shared: after a node loss HA starts the CT from the last ` +
        `replica, so up to ${rootfs.replicationMinutes} minutes of rootfs writes (Docker images, logs) are lost; ` +
        "the agents' state is on shared storage and loses nothing.",
    );
  }

  // Scheduled and pre-change snapshots both go there, whatever the schedule says.
  if (!eligible.every((n) => sharedStorageOf(lxc.snapshotsDirectory, n, proxmox))) {
    problems.push(
      `${at}.snapshots.directory: is node-local, but ${at}.ha moves the CT between nodes: the snapshots would ` +
        "stay behind (and die with the node); set it inside a shared storage",
    );
  }

  return {
    state: ha.state,
    maxRestart: ha.maxRestart,
    maxRelocate: ha.maxRelocate,
    failback: ha.failback,
    pveMajor,
    sid: `ct:${lxc.vmId}`,
    nodes,
    placementId: (pveMajor === 8 ? ha.group : ha.rule) ?? `hermes-${lxc.name}`,
  };
}

/** Home node 2, every other node 1: HA may restart anywhere and fails back home. */
export function defaultNodes(home: string, all: string[]): Record<string, number> {
  return Object.fromEntries(all.map((n) => [n, n === home ? 2 : 1]));
}
