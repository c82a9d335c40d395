/**
 * The /nodes/{node}/lxc endpoints, with pve-container's checks, their order and their texts. Every rule cites
 * pve-container (src/...) or pve-guest-common (AbstractConfig.pm) at the snapshot the README names.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import type { ContainerBackend, CtRef, MountSpec, TaskContext } from "./backend";
import { ApiError, die, paramError, permError } from "./errors";
import {
  checkType,
  ConfFile,
  currentView,
  FEATURES_DESC,
  mountType,
  optionType,
  parseNet,
  parsePendingDelete,
  parseVolume,
  printNet,
  printPendingDelete,
  printVolume,
  Section,
  toJson,
  uniqueTags,
  MP_DESC,
  ROOTFS_DESC,
  netDesc,
} from "./pveConf";
import { parsePropertyString, parseSize, PropValues } from "./propertyString";
import type { ClusterState } from "./state";
import type { TaskManager } from "./tasks";

export interface LxcContext {
  state: ClusterState;
  tasks: TaskManager;
  backend: ContainerBackend;
  /** PVE ≥ 9.1 knows `host-managed` in netN (pve-container 6.0.x). */
  hostManaged: boolean;
  /** VMIDs configured as HA resources (simulated HA: only the destroy check of LXC.pm:866-872 uses it). */
  haResources: Set<number>;
}

type Params = Record<string, string>;

/** Extra parameters of create_vm besides the config keys (src/PVE/API2/LXC.pm:160-250). */
const CREATE_EXTRA: Record<string, "string" | "boolean" | "integer"> = {
  node: "string",
  vmid: "integer",
  ostemplate: "string",
  password: "string",
  "ssh-public-keys": "string",
  storage: "string",
  start: "boolean",
  restore: "boolean",
  force: "boolean",
  pool: "string",
  unique: "boolean",
  "ignore-unpack-errors": "boolean",
  bwlimit: "string",
  "ha-managed": "boolean",
};
const UPDATE_EXTRA: Record<string, "string" | "boolean" | "integer"> = {
  node: "string",
  vmid: "integer",
  delete: "string",
  revert: "string",
  digest: "string",
};

/** The JSON-schema check every API call gets before its code runs (pve-common src/PVE/JSONSchema.pm
 *  validate/check_prop): unknown parameters, types and property-string formats, all errors at once. */
function validate(ctx: LxcContext, params: Params, extra: Record<string, string>, required: string[]): void {
  const errors: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (extra[k]) {
      if (extra[k] === "boolean" && !/^(0|1|on|off|yes|no|true|false)$/i.test(v))
        errors[k] = `type check ('boolean') failed - got '${v}'`;
      if (extra[k] === "integer" && !/^\d+$/.test(v))
        errors[k] = `type check ('integer') failed - got '${v}'`;
      continue;
    }
    if (!optionType(k) || k === "lock" || k === "parent" || k === "snaptime") {
      errors[k] = "property is not defined in schema and the schema does not allow additional properties";
      continue;
    }
    try {
      if (k !== "description") checkType(k, v);
      if (k === "rootfs") parsePropertyString(ROOTFS_DESC, v);
      else if (/^mp\d+$/.test(k)) parsePropertyString(MP_DESC, v);
      else if (/^net\d+$/.test(k)) parsePropertyString(netDesc(ctx.hostManaged), v);
      else if (k === "features") parsePropertyString(FEATURES_DESC, v);
    } catch (e) {
      const msg = (e as Error).message;
      errors[k] = /^type check/.test(msg) ? msg : `invalid format - ${msg}\n`;
    }
  }
  for (const r of required)
    if (params[r] === undefined) errors[r] = "property is missing and it is not optional";
  if (Object.keys(errors).length) throw paramError(errors);
}

const isRoot = (user: string) => user === "root@pam";
const bool = (v: string | undefined) => v !== undefined && /^(1|on|yes|true)$/i.test(v);

/** check_ct_modify_config_perm (src/PVE/LXC.pm:1655-1756). Returns at once for root@pam (:1658); a token
 *  (`root@pam!<id>`) gets the checks. Privileges other than these root-only rules are simulated as granted.
 *  Proxmox walks the parameters in Perl hash order (random per process); the double walks them in request
 *  order, so a test must accept either of two texts when both a bind mount and a feature flag are sent. */
