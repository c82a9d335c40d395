/**
 * The /cluster/ha endpoints the provider's Haresource, Hagroup and Harule call, with pve-ha-manager's checks,
 * order and texts (proxmox/pve-ha-manager at b71218f; paths relative to it), and the HA manager's recovery of a CT
 * from a dead node, as a function the relocation drill calls.
 *
 *  - resources: src/PVE/API2/HA/Resources.pm (index :54-99, read :101-175, create :177-231, update :233-279,
 *    delete :281-321); property schema src/PVE/HA/Resources.pm:12-95; sid formats src/PVE/HA/Tools.pm:31-90.
 *  - groups (PVE 8 only; PVE 9 refuses them once migrated): src/PVE/API2/HA/Groups.pm; src/PVE/HA/Groups.pm.
 *  - rules (PVE 9 only; absent from PVE 8's pve-ha-manager 4.x, so 501 there): src/PVE/API2/HA/Rules.pm;
 *    node-affinity src/PVE/HA/Rules/NodeAffinity.pm.
 *
 * Simulated: the config lives in one JSON file (`<stateDir>/pve/ha/config.json`) instead of pmxcfs's
 * resources.cfg/groups.cfg/rules.cfg section-config files; digests are SHA-1 of that JSON; no CRM/LRM runs, so a
 * requested state changes nothing by itself, and nothing fences a node: the drill calls recoverCt().
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ApiError, die, paramError } from "./errors";
import type { LxcContext } from "./lxcApi";
import { mountsOf } from "./lxcApi";

type Params = Record<string, string>;
type Cfg = Record<string, string | number>;

interface HaFile {
  resources: Record<string, Cfg>;
  groups: Record<string, Cfg>;
  rules: Record<string, Cfg & { order: number }>;
}

/** The HA config of the simulated cluster, persisted under the state directory. */
export class HaState {
  private readonly file: string;
  data: HaFile;
  constructor(
    pveDir: string,
    readonly pveMajor: number,
    private readonly managed: Set<number>,
  ) {
    this.file = path.join(pveDir, "ha", "config.json");
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.data = fs.existsSync(this.file)
      ? (JSON.parse(fs.readFileSync(this.file, "utf8")) as HaFile)
      : { resources: {}, groups: {}, rules: {} };
    // `haResources` given at start are HA resources too (started, defaults).
    for (const vmid of managed) this.data.resources[`ct:${vmid}`] ??= { type: "ct", state: "started" };
    this.sync();
  }
  get digest(): string {
    return createHash("sha1").update(JSON.stringify(this.data)).digest("hex");
  }
  save(): void {
    fs.writeFileSync(this.file, JSON.stringify(this.data, null, 2));
    this.sync();
  }
  /** The set lxcApi reads (destroy without purge, `ha.managed` in status/current). */
  private sync(): void {
    this.managed.clear();
    for (const sid of Object.keys(this.data.resources)) {
      const m = /^ct:(\d+)$/.exec(sid);
      if (m) this.managed.add(Number(m[1]));
    }
  }
  /** have_groups_been_migrated (src/PVE/HA/Config.pm:261-268): no groups left. On PVE 8 groups are never migrated. */
  groupsMigrated(): boolean {
    return this.pveMajor >= 9 && Object.keys(this.data.groups).length === 0;
  }
}

const STATES = ["started", "stopped", "enabled", "disabled", "ignored"];
const SID = /^[a-z]+:\S+$/; // pve-ha-resource-id (Tools.pm:33-40)
const SID_OR_VMID = /^([a-z]+:\S+|\d+)$/; // pve-ha-resource-or-vm-id (Tools.pm:68-76)
const HA_NODE = /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(:\d+)?$/; // pve-ha-node (Tools.pm:92-99)
const CONFIGID = /^[a-z][a-z0-9_-]+$/i; // pve-configid (pve-common JSONSchema.pm pve_verify_configid)

type Kind = "string" | "integer" | "boolean";
interface Prop {
  kind: Kind;
  check?: (v: string) => string | undefined;
  enumOf?: string[];
}

