/**
 * Format checks shared by the config schema. Each returns a reason string when the value is not acceptable
 * (so the schema can say what is allowed) and `undefined` when it is. Pure: no Pulumi, no I/O.
 */
import * as crypto from "node:crypto";
import * as net from "node:net";

/** Characters allowed in host and container paths. Proxmox mount-point strings are comma/equals separated,
 * and the paths also travel through shell commands, so anything outside this set is rejected, not escaped. */
const PATH_CHARS = /^[A-Za-z0-9._@+/-]+$/;

/** The operating system's own trees on any Debian host: nothing of this program's may live inside them. */
export const OS_TREES = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/proc",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
];

/**
 * Host paths whose subtree must never be handed to the gateway's uid: chowning these breaks the node. No entry lies
 * inside another (/etc/pve is inside /etc): a shadowed entry would be a rule that never runs
 * (tests/unit/validators.test.ts checks that each entry is the one that refuses it).
 */
export const FORBIDDEN_HOST_TREES = [
  ...OS_TREES,
  "/root",
  "/var/lib/docker",
  "/var/lib/lxc",
  "/var/lib/vz",
  "/var/log",
  // A Proxmox node's own state (pmxcfs database, RRD graphs, Ceph, firewall, HA, apt and dpkg, systemd), spools
  // and caches, and guest volumes: handing any of these to the gateway's uid breaks the node or another guest.
  "/var/lib/pve-cluster",
  "/var/lib/pve-manager",
  "/var/lib/pve-firewall",
  "/var/lib/pve",
  "/var/lib/rrdcached",
  "/var/lib/ceph",
  "/var/lib/apt",
  "/var/lib/dpkg",
  "/var/lib/systemd",
  "/var/lib/private",
  "/var/backups",
  "/var/cache",
  "/var/spool",
  "/var/mail",
  "/var/tmp",
  "/var/run",
  "/var/lock",
  "/rpool/data",
  "/lost+found",
];
/** Directories Proxmox itself keeps inside every directory storage (/mnt/pve/<storage>/...): disk images, backups,
 * templates, container volumes, snippets and imports. */
const PVE_STORAGE_CONTENT = ["images", "dump", "template", "private", "snippets", "import"];
/** Host directories that may hold a bind mount below them but must not be one themselves. */
export const FORBIDDEN_HOST_EXACT = [
  "/home",
  "/media",
  "/mnt",
  "/mnt/pve",
  "/opt",
  "/srv",
  "/tmp",
  "/var",
  "/var/lib",
];
/** Container paths that belong to the OS or to Docker inside the LXC. */
export const FORBIDDEN_CONTAINER_TREES = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib64",
  "/proc",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
  "/var/lib/docker",
  "/var/lib/containerd",
  "/tmp",
];

/** Why `p` is not a clean absolute path (no `.`/`..`, no doubled or trailing slash, safe characters), if it is not. */
export function absolutePathProblem(p: string): string | undefined {
  if (p.length === 0) return "must not be empty";
  if (!p.startsWith("/")) return "must be an absolute path starting with /";
  if (p === "/") return "must not be / (the whole filesystem)";
  if (!PATH_CHARS.test(p))
    return "may only contain letters, digits and . _ @ + - / (no spaces, commas, colons or quotes)";
  if (p.endsWith("/")) return "must not end with /";
  if (p.includes("//")) return "must not contain //";
  const segments = p.split("/").slice(1);
  if (segments.some((s) => s === "." || s === "..")) return "must not contain . or .. segments";
  if (p.length > 255) return "must be at most 255 characters";
  return undefined;
}

/** True when `inner` equals `outer` or lies below it. */
export function isSameOrInside(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer + "/");
}