function checkModifyPerm(
  user: string,
  oldconf: Params | undefined,
  newconf: Params,
  del: string[],
  unprivileged: boolean,
): void {
  if (isRoot(user)) return;
  const check = (opt: string, isDelete: boolean) => {
    if (opt === "rootfs" || /^mp\d+$/.test(opt)) {
      if (isDelete) return;
      const type = mountType(parseVolume(opt, newconf[opt]).volume);
      if (type !== "volume") throw permError(`mount point type ${type} is only allowed for root@pam`); // :1669
    } else if (/^dev\d+$/.test(opt)) {
      throw permError("configuring device passthrough is only allowed for root@pam"); // :1686
    } else if (opt === "features") {
      if (!unprivileged)
        throw permError("changing feature flags for privileged container is only allowed for root@pam");
      let other = false;
      const parse = (v: string | undefined) => (v ? parsePropertyString(FEATURES_DESC, v) : {});
      if (!isDelete) {
        const features = parse(newconf[opt]);
        if (oldconf?.[opt]) {
          const old = parse(oldconf[opt]);
          for (const f of new Set([...Object.keys(old), ...Object.keys(features)])) {
            if ((old[f] ?? "") !== (features[f] ?? "") && f !== "nesting") other = true;
          }
        } else {
          const keys = Object.keys(features);
          other = !(keys.length === 1 && keys[0] === "nesting") && keys.length > 0; // :1715-1722
        }
      } else {
        const keys = Object.keys(parse(oldconf?.[opt]));
        other = !(keys.length === 1 && keys[0] === "nesting") && keys.length > 0;
      }
      if (other) throw permError("changing feature flags (except nesting) is only allowed for root@pam"); // :1732
    } else if (opt === "hookscript") {
      throw permError("changing the hookscript is only allowed for root@pam");
    }
  };
  for (const opt of Object.keys(newconf)) check(opt, false);
  for (const opt of del) check(opt, true);
}

/** The storage directory standing in for a volume id `<storage>:<volname>`. */
function volumeDir(ctx: LxcContext, node: string, volid: string): string {
  const i = volid.indexOf(":");
  const storage = volid.slice(0, i);
  ctx.state.storage(node, storage);
  return ctx.state.layout.volumeDir(node, storage, volid.slice(i + 1));
}

export function mountsOf(ctx: LxcContext, node: string, sec: Section): MountSpec[] {
  const keys = Object.keys(sec.props)
    .filter((k) => k === "rootfs" || /^mp\d+$/.test(k))
    .sort((a, b) => (a === "rootfs" ? -1 : b === "rootfs" ? 1 : Number(a.slice(2)) - Number(b.slice(2))));
  return keys.map((key) => {
    const mp = parseVolume(key, sec.props[key]);
    const type = mountType(mp.volume);
    return {
      key,
      target: mp.mp,
      type: type === "volume" ? "volume" : "bind",
      source: type === "volume" ? volumeDir(ctx, node, mp.volume) : mp.volume,
      readOnly: mp.ro === "1",
    };
  });
}

/** vmconfig_apply_pending (src/PVE/LXC/Config.pm:1749-1845) for a stopped CT or at start. */
export function applyPending(ctx: LxcContext, node: string, vmid: number, conf: ConfFile): void {
  const main = conf.main.props;
  const pend = conf.pending.props;
  for (const opt of parsePendingDelete(pend.delete)) {
    if (/^mp\d+$/.test(opt) && main[opt]) {
      const mp = parseVolume(opt, main[opt]);
      if (mountType(mp.volume) === "volume") addUnused(main, mp.volume);
    }
    delete main[opt];
  }
  delete pend.delete;
  cleanupPending(conf);
  for (const opt of Object.keys(pend).sort()) {
    let value = pend[opt];
    if (/^mp\d+$/.test(opt))
      value = printVolume(opt, allocIfNew(ctx, node, vmid, opt, parseVolume(opt, value)));
    else if (/^net\d+$/.test(opt)) value = printNet(parseNet(value, ctx.hostManaged), ctx.hostManaged);
    main[opt] = value;
    delete pend[opt];
  }
}

function addUnused(props: Params, volid: string): void {
  for (let i = 0; i < 256; i++) {
    if (props[`unused${i}`] === undefined) {
      props[`unused${i}`] = volid;
      return;
    }
  }
}

/** cleanup_pending (AbstractConfig.pm:138-170): a pending value equal to the current one is dropped; a pending
 *  delete of an unset key is dropped. */
function cleanupPending(conf: ConfFile): void {
  const main = conf.main.props;
  const pend = conf.pending.props;
  for (const opt of Object.keys(pend))
    if (opt !== "delete" && main[opt] !== undefined && pend[opt] === main[opt]) delete pend[opt];
  const del = parsePendingDelete(pend.delete).filter((k) => main[k] !== undefined);
  if (del.length) pend.delete = printPendingDelete(del);
  else delete pend.delete;
}

/** $LXC_FASTPLUG_OPTIONS (src/PVE/LXC/Config.pm:1612-1622). */
const FASTPLUG = new Set([
  "description",
  "onboot",
  "startup",
  "protection",
  "hostname",
  "hookscript",
  "cores",
  "tags",
  "lock",
]);