/** JSONSchema validate: unknown keys, types, enums, formats, all errors at once (400). */
function validate(params: Params, props: Record<string, Prop>, required: string[]): void {
  const errors: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const p = props[k];
    if (!p) {
      errors[k] = "property is not defined in schema and the schema does not allow additional properties";
      continue;
    }
    if (p.kind === "integer" && !/^-?\d+$/.test(v)) errors[k] = `type check ('integer') failed - got '${v}'`;
    else if (p.kind === "boolean" && !/^(0|1|on|off|yes|no|true|false)$/i.test(v))
      errors[k] = `type check ('boolean') failed - got '${v}'`;
    else if (p.enumOf && !p.enumOf.includes(v))
      errors[k] = `value '${v}' does not have a value in the enumeration '${p.enumOf.join(", ")}'`;
    else if (p.check) {
      const e = p.check(v);
      if (e) errors[k] = e;
    }
  }
  for (const r of required)
    if (params[r] === undefined) errors[r] = "property is missing and it is not optional";
  if (Object.keys(errors).length) throw paramError(errors);
}

const fmt = (re: RegExp, msg: string) => (v: string) =>
  re.test(v) ? undefined : `invalid format - ${msg}\n`;
const nodeList = (v: string) =>
  v.split(/[,;\s]+/).every((n) => HA_NODE.test(n))
    ? undefined
    : "invalid format - value does not look like a valid ha node\n";
const sidList = (v: string) =>
  v.split(/[,;\s]+/).every((s) => SID.test(s))
    ? undefined
    : "invalid format - value does not look like a valid ha resource id\n";

/** Resources.pm createSchema/updateSchema (src/PVE/HA/Resources.pm:12-95): `failback` exists from PVE 9 on. */
function resourceProps(pveMajor: number, update: boolean): Record<string, Prop> {
  const props: Record<string, Prop> = {
    sid: { kind: "string", check: fmt(SID_OR_VMID, "value does not look like a valid ha resource id") },
    type: { kind: "string", enumOf: ["ct", "vm"] },
    state: { kind: "string", enumOf: STATES },
    group: { kind: "string", check: fmt(CONFIGID, "invalid configuration ID") },
    max_restart: { kind: "integer" },
    max_relocate: { kind: "integer" },
    comment: { kind: "string" },
  };
  if (pveMajor >= 9) props.failback = { kind: "boolean" };
  if (update) {
    props.delete = { kind: "string" };
    props.digest = { kind: "string" };
  }
  return props;
}

/** parse_sid (src/PVE/HA/Config.pm:189-213): a bare VMID is resolved through the cluster's vmlist. */
function parseSid(ctx: LxcContext, sid: string): [string, string, string] {
  const bare = /^(\d+)$/.exec(sid);
  if (bare) {
    if (!ctx.state.vmlist().has(Number(bare[1])))
      throw die(`unable to detect SID from VMID - VM/CT ${bare[1]} does not exist`);
    return [`ct:${bare[1]}`, "ct", bare[1]];
  }
  const m = /^(\S+):(\S+)$/.exec(sid);
  if (!m) throw die(`unable to parse service id '${sid}'`);
  return [sid, m[1], m[2]];
}

const toBool = (v: string) => (/^(1|on|yes|true)$/i.test(v) ? 1 : 0);

/** The typed form Proxmox keeps (integers and booleans as numbers). */
function typed(params: Params, props: Record<string, Prop>): Cfg {
  const out: Cfg = {};
  for (const [k, v] of Object.entries(params)) {
    const kind = props[k]?.kind;
    out[k] = kind === "integer" ? Number(v) : kind === "boolean" ? toBool(v) : v;
  }
  return out;
}

function checkDigest(ha: HaState, digest: string | undefined): void {
  // assert_if_modified (pve-common src/PVE/SectionConfig.pm / Tools.pm)
  if (digest !== undefined && digest !== ha.digest)
    throw die("detected modified configuration - file changed by other user? Try again.");
}

export function listResources(ha: HaState, params: Params): unknown {
  validate(params, { type: { kind: "string", enumOf: ["ct", "vm"] } }, []);
  const migrated = ha.groupsMigrated();
  return Object.keys(ha.data.resources)
    .filter((sid) => !params.type || ha.data.resources[sid].type === params.type)
    .map((sid) => {
      const cfg: Record<string, unknown> = { ...ha.data.resources[sid], sid, digest: ha.digest };
      if (migrated) delete cfg.group; // index :83-95
      const group = typeof cfg.group === "string" ? cfg.group : undefined;
      if (group && !ha.data.groups[group]) cfg.errors = { group: `group '${group}' does not exist` };
      return cfg;
    });
}

export function readResource(ctx: LxcContext, ha: HaState, sidParam: string): unknown {
  validate({ sid: sidParam }, resourceProps(ha.pveMajor, false), []);
  const [sid] = parseSid(ctx, sidParam);
  const cfg = ha.data.resources[sid];
  if (!cfg) throw die(`no such resource '${sid}'`); // :27
  const out: Record<string, unknown> = { ...cfg, sid, digest: ha.digest };
  if (ha.groupsMigrated()) delete out.group;
  return out;
}

