/**
 * The PVE-format CT config file and its schema, as pve-container keeps /etc/pve/lxc/<vmid>.conf.
 *
 *  - parse: parse_pct_config (pve-container src/PVE/LXC/Config.pm:1126-1222): blank lines skipped; `#` lines are
 *    the description, each decoded and given a trailing "\n" (:1175); `lxc.*` lines kept as [key, value] pairs;
 *    values type-checked by check_type (:1403-1436: booleans become 1/0, integers int); `[pve:pending]` and
 *    `[<snapshot>]` sections; `digest` is the SHA-1 of the raw file.
 *  - write: write_pct_config (:1224-1299): the description as `#` lines (encode_text), then `key: value` sorted,
 *    then the raw lxc lines, then `[pve:pending]` if not empty.
 *  - property strings: rootfs/mpN/netN/features formats (:345-500, :845-1000, :1001-1080).
 */
import { createHash, randomBytes } from "node:crypto";
import type { CtConfig } from "./backend";
import { FormatDesc, parsePropertyString, printPropertyString, PropValues } from "./propertyString";

type OptType = "string" | "boolean" | "integer" | "number";

/** $confdesc (pve-container src/PVE/LXC/Config.pm:512-720), types only, plus the indexed keys (:720-845). */
const CONF_TYPES: Record<string, OptType> = {
  lock: "string",
  onboot: "boolean",
  template: "boolean",
  arch: "string",
  ostype: "string",
  console: "boolean",
  tty: "integer",
  cores: "integer",
  cpulimit: "number",
  cpuunits: "integer",
  memory: "integer",
  swap: "integer",
  hostname: "string",
  description: "string",
  searchdomain: "string",
  nameserver: "string",
  timezone: "string",
  parent: "string",
  snaptime: "integer",
  cmode: "string",
  entrypoint: "string",
  protection: "boolean",
  unprivileged: "boolean",
  features: "string",
  env: "string",
  hookscript: "string",
  tags: "string",
  debug: "boolean",
  startup: "string",
  rootfs: "string",
};
const INDEXED = /^(mp|net|unused|dev)(\d+)$/;

export function optionType(key: string): OptType | undefined {
  if (CONF_TYPES[key]) return CONF_TYPES[key];
  const m = INDEXED.exec(key);
  if (m && Number(m[2]) < 256) return "string";
  return undefined;
}

/** check_type (Config.pm:1403-1436). Returns the stored form, or throws with Proxmox's text. */
export function checkType(key: string, value: string): string {
  const type = optionType(key);
  if (!type) throw new Error(`unknown setting '${key}'`);
  if (/[\n\r]/.test(value) && key !== "description") throw new Error("property contains a line feed");
  if (type === "boolean") {
    if (value === "1" || /^(on|yes|true)$/i.test(value)) return "1";
    if (value === "0" || /^(off|no|false)$/i.test(value)) return "0";
    throw new Error(`type check ('boolean') failed - got '${value}'`);
  }
  if (type === "integer") {
    if (/^\d+$/.test(value)) return String(parseInt(value, 10));
    throw new Error(`type check ('integer') failed - got '${value}'`);
  }
  if (type === "number") {
    if (/^\d+(\.\d+)?$/.test(value)) return value;
    throw new Error(`type check ('number') failed - got '${value}'`);
  }
  return value;
}

