/** One LXC: where it lives, its size, network, template, bind mounts, state mount, raw LXC lines and Docker. */
import { z } from "zod";
import { GATEWAY_ID_MAX, GATEWAY_ID_MIN } from "../lib/idmap";
import {
  BRIDGE_NAME,
  MAC_ADDRESS,
  NODE_NAME,
  containerPathProblem,
  hostPathProblem,
  hostnameProblem,
  ipv4CidrProblem,
  isIpv4,
  tagProblem,
} from "../lib/validators";
import { dockerSchema } from "./docker";
import { snapshotsSchema } from "./snapshots";
import { HaConfig, haSchema } from "./ha";
import { bool, checked, dnsLabel, doc, int, list, sshPublicKey, strictObject, text } from "./fields";

const storageId = z
  .string({ error: "must be a string" })
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/, { error: "must be a Proxmox storage id" });

const DEFAULT_TEMPLATE_URL =
  "https://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst";

const templateSchema = z
  .union(
    [
      strictObject({
        url: z
          .string()
          .regex(/^https?:\/\/[^\s'"\\`$]{1,2000}\.tar\.(zst|gz|xz)$/, {
            error: "must be an http(s) URL of a .tar.zst/.tar.gz/.tar.xz template",
          })
          .meta(
            doc(
              "http(s) URL of `.tar.zst/.gz/.xz`",
              "Proxmox's Debian 12",
              "Downloaded once (`overwrite: false`), kept on destroy.",
            ),
          ),
        checksum: z
          .string()
          .regex(/^[0-9a-f]{32,128}$/, { error: "must be a lowercase hex digest" })
          .optional()
          .meta(doc("hex digest", "none (warning)", "Expected checksum of the download.")),
        checksumAlgorithm: z
          .enum(["sha256", "sha512"])
          .default("sha512")
          .meta(doc("`sha256`, `sha512`", "`sha512`", "Algorithm of the checksum.")),
        datastore: storageId.default("local").meta(doc("storage id", "`local`", "Storage for templates.")),
      }),
      strictObject({
        fileId: z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,99}:vztmpl\/[A-Za-z0-9._+-]{1,255}$/, {
            error: "must look like local:vztmpl/<file>",
          })
          .meta(doc("`local:vztmpl/<file>`", "-", "Use a template already on the node instead.")),
      }),
    ],
    { error: "must be either {url, checksum, ...} to download a template or {fileId} for an existing one" },
  )
  .meta(doc("`{url,...}` or `{fileId}`", "Debian 12 standard 12.12-1", "Template to create from."));

const mountSchema = strictObject({
  hostPath: checked(hostPathProblem).meta(
    doc(
      "absolute path, a dedicated subdirectory",
      "required",
      "Host directory to bind (e.g. `/mnt/pve/hdd/hermes`), prepared with the gateway's owner.",
    ),
  ),
  containerPath: checked(containerPathProblem).meta(
    doc("absolute path", "required", "Where it appears in the LXC."),
  ),
  name: dnsLabel
    .optional()
    .meta(doc("DNS label", "last path segment", "Name; agents see it at `/opt/data/workspace/<name>`.")),
  readOnly: bool.default(false).meta(doc("bool", "`false`", "Bind read-only.")),
  // A bulk disk that failed to mount leaves an empty mount directory, and the agent would fill the root disk.
  onSeparateDisk: bool
    .default(true)
    .meta(
      doc(
        "bool",
        "`true`",
        "Refuse to create the directory on the node's root filesystem (a disk that failed to mount).",
      ),
    ),
});

const ipv4Schema = z
  .union(
    [
      z.literal("dhcp"),
      strictObject({
        address: checked(ipv4CidrProblem).meta(doc("CIDR, e.g. `10.1.10.30/24`", "-", "Static address.")),
        gateway: z
          .string()
          .refine(isIpv4, { error: "must be an IPv4 address" })
          .meta(doc("IPv4 inside the subnet", "-", "Default gateway.")),
      }),
    ],
    { error: "must be 'dhcp' or {address: 10.1.10.30/24, gateway: 10.1.10.1}" },
  )
  .meta(doc("`dhcp` or `{address, gateway}`", "`dhcp`", "Addressing of eth0."));