/** Why `p` may not be a host directory handed to the gateway's uid, if it may not. */
export function hostPathProblem(p: string): string | undefined {
  const basic = absolutePathProblem(p);
  if (basic) return basic;
  const tree = FORBIDDEN_HOST_TREES.find((t) => isSameOrInside(p, t));
  if (tree) return `must not be inside ${tree}: the node's own files would be re-owned`;
  if (FORBIDDEN_HOST_EXACT.includes(p)) return `must be a dedicated subdirectory, not ${p} itself`;
  const segments = p.split("/").slice(1);
  if (segments[0] === "mnt" && segments[1] === "pve") {
    if (segments.length === 3)
      return "must be a dedicated subdirectory of the storage, not the storage's root";
    if (PVE_STORAGE_CONTENT.includes(segments[3]))
      return `must not be inside the storage's ${segments[3]}/ directory, which Proxmox manages`;
  }
  return undefined;
}

/** Why `p` may not be a mount target inside the LXC, if it may not. */
export function containerPathProblem(p: string): string | undefined {
  const basic = absolutePathProblem(p);
  if (basic) return basic;
  const tree = FORBIDDEN_CONTAINER_TREES.find((t) => isSameOrInside(p, t));
  if (tree) return `must not be inside ${tree}, which the container's OS or Docker owns`;
  return undefined;
}

/** RFC 1123 label, lowercase: used for agent and LXC names, which become resource names, paths and hostnames. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A Proxmox node name (cluster member hostname). */
export const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `h` is not a valid container hostname (one or more DNS labels, lowercase), if it is not. */
export function hostnameProblem(h: string): string | undefined {
  if (h.length > 253) return "must be at most 253 characters";
  const labels = h.split(".");
  if (labels.some((l) => !DNS_LABEL.test(l))) {
    return "must be lowercase DNS labels (a-z, 0-9, -; not starting or ending with -) separated by dots";
  }
  return undefined;
}

/** Proxmox tag format. Proxmox lowercases tags, so an uppercase tag would show as a diff on every preview. */
export function tagProblem(t: string): string | undefined {
  if (t !== t.toLowerCase())
    return "must be lowercase (Proxmox stores tags lowercased, and an uppercase one would diff forever)";
  if (!/^[a-z0-9_][a-z0-9_.+-]*$/.test(t))
    return "may only contain a-z, 0-9 and _ . + - and must not start with . + -";
  if (t.length > 64) return "must be at most 64 characters";
  return undefined;
}

/** Dotted-quad IPv4 address. Node's own check (>= 20, the `engines` floor) already refuses a leading zero in any
 * octet, which some parsers read as octal; tests/unit/validators.test.ts holds it to that. */
export function isIpv4(a: string): boolean {
  return net.isIPv4(a);
}

/** 32-bit value of a dotted-quad IPv4 address. */
export function ipv4ToInt(a: string): number {
  return a.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** Why `cidr` is not an IPv4 host address with prefix (e.g. 10.1.10.30/24), if it is not. */
export function ipv4CidrProblem(cidr: string): string | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || !isIpv4(m[1])) return "must be an IPv4 address with prefix length, e.g. 10.1.10.30/24";
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 32) return "prefix length must be between 8 and 32";
  const mask = prefixMask(prefix);
  const host = ipv4ToInt(m[1]);
  if (prefix <= 30) {
    if ((host & ~mask) >>> 0 === 0) return "is the network address of its subnet, not a host address";
    if ((host | mask) >>> 0 === 0xffffffff) return "is the broadcast address of its subnet";
  }
  return undefined;
}

/** The netmask of a prefix length in 8..32 (what ipv4CidrProblem accepts; JavaScript shifts by 32 as by 0). */
function prefixMask(prefix: number): number {
  return (0xffffffff << (32 - prefix)) >>> 0;
}

/** True when `ip` lies in the subnet of `cidr`, a CIDR that ipv4CidrProblem accepts (prefix 8..32). */
export function ipv4InSubnet(ip: string, cidr: string): boolean {
  const [addr, prefixText] = cidr.split("/");
  const mask = prefixMask(Number(prefixText));
  return (ipv4ToInt(ip) & mask) >>> 0 === (ipv4ToInt(addr) & mask) >>> 0;
}