/** $rootfs_desc (Config.pm:345-430). `idmap` exists since pve-container 6.x (PVE 9.2) and is left out. */
export const ROOTFS_DESC: FormatDesc = {
  volume: { type: "string", defaultKey: true },
  size: { type: "string", optional: true, format: "disk-size" },
  acl: { type: "boolean", optional: true },
  mountoptions: { type: "string", optional: true },
  ro: { type: "boolean", optional: true },
  quota: { type: "boolean", optional: true },
  replicate: { type: "boolean", optional: true },
  shared: { type: "boolean", optional: true },
};
/** $mp_desc (Config.pm:1001-1030): rootfs plus backup, mp (required), keepattrs. */
export const MP_DESC: FormatDesc = {
  ...ROOTFS_DESC,
  backup: { type: "boolean", optional: true },
  mp: { type: "string" },
  keepattrs: { type: "boolean", optional: true },
};
/** $netconf_desc (Config.pm:845-1000). `host-managed` only exists from PVE 9.1 on (pve-container 6.0.x). */
export function netDesc(hostManaged: boolean): FormatDesc {
  const desc: FormatDesc = {
    type: { type: "string", optional: true },
    name: { type: "string" },
    bridge: { type: "string", optional: true },
    hwaddr: { type: "string", optional: true },
    mtu: { type: "integer", optional: true },
    ip: { type: "string", optional: true },
    gw: { type: "string", optional: true },
    ip6: { type: "string", optional: true },
    gw6: { type: "string", optional: true },
    firewall: { type: "boolean", optional: true },
    tag: { type: "integer", optional: true },
    trunks: { type: "string", optional: true },
    rate: { type: "number", optional: true },
    link_down: { type: "boolean", optional: true },
  };
  if (hostManaged) desc["host-managed"] = { type: "boolean", optional: true };
  return desc;
}
/** $features_desc (Config.pm:453-510). */
export const FEATURES_DESC: FormatDesc = {
  mount: { type: "string", optional: true },
  nesting: { type: "boolean", optional: true },
  keyctl: { type: "boolean", optional: true },
  fuse: { type: "boolean", optional: true },
  mknod: { type: "boolean", optional: true },
  force_rw_sys: { type: "boolean", optional: true },
};

/** One section of a conf file. `props` holds `description` decoded (lines joined with "\n", each ending in one). */
export interface Section extends CtConfig {
  props: Record<string, string>;
  lxc: Array<[string, string]>;
}
export interface ConfFile {
  main: Section;
  /** `[pve:pending]`; its props may hold `delete`. */
  pending: Section;
  snapshots: Record<string, Section>;
  digest: string;
}

const emptySection = (): Section => ({ props: {}, lxc: [] });

/** encode_text / decode_text (pve-common src/PVE/ParseUtils.pm:62-70): control/high-bit chars, ':' and '%'. */
function encodeText(text: string): string {
  return Array.from(Buffer.from(text, "utf8"))
    .map((b) =>
      b < 0x20 || b === 0x25 || b === 0x3a || b > 0x7e
        ? `%${b.toString(16).toUpperCase().padStart(2, "0")}`
        : String.fromCharCode(b),
    )
    .join("");
}
function decodeText(data: string): string {
  try {
    return decodeURIComponent(data);
  } catch {
    return data;
  }
}

export function parseConf(raw: string): ConfFile {
  const res: ConfFile = {
    main: emptySection(),
    pending: emptySection(),
    snapshots: {},
    digest: createHash("sha1").update(raw).digest("hex"),
  };
  let conf = res.main;
  let descr = "";
  let section = "";
  const flushDescr = () => {
    if (descr) conf.props.description = descr;
    descr = "";
  };
  for (const line of raw.split("\n")) {
    if (/^\s*$/.test(line)) continue;
    let m: RegExpExecArray | null;
    if (/^\[pve:pending\]\s*$/i.test(line)) {
      flushDescr();
      section = "pending";
      conf = res.pending;
      continue;
    } else if ((m = /^\[([a-z][a-z0-9_-]+)\]\s*$/i.exec(line))) {
      flushDescr();
      section = m[1];
      conf = res.snapshots[section] = emptySection();
      continue;
    }
    if ((m = /^#(.*)$/.exec(line))) {
      descr += `${decodeText(m[1])}\n`;
    } else if ((m = /^(lxc\.[a-z0-9_.-]+)(:|\s*=)\s*(.*?)\s*$/.exec(line))) {
      conf.lxc.push([m[1], m[3]]);
    } else if ((m = /^(description):\s*(.*\S)\s*$/.exec(line))) {
      descr += decodeText(m[2]);
    } else if ((m = /^delete:\s*(.*\S)\s*$/.exec(line))) {
      if (section === "pending") conf.props.delete = m[1];
    } else if ((m = /^([a-z][a-z_]*\d*):\s*(.+?)\s*$/.exec(line))) {
      // Non-strict parse: a bad value is warned about and kept as it is (Config.pm:1201-1204).
      let value = m[2];
      try {
        value = checkType(m[1], value);
      } catch {
        /* kept raw */
      }
      conf.props[m[1]] = value;
    }
  }
  flushDescr();
  return res;
}

function writeSection(sec: Section): string {
  let raw = "";
  // Perl's split(/\n/) drops trailing empty fields, so the description's final newline(s) are not written.
  const lines = (sec.props.description ?? "").split("\n");
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  for (const cl of lines) raw += `#${encodeText(cl)}\n`;
  for (const key of Object.keys(sec.props).sort()) {
    if (key === "description" || key === "digest") continue;
    const value = sec.props[key];
    if (value.includes("\n")) throw new Error(`detected invalid newline inside property '${key}'`);
    raw += `${key}: ${value}\n`;
  }
  for (const [k, v] of sec.lxc) raw += `${k}: ${v}\n`;
  return raw;
}

export function writeConf(conf: ConfFile): string {
  let raw = writeSection(conf.main);
  if (Object.keys(conf.pending.props).length || conf.pending.lxc.length)
    raw += `\n[pve:pending]\n${writeSection(conf.pending)}`;
  for (const name of Object.keys(conf.snapshots).sort())
    raw += `\n[${name}]\n${writeSection(conf.snapshots[name])}`;
  return raw;
}

/** A section as the API returns it: typed JSON (integers and booleans as numbers), `lxc` as pairs. */
export function toJson(sec: Section, digest?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(sec.props)) {
    const type = optionType(k);
    out[k] =
      type === "boolean" || type === "integer" || type === "number"
        ? /^-?\d+(\.\d+)?$/.test(v)
          ? Number(v)
          : v
        : v;
  }
  if (sec.lxc.length) out.lxc = sec.lxc.map(([k, v]) => [k, v]);
  if (digest) out.digest = digest;
  return out;
}