const networkSchema = strictObject({
  bridge: z
    .string()
    .regex(BRIDGE_NAME, {
      error: "must be a bridge or vnet name (letters, digits, _ . -; at most 15 characters)",
    })
    .meta(doc("bridge/vnet name", "required", "Bridge or SDN vnet for eth0.")),
  vlanId: int(1, 4094)
    .optional()
    .meta(doc("1-4094", "none", "VLAN tag.")),
  macAddress: z
    .string()
    .regex(MAC_ADDRESS, { error: "must look like BC:24:11:AA:BB:CC" })
    .optional()
    .meta(
      doc("`BC:24:11:AA:BB:CC`", "generated", "Fixed MAC (keeps a DHCP reservation across re-creation)."),
    ),
  firewall: bool.default(false).meta(doc("bool", "`false`", "Proxmox firewall on the NIC.")),
  ipv4: ipv4Schema.default("dhcp"),
  dnsServers: z
    .array(z.string().refine(isIpv4, { error: "must be an IPv4 address" }))
    .max(3, { error: "must have at most 3 entries (Proxmox's nameserver limit)" })
    .default([])
    .meta(doc("list of IPv4", "node's", "DNS servers.")),
  dnsDomain: z
    .string()
    .refine((d) => !hostnameProblem(d), { error: "must be a DNS domain" })
    .optional()
    .meta(doc("DNS domain", "node's", "Search domain.")),
});

const rawLxcSchema = strictObject({
  // The documented workaround for the November 2025 runc/AppArmor breakage of Docker in LXC on hosts with lxc-pve
  // older than 6.0.5-2. Off by default: it weakens isolation.
  apparmorUnconfined: bool
    .default(false)
    .meta(doc("bool", "`false`", "Write `lxc.apparmor.profile: unconfined` (see Troubleshooting).")),
  extraLines: list(
    z.string().regex(/^lxc\.[a-z0-9._]{1,64}: [^\r\n\0\u0085\u2028\u2029]{1,1024}$/, {
      error: "must be one line of the form 'lxc.<key>: <value>'",
    }),
  )
    .default([])
    .meta(doc("list of `lxc.<key>: <value>`", "`[]`", "Other raw lines the API cannot set.")),
});

/** The uid/gid the gateway writes as (shared with existing Docker hosts). */
export const gatewayIdsSchema = strictObject({
  uid: int(GATEWAY_ID_MIN, GATEWAY_ID_MAX)
    .default(10000)
    .meta(
      doc(
        `${GATEWAY_ID_MIN}-${GATEWAY_ID_MAX}`,
        "`10000`",
        "Uid the gateway writes as (hermes: 10000); in an LXC the node sees 100000 + uid.",
      ),
    ),
  gid: int(GATEWAY_ID_MIN, GATEWAY_ID_MAX)
    .default(10000)
    .meta(doc(`${GATEWAY_ID_MIN}-${GATEWAY_ID_MAX}`, "`10000`", "Gid likewise.")),
});