/** vmconfig_hotplug_pending (src/PVE/LXC/Config.pm:1624-1747) for a running CT: fast-plug options at once;
 *  memory, swap, cpulimit, cpuunits, netN and a *new* mpN through the backend; everything else stays pending
 *  until the next start (features, nameserver, searchdomain, ostype, arch, console, rootfs, changed mpN, …). */
async function hotplugPending(
  ctx: LxcContext,
  ct: CtRef,
  conf: ConfFile,
  modified: Set<string>,
): Promise<Record<string, string>> {
  const errors: Record<string, string> = {};
  const main = conf.main.props;
  const pend = conf.pending.props;
  for (const opt of Object.keys(pend).sort()) {
    if (modified.has(opt) && FASTPLUG.has(opt)) {
      main[opt] = pend[opt];
      delete pend[opt];
    }
  }
  const plug = async (opt: string, merged: Section) => {
    try {
      await ctx.backend.hotplug(ct, merged, [opt]);
      return true;
    } catch (e) {
      errors[opt] = `unable to hotplug ${opt}: ${(e as Error).message}`;
      return false;
    }
  };
  const del = parsePendingDelete(pend.delete);
  for (const opt of del.filter((o) => modified.has(o)).sort()) {
    if (FASTPLUG.has(opt) || ["swap", "cpulimit", "cpuunits"].includes(opt) || /^net\d+$/.test(opt)) {
      const merged = { props: { ...main }, lxc: conf.main.lxc };
      delete merged.props[opt];
      if (FASTPLUG.has(opt) || (await plug(opt, merged))) {
        delete main[opt];
        pend.delete = printPendingDelete(parsePendingDelete(pend.delete).filter((k) => k !== opt));
        if (!pend.delete) delete pend.delete;
      }
    }
  }
  for (const opt of Object.keys(pend).sort()) {
    if (opt === "delete" || !modified.has(opt)) continue;
    let value = pend[opt];
    const hot =
      ["cpulimit", "cpuunits", "memory", "swap"].includes(opt) ||
      /^net\d+$/.test(opt) ||
      (/^mp\d+$/.test(opt) && main[opt] === undefined);
    if (!hot) continue;
    if (/^net\d+$/.test(opt)) value = printNet(parseNet(value, ctx.hostManaged), ctx.hostManaged);
    if (/^mp\d+$/.test(opt))
      value = printVolume(opt, allocIfNew(ctx, ct.node, ct.vmid, opt, parseVolume(opt, value)));
    const merged = { props: { ...main, [opt]: value }, lxc: conf.main.lxc };
    if (await plug(opt, merged)) {
      main[opt] = value;
      delete pend[opt];
    }
  }
  return errors;
}

/** NEW_DISK_RE (src/PVE/LXC.pm:63) and create_disks (:2627-2690): `<storage>:<GB>` allocates a volume. The
 *  volume names follow the storage types (dir: `<vmid>/vm-<vmid>-disk-<n>.raw`, lvmthin: `vm-<vmid>-disk-<n>`,
 *  zfspool: `subvol-<vmid>-disk-<n>`); each is a directory here and its size is bookkeeping (simulated). */
function allocIfNew(ctx: LxcContext, node: string, vmid: number, _key: string, mp: PropValues): PropValues {
  const m = /^([^:\s]+):(\d+(\.\d+)?)$/.exec(mp.volume);
  if (!m) return mp;
  const storage = ctx.state.storage(node, m[1]);
  if (!storage.content.includes("rootdir"))
    throw paramError({ storage: `storage '${storage.id}' does not support container directories` });
  const sizeKb = Math.trunc(Number(m[2]) * 1024) * 1024;
  const base = ctx.state.layout.storageDir(node, storage.id);
  let n = 0;
  const name = (i: number) =>
    storage.type === "dir"
      ? `${vmid}/vm-${vmid}-disk-${i}.raw`
      : storage.type === "zfspool"
        ? `subvol-${vmid}-disk-${i}`
        : `vm-${vmid}-disk-${i}`;
  while (fs.existsSync(path.join(base, "images", name(n)))) n++;
  const volid = `${storage.id}:${name(n)}`;
  fs.mkdirSync(volumeDir(ctx, node, volid), { recursive: true });
  return { ...mp, volume: volid, size: String(sizeKb * 1024) };
}