export function createResource(ctx: LxcContext, ha: HaState, params: Params): null {
  const props = resourceProps(ha.pveMajor, false);
  validate(params, props, ["sid"]);
  const [sid, type, name] = parseSid(ctx, params.sid);
  if (params.type !== undefined && params.type !== type) throw die("types does not match"); // :199
  if (params.group !== undefined && ha.groupsMigrated())
    throw die("invalid parameter 'group': ha groups have been migrated to rules"); // :202
  if (type !== "ct") throw die(`unknown resource type '${type}'`); // the double has containers only
  if (!/^[1-9][0-9]+$/.test(name)) throw die("invalid VMID"); // PVECT.pm verify_name :29-33
  if (!ctx.state.vmlist().has(Number(name))) throw die(`resource 'ct:${name}' does not exist in cluster`); // PVECT.pm :52-61
  if (ha.data.resources[sid]) throw die(`resource ID '${sid}' already defined`); // :218
  const rest: Params = { ...params };
  delete rest.sid;
  ha.data.resources[sid] = { type, ...typed(rest, props) };
  ha.save();
  return null;
}

export function updateResource(ctx: LxcContext, ha: HaState, sidParam: string, params: Params): null {
  const props = resourceProps(ha.pveMajor, true);
  validate({ ...params, sid: sidParam }, props, []);
  const [sid, type] = parseSid(ctx, sidParam);
  if (params.type !== undefined && params.type !== type) throw die("types does not match"); // :254
  if (params.group) {
    if (ha.groupsMigrated()) throw die("invalid parameter 'group': ha groups have been migrated to rules"); // :260
    if (!ha.data.groups[params.group]) throw die(`HA group '${params.group}' does not exist`); // :263
  }
  const cfg = ha.data.resources[sid];
  if (!cfg) throw die(`no such resource '${sid}'`);
  checkDigest(ha, params.digest);
  const rest: Params = { ...params };
  for (const k of ["digest", "delete", "type"]) delete rest[k];
  Object.assign(cfg, typed(rest, props));
  for (const k of (params.delete ?? "").split(/[,;\s]+/).filter(Boolean)) delete cfg[k];
  ha.save();
  return null;
}

export function deleteResource(ctx: LxcContext, ha: HaState, sidParam: string, params: Params): null {
  validate(
    { ...params, sid: sidParam },
    { sid: resourceProps(9, false).sid, purge: { kind: "boolean" } },
    [],
  );
  const [sid] = parseSid(ctx, sidParam);
  if (!ha.data.resources[sid]) throw die(`cannot delete service '${sid}', not HA managed!`); // :314
  delete ha.data.resources[sid];
  // delete_service_from_config (src/PVE/HA/Config.pm:437-460): purge (default 1) drops it from rules, and a rule
  // left without resources.
  if (params.purge === undefined || toBool(params.purge)) {
    for (const [id, rule] of Object.entries(ha.data.rules)) {
      const left = String(rule.resources)
        .split(",")
        .filter((s) => s !== sid);
      if (left.length) rule.resources = left.join(",");
      else delete ha.data.rules[id];
    }
  }
  ha.save();
  return null;
}

const GROUP_PROPS: Record<string, Prop> = {
  group: { kind: "string", check: fmt(CONFIGID, "invalid configuration ID") },
  type: { kind: "string", enumOf: ["group"] },
  nodes: { kind: "string", check: nodeList },
  restricted: { kind: "boolean" },
  nofailback: { kind: "boolean" },
  comment: { kind: "string" },
};

export function listGroups(ha: HaState): unknown {
  return Object.entries(ha.data.groups).map(([group, cfg]) => ({
    ...cfg,
    group,
    type: "group",
    digest: ha.digest,
  }));
}

export function readGroup(ha: HaState, group: string): unknown {
  const cfg = ha.data.groups[group];
  if (!cfg) throw die(`no such ha group '${group}'`); // Groups.pm:23
  return { ...cfg, group, type: "group", digest: ha.digest };
}

export function createGroup(ha: HaState, params: Params): null {
  if (ha.groupsMigrated()) throw die("cannot create group: ha groups have been migrated to rules"); // :118
  validate(params, GROUP_PROPS, ["group", "nodes"]);
  if (ha.data.groups[params.group]) throw die(`ha group ID '${params.group}' already defined`); // :143
  const rest: Params = { ...params };
  delete rest.group;
  delete rest.type;
  ha.data.groups[params.group] = typed(rest, GROUP_PROPS);
  ha.save();
  return null;
}