/** Linux bridge or Proxmox SDN vnet name (kernel interface names are at most 15 characters). */
export const BRIDGE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

/** Unicast MAC address in the colon form Proxmox stores. */
export const MAC_ADDRESS = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
];

/** Parsed OpenSSH public key line. */
export interface SshPublicKey {
  /** Key algorithm, e.g. ssh-ed25519. */
  type: string;
  /** Base64 key blob. */
  base64: string;
  /** Optional trailing comment. */
  comment?: string;
}

/** Parses `type base64 [comment]`; the blob must decode and name the same type. Returns a reason on failure. */
export function parseSshPublicKey(line: string): SshPublicKey | string {
  if (/[\r\n\0]/.test(line)) return "must be a single line";
  const parts = line.trim().split(/ +/);
  if (parts.length < 2) return "must look like 'ssh-ed25519 AAAA... [comment]'";
  const [type, base64, ...rest] = parts;
  if (!SSH_KEY_TYPES.includes(type)) return `key type must be one of ${SSH_KEY_TYPES.join(", ")}`;
  if (!/^[A-Za-z0-9+/]+={0,3}$/.test(base64)) return "key blob is not base64";
  const fields = blobFields(Buffer.from(base64, "base64"));
  if (fields === undefined) return "key blob is truncated or malformed";
  if (fields.length === 0 || fields[0].toString("latin1") !== type)
    return `key blob does not contain a ${type} key`;
  const keyProblem = KEY_SHAPES[type](fields.slice(1));
  if (keyProblem) return `key blob ${keyProblem}`;
  return rest.length > 0 ? { type, base64, comment: rest.join(" ") } : { type, base64 };
}

/** The length-prefixed fields of an SSH wire-format blob (RFC 4251 `string`), or undefined when it does not split
 * into whole fields. */
function blobFields(blob: Buffer): Buffer[] | undefined {
  const fields: Buffer[] = [];
  for (let at = 0; at < blob.length;) {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) return undefined;
    fields.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return fields;
}

/** What follows the type name in each key type's blob (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4, OpenSSH
 * PROTOCOL.u2f): a line that names its type but carries no key, or a truncated key, is refused. */
const ecPoint = (curve: string, bytes: number, extra: number) => (f: Buffer[]) =>
  f.length !== 2 + extra || f[0].toString("latin1") !== curve || f[1].length !== bytes || f[1][0] !== 4
    ? `does not hold a ${curve} public key`
    : undefined;
const ed25519 = (extra: number) => (f: Buffer[]) =>
  f.length !== 1 + extra || f[0].length !== 32 ? "does not hold a 32-byte ed25519 public key" : undefined;
const KEY_SHAPES: Record<string, (fields: Buffer[]) => string | undefined> = {
  "ssh-ed25519": ed25519(0),
  "sk-ssh-ed25519@openssh.com": ed25519(1),
  "ssh-rsa": (f) =>
    f.length !== 2 || f[0].length === 0 || f[1].length < 128
      ? "does not hold an RSA key of 1024+ bits"
      : undefined,
  "ecdsa-sha2-nistp256": ecPoint("nistp256", 65, 0),
  "ecdsa-sha2-nistp384": ecPoint("nistp384", 97, 0),
  "ecdsa-sha2-nistp521": ecPoint("nistp521", 133, 0),
  "sk-ecdsa-sha2-nistp256@openssh.com": ecPoint("nistp256", 65, 1),
};

/** OpenSSH's SHA256 fingerprint of a public key (`SHA256:...` without padding), as `ssh-keygen -lf` prints it. */
export function sshFingerprint(key: SshPublicKey): string {
  const digest = crypto.createHash("sha256").update(Buffer.from(key.base64, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}