export const lxcSchema = strictObject({
  node: z
    .string({ error: "must name a node from proxmox.nodes" })
    .regex(NODE_NAME, { error: "must name a node from proxmox.nodes" })
    .meta(doc("key of `proxmox.nodes`", "required", "Node that hosts the LXC.")),
  vmId: int(100, 999999999).meta(doc("100-999999999", "required", "Fixed VMID.")),
  hostname: checked(hostnameProblem)
    .optional()
    .meta(doc("DNS name, lowercase", "the LXC's name", "Container hostname.")),
  description: text(8192)
    .default("hermes-agent gateway (managed by Pulumi: hermes-lxc)")
    .meta(doc("text, up to 8 KiB", "managed-by note", "Proxmox notes.")),
  template: templateSchema.default({
    url: DEFAULT_TEMPLATE_URL,
    checksumAlgorithm: "sha512",
    datastore: "local",
  }),
  cores: int(1, 128)
    .default(2)
    .meta(doc("1-128", "`2`", "CPU cores.")),
  memoryMb: int(1536, 1048576, "MB")
    .default(4096)
    .meta(
      doc("1536-1048576", "`4096`", "Dedicated memory (MB); hermes needs 1 GB, Docker and the OS some more."),
    ),
  swapMb: int(0, 1048576, "MB")
    .default(512)
    .meta(doc("0-1048576", "`512`", "Swap (MB).")),
  rootfs: strictObject({
    datastore: storageId
      .default("local-lvm")
      .meta(doc("storage id", "`local-lvm`", "Rootfs storage (Docker images live here).")),
    sizeGb: int(8, 65536, "GB")
      .default(24)
      .meta(doc("8-65536", "`24`", "Rootfs size (GB); growing is in place, shrinking re-creates.")),
  }).prefault({}),
  network: networkSchema,
  startOnBoot: bool.default(true).meta(doc("bool", "`true`", "Start with the node.")),
  tags: list(checked(tagProblem))
    .default(["hermes", "pulumi"])
    .meta(doc("lowercase tags", "`[hermes, pulumi]`", "Proxmox tags (uppercase would diff forever).")),
  rootSshKeys: list(sshPublicKey)
    .min(1, { error: "must list at least one key: the program connects as root over SSH" })
    .meta(
      doc(
        "list of public keys, 1+",
        "required",
        "Keys allowed to log in as root (the program's own key among them).",
      ),
    ),
  protect: bool
    .default(true)
    .meta(
      doc(
        "bool",
        "`true`",
        "Pulumi `protect` plus Proxmox's protection flag (a replacement destroys the rootfs).",
      ),
    ),
  gateway: gatewayIdsSchema.prefault({}),
  // One state mount for all agents: adding an agent must not change mount points (that restarts the LXC).
  stateMount: strictObject({
    hostPath: checked(hostPathProblem)
      .optional()
      .meta(
        doc(
          "absolute path",
          "`/var/lib/hermes-lxc/<lxc>`",
          "Host directory with every agent's `/opt/data` (survives LXC re-creation).",
        ),
      ),
    containerPath: checked(containerPathProblem)
      .default("/srv/hermes")
      .meta(
        doc("absolute path", "`/srv/hermes`", "Where it appears in the LXC; agent `<a>` uses `<path>/<a>`."),
      ),
  }).prefault({}),
  mounts: list(mountSchema).default([]),
  rawConfig: rawLxcSchema.prefault({}),
  readinessTimeoutSeconds: int(10, 3600)
    .default(300)
    .meta(doc("10-3600", "`300`", "Wait for running + address + sshd after (re)start.")),
  docker: dockerSchema(true).prefault({}),
  snapshots: snapshotsSchema,
  ha: haSchema.optional(),
});

/** The LXC block as parsed, before the cross-field rules. */
export type ParsedLxc = z.output<typeof lxcSchema>;

/** One bind mount of a host directory into the LXC. */
export interface LxcMountConfig {
  /** Short name (workspace mount name for agents). */
  name: string;
  /** Host directory. */
  hostPath: string;
  /** Path inside the LXC. */
  containerPath: string;
  /** Mounted read-only. */
  readOnly: boolean;
  /** Must be on another filesystem than the node's /. */
  onSeparateDisk: boolean;
  /** On a shared storage (proxmox.storages, kind shared): mounted with `shared=1`, so the CT can migrate. */
  shared: boolean;
}

/** One LXC, fully defaulted. */
export interface LxcConfig extends Omit<ParsedLxc, "hostname" | "stateMount" | "mounts" | "template" | "ha"> {
  /** Key in `lxcs`. */
  name: string;
  hostname: string;
  template:
    | {
        kind: "download";
        url: string;
        checksum?: string;
        checksumAlgorithm: "sha256" | "sha512";
        datastore: string;
        fileName: string;
      }
    | { kind: "existing"; fileId: string };
  stateMount: { hostPath: string; containerPath: string; shared: boolean };
  /** HA settings, resolved (haRules.ts); undefined when the LXC is not HA-managed. */
  ha?: HaConfig;
  mounts: LxcMountConfig[];
  /** The node entry this LXC lives on. */
  nodeAddress: string;
  nodeSshPort: number;
  nodeHostKey: string;
}