/** validate_ssh_public_keys (pve-common src/PVE/Tools.pm:1104-1120): each non-blank line through ssh-keygen -l. */
function validateSshKeys(raw: string): void {
  for (const line of raw.split("\n")) {
    if (/^\s*$/.test(line)) continue;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pve-double-key-"));
    try {
      fs.writeFileSync(path.join(dir, "key"), line);
      execFileSync("ssh-keygen", ["-l", "-f", path.join(dir, "key")], { stdio: "ignore" });
    } catch {
      throw die("SSH public key validation error");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** create_vm (src/PVE/API2/LXC.pm:141-657), in Proxmox's order. */
export async function createCt(ctx: LxcContext, node: string, params: Params, user: string): Promise<string> {
  validate(ctx, params, CREATE_EXTRA, ["vmid", "ostemplate"]);
  ctx.state.node(node);
  const p = { ...params };
  const vmid = Number(p.vmid);
  for (const k of ["node", "vmid"]) delete p[k];
  const unprivilegedParam = p.unprivileged;
  delete p.unprivileged;
  const restore = bool(p.restore);
  delete p.restore;
  const unprivileged = restore
    ? bool(unprivilegedParam)
    : unprivilegedParam === undefined || bool(unprivilegedParam); // :272
  delete p.force;
  ctx.state.checkVmidUnused(vmid); // :281
  const password = p.password;
  const sshKeys = p["ssh-public-keys"];
  delete p.password;
  delete p["ssh-public-keys"];
  if (sshKeys !== undefined) validateSshKeys(sshKeys); // :290
  for (const k of ["pool", "unique", "ignore-unpack-errors", "bwlimit", "ha-managed"]) delete p[k];
  const startAfter = bool(p.start);
  delete p.start;
  checkModifyPerm(user, undefined, p, [], unprivileged); // :324
  const ostemplate = p.ostemplate;
  const storage = p.storage ?? "local";
  delete p.ostemplate;
  delete p.storage;
  const tmplStore = ostemplate.slice(0, ostemplate.indexOf(":"));
  ctx.state.storage(node, tmplStore); // check_volume_access: the template's storage must exist

  const mpParam: Params = {};
  const noDisk: Params = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === "rootfs" || /^mp\d+$/.test(k))
      mpParam[k] = /^\d+(\.\d+)?$/.test(v) ? `${storage}:${v}` : v; // :370-376
    else if (!/^unused\d+$/.test(k)) noDisk[k] = v;
  }
  if (Object.keys(mpParam).length && mpParam.rootfs === undefined)
    throw die("mount points configured, but 'rootfs' not set - aborting"); // :388
  if (!Object.keys(mpParam).length) mpParam.rootfs = `${storage}:4`;
  for (const [k, v] of Object.entries(mpParam)) {
    const mp = parseVolume(k, v);
    if (mountType(mp.volume) !== "volume") {
      if (!isRoot(user)) throw die("Only root can pass arbitrary filesystem paths."); // :401 (unreachable past :324)
    } else {
      const sid = /^([^:\s]+):/.exec(mp.volume)?.[1] ?? storage;
      const st = ctx.state.storage(node, sid);
      if (!st.content.includes("rootdir"))
        throw paramError({ storage: `storage '${sid}' does not support container directories` });
    }
  }

  // update_pct_config with running=0 (:415): pending, then applied at once; tags and netN canonicalised.
  const conf: ConfFile = {
    main: { props: {}, lxc: [] },
    pending: { props: {}, lxc: [] },
    snapshots: {},
    digest: "",
  };
  for (const [k, v] of Object.entries(noDisk)) {
    let value = k === "description" ? v : checkType(k, v);
    if (k === "tags") value = uniqueTags(value);
    if (/^net\d+$/.test(k)) value = printNet(parseNet(value, ctx.hostManaged), ctx.hostManaged);
    conf.main.props[k] = value;
  }
  if (unprivileged) conf.main.props.unprivileged = "1";

  // create_and_lock_config (:419, AbstractConfig.pm create_and_lock_config): only `lock: create` on disk.
  await ctx.state.withLock(vmid, () => {
    ctx.state.checkVmidUnused(vmid);
    ctx.state.write(node, vmid, {
      main: { props: { lock: "create" }, lxc: [] },
      pending: { props: {}, lxc: [] },
      snapshots: {},
      digest: "",
    });
  });
  const ct: CtRef = { node, vmid };
  const upid = await ctx.tasks.start(node, "vzcreate", String(vmid), user, async (task) => {
    await ctx.state.withLock(vmid, async () => {
      try {
        for (const [k, v] of Object.entries(mpParam)) {
          const mp = allocIfNew(ctx, node, vmid, k, parseVolume(k, v));
          conf.main.props[k] = printVolume(k, mp);
        }
        const tmplFile = resolveTemplate(ctx, node, ostemplate);
        await ctx.backend.create(
          {
            ct,
            config: { props: { ...conf.main.props, lock: "create" }, lxc: [] },
            templatePath: tmplFile,
            mounts: mountsOf(ctx, node, conf.main),
            password,
            sshPublicKeys: sshKeys,
          },
          task,
        );
        // defaults after the post-create hook (:602-606)
        conf.main.props.hostname ||= `CT${vmid}`;
        conf.main.props.memory ||= "512";
        conf.main.props.swap ??= "512";
        ctx.state.write(node, vmid, conf);
      } catch (e) {
        // :615-629: destroy the disks and the config, then `unable to create CT <vmid> - <err>`
        try {
          await ctx.backend.destroy(ct, mountsOf(ctx, node, conf.main), task);
        } catch {
          /* best effort, as Proxmox warns and goes on */
        }
        for (const m of mountsOf(ctx, node, conf.main))
          if (m.type === "volume") fs.rmSync(m.source, { recursive: true, force: true });
        ctx.state.remove(node, vmid);
        throw new Error(`unable to create CT ${vmid} - ${(e as Error).message.replace(/\n+$/, "")}`);
      }
    });
    // :643 vm_start from inside the worker forks its own vzstart task (pve-common RESTEnvironment.pm:520-560:
    // a worker's fork_worker is asynchronous), so vzcreate ends before the CT runs.
    if (startAfter) await startCt(ctx, node, vmid, {}, user);
  });
  return upid;
}

/** `local:vztmpl/<file>` → its path (pve-storage src/PVE/Storage/Plugin.pm:814-843). A missing file fails the task
 *  with `can't find file '<volid>'` (pve-storage src/PVE/Storage.pm:769-787 abs_filesystem_path, called at pve-container
 *  src/PVE/LXC/Create.pm:55). */
function resolveTemplate(ctx: LxcContext, node: string, volid: string): string {
  const m = /^([^:]+):vztmpl\/(.+)$/.exec(volid);
  if (!m) throw new Error(`unable to parse volume ID '${volid}'`);
  const file = path.join(ctx.state.layout.templateDir(node, m[1]), m[2]);
  if (!fs.existsSync(file)) throw new Error(`can't find file '${volid}'`);
  return file;
}

/** GET config (src/PVE/API2/LXC/Config.pm:20-100): pending merged unless `current`. */
export function getConfig(
  ctx: LxcContext,
  node: string,
  vmid: number,
  params: Params,
): Record<string, unknown> {
  const conf = ctx.state.load(node, vmid);
  const view = currentView(conf, bool(params.current));
  return toJson(view, conf.digest);
}

/** GET pending (src/PVE/API2/LXC.pm vm_pending): not called by the provider; left out. */

/** update_vm (src/PVE/API2/LXC/Config.pm:112-271) and update_pct_config (src/PVE/LXC/Config.pm:1301-1400). */
export async function putConfig(
  ctx: LxcContext,
  node: string,
  vmid: number,
  params: Params,
  user: string,
): Promise<null> {
  validate(ctx, params, UPDATE_EXTRA, []);
  const p = { ...params };
  delete p.node;
  delete p.vmid;
  const digest = p.digest;
  delete p.digest;
  if (!Object.keys(p).length) throw die("no options specified"); // :161
  const del = splitList(p.delete);
  const revert = splitList(p.revert);
  delete p.delete;
  delete p.revert;
  await ctx.state.withLock(vmid, async () => {
    const conf = ctx.state.load(node, vmid);
    if (conf.main.props.lock) throw die(`CT is locked (${conf.main.props.lock})`); // AbstractConfig.pm:336-340
    if (digest && digest !== conf.digest)
      throw die("detected modified configuration - file changed by other user? Try again."); // pve-common Tools.pm assert_if_modified
    const unprivileged = conf.main.props.unprivileged === "1";
    checkModifyPerm(user, conf.main.props, {}, del, unprivileged);
    checkModifyPerm(user, conf.main.props, {}, revert, unprivileged);
    for (const opt of revert) {
      if (!optionType(opt)) throw paramError({ revert: `unknown option '${opt}'` });
      if (p[opt] !== undefined)
        throw paramError({ revert: `you can't use '-${opt}' and '-revert ${opt}' at the same time` });
    }
    for (const opt of del) {
      if (!optionType(opt)) throw paramError({ delete: `unknown option '${opt}'` });
      if (p[opt] !== undefined)
        throw paramError({ delete: `you can't use '-${opt}' and -delete ${opt}' at the same time` });
      if (revert.includes(opt))
        throw paramError({ delete: `you can't use '-delete ${opt}' and '-revert ${opt}' at the same time` });
    }
    checkModifyPerm(user, conf.main.props, p, [], unprivileged);
    const running = (await ctx.backend.status({ node, vmid })).running;

    // update_pct_config (src/PVE/LXC/Config.pm:1301-1400)
    const pend = conf.pending.props;
    for (const opt of revert) {
      delete pend[opt];
      pend.delete = printPendingDelete(parsePendingDelete(pend.delete).filter((k) => k !== opt));
    }
    const modified = new Set<string>();
    const protection = conf.main.props.protection === "1";
    for (const opt of del) {
      if (conf.main.props[opt] === undefined && pend[opt] === undefined) continue; // warns "cannot delete"
      modified.add(opt);
      if (["memory", "rootfs", "ostype"].includes(opt))
        throw die(`unable to delete required option '${opt}'`);
      if ((/^mp\d+$/.test(opt) || /^unused\d+$/.test(opt)) && protection)
        throw die(`can't remove CT ${vmid} drive '${opt}' - protection mode enabled`);
      if (opt === "unprivileged") throw die(`unable to delete read-only option: '${opt}'`);
      pend.delete = printPendingDelete([...parsePendingDelete(pend.delete), opt]);
    }
    for (const opt of Object.keys(p).sort()) {
      modified.add(opt);
      let value = opt === "description" ? p[opt] : checkType(opt, p[opt]);
      if (opt === "rootfs" || /^mp\d+$/.test(opt)) {
        if (protection) throw die(`can't update CT ${vmid} drive '${opt}' - protection mode enabled`); // :1344
        const mp = parseVolume(opt, value);
        if (mountType(mp.volume) === "volume" && !/^([^:\s]+):(\d+(\.\d+)?)$/.test(mp.volume)) {
          const sid = mp.volume.slice(0, mp.volume.indexOf(":"));
          if (!ctx.state.storage(node, sid).content.includes("rootdir"))
            throw die(`storage '${sid}' does not allow content type 'rootdir' (Container)`);
        }
      } else if (opt === "unprivileged") {
        throw die(`unable to modify read-only option: '${opt}'`);
      } else if (opt === "tags") {
        value = uniqueTags(value);
      }
      pend[opt] = value;
      pend.delete = printPendingDelete(parsePendingDelete(pend.delete).filter((k) => k !== opt));
    }
    if (!pend.delete) delete pend.delete;
    cleanupPending(conf);
    let errors: Record<string, string> = {};
    if (running) errors = await hotplugPending(ctx, { node, vmid }, conf, modified);
    else applyPending(ctx, node, vmid, conf);
    // "don't write to config if we get any errors" (API2/LXC/Config.pm:258-260)
    if (Object.keys(errors).length) throw paramError(errors);
    ctx.state.write(node, vmid, conf);
  });
  return null;
}

function splitList(v: string | undefined): string[] {
  if (!v) return [];
  return v.replace(/[,;]/g, " ").trim().split(/\s+/).filter(Boolean);
}

/** vm_status (src/PVE/API2/LXC/Status.pm:77-117, src/PVE/LXC.pm:261-340 vmstatus). */
export async function statusCurrent(
  ctx: LxcContext,
  node: string,
  vmid: number,
): Promise<Record<string, unknown>> {
  const conf = ctx.state.load(node, vmid);
  const c = conf.main.props;
  const st = await ctx.backend.status({ node, vmid });
  let maxdisk = 4 * 1024 ** 3;
  if (c.rootfs) {
    try {
      const size = parseVolume("rootfs", c.rootfs).size;
      if (size) maxdisk = Number(size);
    } catch {
      /* unparsable rootfs: default */
    }
  }
  const res: Record<string, unknown> = {
    vmid,
    name: (c.hostname || `CT${vmid}`).replace(/\s/g, ""),
    type: "lxc",
    status: st.running ? "running" : "stopped",
    cpus: Number(c.cores || c.cpulimit || os.cpus().length),
    maxmem: Number(c.memory || 512) * 1024 * 1024,
    maxswap: Number(c.swap ?? 0) * 1024 * 1024,
    maxdisk,
    uptime: st.running ? (st.uptime ?? 0) : 0,
    cpu: 0,
    mem: 0,
    swap: 0,
    disk: 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
    // HA is simulated: `managed` only (pve-ha-manager's get_service_status).
    ha: ctx.haResources.has(vmid) ? { managed: 1, state: "started" } : { managed: 0 },
  };
  if (st.running && st.pid) res.pid = st.pid;
  if (c.tags !== undefined) res.tags = c.tags;
  if (c.template === "1") res.template = 1;
  if (c.lock) res.lock = c.lock;
  return res;
}

async function running(ctx: LxcContext, node: string, vmid: number): Promise<boolean> {
  return (await ctx.backend.status({ node, vmid })).running;
}

/** vm_start (src/PVE/API2/LXC/Status.pm:120-216; src/PVE/LXC.pm:3125-3140 applies pending changes first). */
export async function startCt(
  ctx: LxcContext,
  node: string,
  vmid: number,
  _params: Params,
  user: string,
): Promise<string> {
  ctx.state.load(node, vmid);
  if (await running(ctx, node, vmid)) throw die(`CT ${vmid} already running`); // :162
  return ctx.tasks.start(node, "vzstart", String(vmid), user, (task) =>
    ctx.state.withLock(vmid, async () => {
      const conf = ctx.state.load(node, vmid);
      if (conf.main.props.template === "1") throw new Error("you can't start a CT if it's a template"); // :191
      if (conf.main.props.lock) throw new Error(`CT is locked (${conf.main.props.lock})`); // :195
      await startWithPending(ctx, node, vmid, conf, task);
    }),
  );
}

async function startWithPending(
  ctx: LxcContext,
  node: string,
  vmid: number,
  conf: ConfFile,
  task: TaskContext,
): Promise<void> {
  if (Object.keys(conf.pending.props).length) {
    applyPending(ctx, node, vmid, conf);
    ctx.state.write(node, vmid, conf);
  }
  await ctx.backend.start({ node, vmid }, conf.main, mountsOf(ctx, node, conf.main), task);
}

/** vm_shutdown (src/PVE/API2/LXC/Status.pm:316-395): timeout default 60, forceStop kills after it. */
export async function shutdownCt(
  ctx: LxcContext,
  node: string,
  vmid: number,
  params: Params,
  user: string,
): Promise<string> {
  validateTypes(params, { timeout: "integer", forceStop: "boolean" });
  ctx.state.load(node, vmid);
  const timeout = params.timeout !== undefined ? Number(params.timeout) : 60; // :361
  if (!(await running(ctx, node, vmid))) throw die(`CT ${vmid} not running`); // :363
  return ctx.tasks.start(node, "vzshutdown", String(vmid), user, async (task) => {
    const conf = ctx.state.load(node, vmid);
    if (conf.main.props.lock) throw new Error(`CT is locked (${conf.main.props.lock})`); // :387
    await ctx.backend.shutdown({ node, vmid }, { timeout, forceStop: bool(params.forceStop) }, task);
  });
}

/** vm_stop (src/PVE/API2/LXC/Status.pm:220-312). */
export async function stopCt(
  ctx: LxcContext,
  node: string,
  vmid: number,
  _params: Params,
  user: string,
): Promise<string> {
  ctx.state.load(node, vmid);
  if (!(await running(ctx, node, vmid))) throw die(`CT ${vmid} not running`); // :264
  return ctx.tasks.start(node, "vzstop", String(vmid), user, async (task) => {
    const conf = ctx.state.load(node, vmid);
    if (conf.main.props.lock) throw new Error(`CT is locked (${conf.main.props.lock})`); // :302
    await ctx.backend.stop({ node, vmid }, task);
  });
}

/** vm_reboot (src/PVE/API2/LXC/Status.pm:504-553; src/PVE/LXC.pm:3273-3287: stop with kill after timeout,
 *  then vm_start, which applies pending changes). */
export async function rebootCt(
  ctx: LxcContext,
  node: string,
  vmid: number,
  params: Params,
  user: string,
): Promise<string> {
  validateTypes(params, { timeout: "integer" });
  ctx.state.load(node, vmid);
  if (!(await running(ctx, node, vmid))) throw die(`VM ${vmid} not running`); // :542 (sic)
  return ctx.tasks.start(node, "vzreboot", String(vmid), user, (task) =>
    ctx.state.withLock(vmid, async () => {
      if (!(await running(ctx, node, vmid))) return;
      await ctx.backend.shutdown(
        { node, vmid },
        { timeout: params.timeout !== undefined ? Number(params.timeout) : 60, forceStop: true },
        task,
      );
      await startWithPending(ctx, node, vmid, ctx.state.load(node, vmid), task);
    }),
  );
}

/** destroy_vm (src/PVE/API2/LXC.pm:805-929): protection, lock, HA, running (early), then the vzdestroy worker:
 *  checks again, `lock: destroyed`, volumes removed, bind sources never touched (src/PVE/LXC.pm:1009-1021), the
 *  config removed last. */
export async function destroyCt(
  ctx: LxcContext,
  node: string,
  vmid: number,
  params: Params,
  user: string,
): Promise<string> {
  validateTypes(params, { force: "boolean", purge: "boolean", "destroy-unreferenced-disks": "boolean" });
  const earlyChecks = (conf: ConfFile) => {
    if (conf.main.props.protection === "1") throw die(`can't remove CT ${vmid} - protection mode enabled`); // :859
    if (conf.main.props.lock) throw die(`CT is locked (${conf.main.props.lock})`);
    if (!bool(params.purge) && ctx.haResources.has(vmid))
      throw die(`unable to remove CT ${vmid} - used in HA resources and purge parameter not set.`);
  };
  earlyChecks(ctx.state.load(node, vmid));
  const runningMsg = `unable to destroy CT ${vmid} - container is running`;
  if (!bool(params.force) && (await running(ctx, node, vmid))) throw die(runningMsg); // :879
  return ctx.tasks.start(node, "vzdestroy", String(vmid), user, (task) =>
    ctx.state.withLock(vmid, async () => {
      const conf = ctx.state.load(node, vmid);
      try {
        earlyChecks(conf);
      } catch (e) {
        throw new Error((e as ApiError).message);
      }
      if (await running(ctx, node, vmid)) {
        if (!bool(params.force)) throw new Error(runningMsg);
        task.log(`forced to stop CT ${vmid} before destroying!`);
        await ctx.backend.stop({ node, vmid }, task);
      }
      const mounts = mountsOf(ctx, node, conf.main);
      conf.main.props.lock = "destroyed";
      ctx.state.write(node, vmid, conf);
      await ctx.backend.destroy({ node, vmid }, mounts, task);
      for (const m of mounts) if (m.type === "volume") fs.rmSync(m.source, { recursive: true, force: true });
      for (const [k, v] of Object.entries(conf.main.props))
        if (/^unused\d+$/.test(k)) fs.rmSync(volumeDir(ctx, node, v), { recursive: true, force: true });
      ctx.state.remove(node, vmid); // "only now remove the zombie config" (:922)
      ctx.haResources.delete(vmid);
    }),
  );
}

/** `…/interfaces` (src/PVE/API2/LXC.pm:2982-3065, src/PVE/LXC.pm:1262-1300): null for a stopped CT. */
export async function interfacesCt(ctx: LxcContext, node: string, vmid: number): Promise<unknown> {
  ctx.state.load(node, vmid);
  if (!(await running(ctx, node, vmid))) return null;
  const links = await ctx.backend.interfaces({ node, vmid });
  return links.map((l) => {
    const obj: Record<string, unknown> = { name: l.ifname };
    const list: unknown[] = [];
    for (const ip of l.addr_info ?? []) {
      obj[ip.family] = `${ip.local}/${ip.prefixlen}`;
      list.push({ "ip-address-type": ip.family, "ip-address": ip.local, prefix: ip.prefixlen });
    }
    obj["ip-addresses"] = list;
    obj["hardware-address"] = l.address;
    obj.hwaddr = l.address;
    return obj;
  });
}

/** resize_vm (src/PVE/API2/LXC.pm:2307-2470): no protection check; `unable to shrink disk size`, `disk is
 *  already at specified size`; early checks before the `resize` worker, again inside it. The volume's size is
 *  bookkeeping only (simulated storage). */
export async function resizeCt(
  ctx: LxcContext,
  node: string,
  vmid: number,
  params: Params,
  user: string,
): Promise<string> {
  const errors: Record<string, string> = {};
  if (params.disk === undefined) errors.disk = "property is missing and it is not optional";
  else if (params.disk !== "rootfs" && !/^mp\d+$/.test(params.disk))
    errors.disk = `value '${params.disk}' does not have a value in the enumeration 'rootfs, mp0, …'`;
  if (params.size === undefined) errors.size = "property is missing and it is not optional";
  if (Object.keys(errors).length) throw paramError(errors);
  const sizestr = params.size.replace(/^\+/, "");
  const ext = params.size.startsWith("+");
  const request = parseSize(sizestr);
  if (request === undefined) throw die("invalid size string");
  const disk = params.disk;
  const loadAndCheck = () => {
    const conf = ctx.state.load(node, vmid);
    if (conf.main.props.lock) throw die(`CT is locked (${conf.main.props.lock})`);
    checkModifyPerm(
      user,
      conf.main.props,
      { disk: params.disk, size: params.size },
      [],
      conf.main.props.unprivileged === "1",
    );
    if (params.digest && params.digest !== conf.digest)
      throw die("detected modified configuration - file changed by other user? Try again.");
    const mp = parseVolume(disk, conf.main.props[disk]);
    const size = Number(mp.size ?? 0);
    const newsize = Math.trunc(ext ? size + request : request);
    if (newsize < size) throw die("unable to shrink disk size");
    if (size === newsize) throw die("disk is already at specified size");
    return { conf, mp, newsize };
  };
  loadAndCheck();
  return ctx.tasks.start(node, "resize", String(vmid), user, (task) =>
    ctx.state.withLock(vmid, async () => {
      let r: ReturnType<typeof loadAndCheck>;
      try {
        r = loadAndCheck();
      } catch (e) {
        throw new Error((e as ApiError).message);
      }
      r.mp.size = String(r.newsize);
      r.conf.main.props[disk] = printVolume(disk, r.mp);
      ctx.state.write(node, vmid, r.conf);
      task.log(`resized ${disk} to ${r.newsize} bytes (simulated storage: size is bookkeeping)`);
    }),
  );
}

function validateTypes(params: Params, types: Record<string, "integer" | "boolean">): void {
  const errors: Record<string, string> = {};
  for (const [k, t] of Object.entries(types)) {
    const v = params[k];
    if (v === undefined) continue;
    if (t === "integer" && !/^\d+$/.test(v)) errors[k] = `type check ('integer') failed - got '${v}'`;
    if (t === "boolean" && !/^(0|1|on|off|yes|no|true|false)$/i.test(v))
      errors[k] = `type check ('boolean') failed - got '${v}'`;
  }
  if (Object.keys(errors).length) throw paramError(errors);
}