export function updateGroup(ha: HaState, group: string, params: Params): null {
  validate(
    { ...params, group },
    { ...GROUP_PROPS, delete: { kind: "string" }, digest: { kind: "string" } },
    [],
  );
  const cfg = ha.data.groups[group];
  if (!cfg) throw die(`no such ha group '${group}'`); // :194
  checkDigest(ha, params.digest);
  const rest: Params = { ...params };
  for (const k of ["digest", "delete", "type"]) delete rest[k];
  Object.assign(cfg, typed(rest, GROUP_PROPS));
  for (const k of (params.delete ?? "").split(/[,;\s]+/).filter(Boolean)) delete cfg[k];
  ha.save();
  return null;
}

export function deleteGroup(ha: HaState, group: string): null {
  if (!ha.data.groups[group]) throw die(`no such ha group '${group}'`);
  for (const [sid, r] of Object.entries(ha.data.resources))
    if (r.group === group) throw die(`ha group '${group}' is used by '${sid}'`); // Groups.pm delete
  delete ha.data.groups[group];
  ha.save();
  return null;
}

const RULE_PROPS: Record<string, Prop> = {
  rule: { kind: "string", check: fmt(CONFIGID, "invalid configuration ID") },
  type: { kind: "string", enumOf: ["node-affinity", "resource-affinity"] },
  resources: { kind: "string", check: sidList },
  nodes: { kind: "string", check: nodeList },
  strict: { kind: "boolean" },
  affinity: { kind: "string", enumOf: ["positive", "negative"] },
  disable: { kind: "boolean" },
  comment: { kind: "string" },
};

/** No Rules.pm before pve-ha-manager 5 (PVE 9): the route does not exist (501, AnyEvent.pm:2297). */
function requireRules(ha: HaState, method: string, rel: string): void {
  if (ha.pveMajor < 9) throw new ApiError(501, `Method '${method} ${rel}' not implemented`);
}

export function listRules(ha: HaState, rel: string): unknown {
  requireRules(ha, "GET", rel);
  return Object.entries(ha.data.rules).map(([rule, cfg]) => ({
    ...ruleDefaults(cfg),
    rule,
    digest: ha.digest,
  }));
}

function ruleDefaults(cfg: Cfg): Cfg {
  // set_rule_defaults: strict 0 for node-affinity (NodeAffinity.pm properties), disable 0.
  return cfg.type === "node-affinity" ? { strict: 0, ...cfg } : { ...cfg };
}

export function readRule(ha: HaState, rel: string, rule: string): unknown {
  requireRules(ha, "GET", rel);
  const cfg = ha.data.rules[rule];
  if (!cfg) throw die(`no such ha rule '${rule}'`); // Rules.pm:17
  return { ...ruleDefaults(cfg), rule, digest: ha.digest };
}

function checkRuleRefs(ctx: LxcContext, ha: HaState, id: string, cfg: Cfg): void {
  const resources = String(cfg.resources ?? "")
    .split(/[,;\s]+/)
    .filter(Boolean);
  if (!resources.length) throw die("no resources were specified"); // Rules.pm:33
  const unmanaged = [...resources].sort().filter((s) => !ha.data.resources[s]);
  if (unmanaged.length) throw die(`cannot use unmanaged resource(s) ${unmanaged.join(", ")}.`); // :39
  if (cfg.nodes !== undefined) {
    const nodes = String(cfg.nodes)
      .split(/[,;\s]+/)
      .map((n) => n.split(":")[0]);
    if (!nodes.length) throw die("no nodes were specified"); // :44
    const known = new Set(ctx.state.nodes.map((n) => n.name));
    const missing = [...nodes].sort().filter((n) => !known.has(n));
    if (missing.length) throw die(`cannot use non-existent node(s) ${missing.join(", ")}.`); // :53
  }
  // check_single_resource_reference (NodeAffinity.pm:230-250): one node-affinity rule per resource.
  if (cfg.type === "node-affinity") {
    for (const [other, r] of Object.entries(ha.data.rules)) {
      if (other === id || r.type !== "node-affinity") continue;
      const taken = resources.find((s) => String(r.resources).split(",").includes(s));
      if (taken)
        throw paramError({ resources: `resource '${taken}' is already used in another node affinity rule` }); // :76-93
    }
  }
}

