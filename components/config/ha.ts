/**
 * Cluster and HA config: the PVE major version the cluster runs (it decides between HA groups and HA rules), the
 * cluster's storages as far as HA cares (shared, replicated or node-local, and where a shared one is mounted on
 * each node), and the `ha` block of an LXC. Pure: no Pulumi, no I/O. The rules across fields are in haRules.ts.
 *
 * Why the version matters: PVE 9 replaced HA groups by HA rules (pve-ha-manager 5.x, `/cluster/ha/rules`;
 * src/PVE/API2/HA/Rules.pm); PVE 8 has only groups (src/PVE/API2/HA/Groups.pm). The provider has a resource for
 * each (`Hagroup`, `Harule`); the stack says which one its cluster understands.
 */
import { z } from "zod";
import { NODE_NAME, absolutePathProblem } from "../lib/validators";
import { bool, checked, doc, int, strictObject } from "./fields";

/** An HA resource's requested state (pve-ha-manager src/PVE/HA/Tools.pm `pve-ha-resource-state`). */
export const HA_STATES = ["started", "stopped", "disabled", "ignored"] as const;

const storageSchema = strictObject({
  kind: z
    .enum(["shared", "replicated", "local"], {
      error: "must be shared (Ceph RBD/CephFS, NFS, ...), replicated (ZFS with pvesr) or local",
    })
    .meta(
      doc(
        "`shared`, `replicated`, `local`",
        "required",
        "What HA can do with it: `shared` is on every node; `replicated` is a ZFS pool copied by `pvesr` (a failover loses the writes since the last sync); `local` stays on its node.",
      ),
    ),
  paths: z
    .record(
      z.string().regex(NODE_NAME, { error: "node names must be hostnames (letters, digits, -)" }),
      checked(absolutePathProblem),
    )
    .default({})
    .meta(
      doc(
        "node → absolute path",
        "`{}`",
        "Where a file-based shared storage is mounted on each node (e.g. `/mnt/pve/nas`); every node must agree.",
      ),
    ),
  replicationMinutes: int(1, 1440)
    .default(15)
    .meta(
      doc(
        "1-1440",
        "`15`",
        "Replication interval of a `replicated` storage (`pvesr` default: every 15 min).",
      ),
    ),
});

/** `proxmox.version` and `proxmox.storages`, merged into the proxmox block. */
export const clusterFields = {
  version: z
    .union([z.literal(8), z.literal(9), z.literal("8"), z.literal("9")], { error: "must be 8 or 9" })
    .transform((v) => Number(v) as 8 | 9)
    .optional()
    .meta(
      doc(
        "`8`, `9`",
        "required with HA",
        "Major PVE version of the cluster: 8 uses HA groups, 9 HA rules (PVE 9 migrated groups to rules).",
      ),
    ),
  storages: z
    .record(
      z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/, { error: "must be a Proxmox storage id" }),
      storageSchema,
    )
    .default({}),
};

export const haSchema = strictObject({
  state: z
    .enum(HA_STATES, { error: `must be one of ${HA_STATES.join(", ")}` })
    .default("started")
    .meta(doc(HA_STATES.map((s) => `\`${s}\``).join(", "), "`started`", "Requested HA state.")),
  nodes: z
    .record(
      z.string().regex(NODE_NAME, { error: "node names must be hostnames (letters, digits, -)" }),
      int(0, 1000),
    )
    .optional()
    .meta(
      doc(
        "node → priority 0-1000",
        "home node 2, every other node 1",
        "Where HA may run it (PVE 8: the HA group's nodes; PVE 9: a node-affinity rule). The home node (`node`) must have the highest priority, so HA fails back to it.",
      ),
    ),
  group: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.-]{1,127}$/, {
      error: "must be an HA group id (letter, then letters, digits, _ . -)",
    })
    .optional()
    .meta(doc("HA group id", "`hermes-<lxc>`", "PVE 8 only: name of the HA group the program creates.")),
  rule: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.-]{1,127}$/, {
      error: "must be an HA rule id (letter, then letters, digits, _ . -)",
    })
    .optional()
    .meta(
      doc("HA rule id", "`hermes-<lxc>`", "PVE 9 only: name of the node-affinity rule the program creates."),
    ),
  maxRestart: int(0, 10)
    .default(1)
    .meta(doc("0-10", "`1`", "Restarts on the same node before HA relocates it (pve-ha-manager default 1).")),
  maxRelocate: int(0, 10)
    .default(1)
    .meta(doc("0-10", "`1`", "Relocations to another node before HA gives up (pve-ha-manager default 1).")),
  failback: bool
    .default(true)
    .meta(
      doc(
        "bool",
        "`true`",
        "Move back to the home node when it returns; off means the CT stays away and the next `pulumi up` refuses until it is migrated back.",
      ),
    ),
});

/** The `ha` block as parsed. */
export type HaParsed = z.output<typeof haSchema>;
/** One storage declaration as parsed. */
export type StorageParsed = z.output<typeof storageSchema>;

/** The HA settings of one LXC, resolved against the cluster. */
export interface HaConfig extends Omit<HaParsed, "nodes" | "group" | "rule"> {
  /** 8: Hagroup + Haresource.group; 9: Harule (node-affinity) + Haresource. */
  pveMajor: 8 | 9;
  /** `ct:<vmid>`. */
  sid: string;
  nodes: Record<string, number>;
  /** HA group (PVE 8) or rule (PVE 9) id. */
  placementId: string;
}