/** load_current_config (pve-guest-common src/PVE/AbstractConfig.pm:229-252): pending values merged in, pending
 *  deletions removed, unless `current`. */
export function currentView(conf: ConfFile, current: boolean): Section {
  const props = { ...conf.main.props };
  if (!current) {
    for (const [k, v] of Object.entries(conf.pending.props)) if (k !== "delete") props[k] = v;
    for (const k of parsePendingDelete(conf.pending.props.delete)) delete props[k];
  }
  return { props, lxc: conf.main.lxc };
}

/** parse_pending_delete (AbstractConfig.pm:100-118), keys only (force `!` is not used by CTs). */
export function parsePendingDelete(data: string | undefined): string[] {
  if (!data) return [];
  return data
    .replace(/[,;]/g, " ")
    .trim()
    .split(/\s+/)
    .map((e) => e.replace(/^!/, ""))
    .filter(Boolean);
}
export function printPendingDelete(keys: string[]): string {
  return [...new Set(keys)].sort().join(",");
}

/** classify_mountpoint (Config.pm:1897-1905). */
export function mountType(volume: string): "bind" | "device" | "volume" {
  if (volume.startsWith("/dev/")) return "device";
  if (volume.startsWith("/")) return "bind";
  return "volume";
}

export function parseVolume(key: string, value: string): PropValues {
  const res = parsePropertyString(key === "rootfs" ? ROOTFS_DESC : MP_DESC, value);
  if (key === "rootfs") res.mp = "/";
  return res;
}
/** print_ct_mountpoint (Config.pm:1486-1497): rootfs skips `mp`. */
export function printVolume(key: string, mp: PropValues): string {
  const { mp: _mp, ...rest } = mp;
  return key === "rootfs" ? printPropertyString(ROOTFS_DESC, rest) : printPropertyString(MP_DESC, mp);
}

/** parse_lxc_network (Config.pm:1566-1580): type forced to veth, hwaddr made up from the mac prefix (default
 *  BC:24:11, the datacenter.cfg default; random_ether_addr in pve-common src/PVE/Tools.pm). */
export function parseNet(value: string, hostManaged: boolean): PropValues {
  const res = parsePropertyString(netDesc(hostManaged), value);
  res.type = "veth";
  if (!res.hwaddr) {
    const b = randomBytes(3);
    res.hwaddr = [
      "BC",
      "24",
      "11",
      ...Array.from(b).map((x) => x.toString(16).toUpperCase().padStart(2, "0")),
    ].join(":");
  }
  return res;
}
export function printNet(net: PropValues, hostManaged: boolean): string {
  return printPropertyString(netDesc(hostManaged), net);
}

/** get_unique_tags (pve-guest-common src/PVE/GuestHelpers.pm): lower-cased, sorted, unique, ';'-joined. */
export function uniqueTags(tags: string): string {
  const list = tags
    .replace(/[,;]/g, " ")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => t.toLowerCase())
    .sort();
  return [...new Set(list)].join(";");
}