export function createRule(ctx: LxcContext, ha: HaState, rel: string, params: Params): null {
  requireRules(ha, "POST", rel);
  if (!ha.groupsMigrated()) throw die("cannot create ha rule: ha groups have not been migrated yet"); // :270
  validate(params, RULE_PROPS, ["rule", "type", "resources"]);
  if (params.type === "node-affinity" && params.nodes === undefined)
    throw paramError({ nodes: "property is missing and it is not optional" }); // NodeAffinity.pm options
  const rest: Params = { ...params };
  delete rest.rule;
  if (!toBool(rest.disable ?? "0")) delete rest.disable; // :276
  const cfg = typed(rest, RULE_PROPS);
  cfg.resources = String(cfg.resources)
    .split(/[,;\s]+/)
    .filter(Boolean)
    .sort()
    .join(",");
  if (ha.data.rules[params.rule]) throw die(`HA rule '${params.rule}' already defined`); // :286
  checkRuleRefs(ctx, ha, params.rule, cfg);
  const order = Math.max(0, ...Object.values(ha.data.rules).map((r) => r.order)) + 1; // get_next_ordinal
  ha.data.rules[params.rule] = { ...cfg, order };
  ha.save();
  return null;
}

export function updateRule(ctx: LxcContext, ha: HaState, rel: string, rule: string, params: Params): null {
  requireRules(ha, "PUT", rel);
  if (!ha.groupsMigrated()) throw die("cannot update ha rule: ha groups have not been migrated yet"); // :321
  validate(
    { ...params, rule },
    { ...RULE_PROPS, delete: { kind: "string" }, digest: { kind: "string" } },
    [],
  );
  const old = ha.data.rules[rule];
  if (!old) throw die(`no such ha rule '${rule}'`);
  if (params.type !== undefined && params.type !== old.type) throw die("types does not match");
  checkDigest(ha, params.digest);
  const rest: Params = { ...params };
  for (const k of ["digest", "delete", "type"]) delete rest[k];
  const cfg: Cfg & { order: number } = { ...old, ...typed(rest, RULE_PROPS) };
  for (const k of (params.delete ?? "").split(/[,;\s]+/).filter(Boolean)) delete cfg[k];
  checkRuleRefs(ctx, ha, rule, cfg);
  ha.data.rules[rule] = cfg;
  ha.save();
  return null;
}

export function deleteRule(ha: HaState, rel: string, rule: string): null {
  requireRules(ha, "DELETE", rel);
  if (!ha.data.rules[rule]) throw die(`no such ha rule '${rule}'`);
  delete ha.data.rules[rule];
  ha.save();
  return null;
}

/**
 * HA recovery of a fenced node's CT (pve-ha-manager src/PVE/HA/Manager.pm next_state_recovery
 * :1607-1660 → Env/PVE2.pm steal_service :208-225; the CT is stopped there first: a fenced node has rebooted): the config file is renamed from the dead node's directory to the new
 * node's (pmxcfs), then the LRM there starts it. Volumes on shared storage are the same on both nodes. The
 * dead node stays offline (fenced: its watchdog reset it, it has no quorum until it rejoins) until the test
 * brings it back (RunningDouble.bringNodeBack): every `/nodes/<it>/...` request meanwhile gets the proxy's 595.
 */
export async function recoverCt(
  ctx: LxcContext,
  vmid: number,
  to: string,
): Promise<{ from: string; to: string }> {
  const from = ctx.state.vmlist().get(vmid);
  if (from === undefined) throw new Error(`CT ${vmid} does not exist in the cluster`);
  ctx.state.node(to);
  if (from === to) throw new Error(`CT ${vmid} is already on ${to}`);
  ctx.state.offline.add(from);
  await moveCt(ctx, vmid, from, to);
  return { from, to };
}

/** Stop on `from` (if running), config renamed to `to`'s directory, started there if HA wants it started: the
 *  recovery move and the CRM's `relocate` of a CT (Manager.pm:1536-1545; a CT is relocated, never live-migrated). */
export async function moveCt(ctx: LxcContext, vmid: number, from: string, to: string): Promise<void> {
  const task = (what: string) => ({
    upid: `recover:${vmid}:${what}`,
    log: () => undefined,
    signal: new AbortController().signal,
  });
  await ctx.state.withLock(vmid, async () => {
    if ((await ctx.backend.status({ node: from, vmid })).running)
      await ctx.backend.stop({ node: from, vmid }, task("stop"));
    fs.renameSync(ctx.state.layout.confPath(from, vmid), ctx.state.layout.confPath(to, vmid));
  });
  const conf = ctx.state.load(to, vmid);
  const state = ctx.haResources.has(vmid) ? "started" : "stopped";
  if (state === "started")
    await ctx.backend.start({ node: to, vmid }, conf.main, mountsOf(ctx, to, conf.main), task("start"));
}
