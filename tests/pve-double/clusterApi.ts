/**
 * Cluster-wide reads and node presence: `GET /cluster/resources`, `GET /nodes`, the proxy error a request for an
 * offline node gets, and the HA manager's failback when a node returns.
 *
 *  - GET /cluster/resources (pve-manager PVE/API2/Cluster.pm:262-633 at 14a22df): `type` is one of vm, storage,
 *    node, sdn (:270-276; anything else is a 400 from the schema). Guests come first, then nodes, then storages
 *    (:553-656), each entry with a `node` field: a client must tell them apart by `type`. A guest entry is extract_vm_stats
 *    (PVE/API2Tools.pm:81-117): id `lxc/<vmid>`, vmid, node (from the cluster-wide vmlist, so the node that holds
 *    the config now), type `lxc`, status, name, uptime, the usage counters; `lock`/`tags` when set (:589-594);
 *    `hastate` from the manager's service status or, failing that, the HA resource config (:602-611). A node entry
 *    is extract_node_stats (API2Tools.pm:36-79): status `online`, or `offline` when corosync says so.
 *  - A request for `/nodes/<node>/...` is proxied by pveproxy to that node (pve-http-server
 *    src/PVE/APIServer/AnyEvent.pm:734-885, proxy_request at 5c9e4ea). AnyEvent::HTTP reports a failed connect as
 *    status 595 with `$!` as the reason (libanyevent-http-perl 2.25 AnyEvent/HTTP.pm:857, :1183-1185) and the proxy
 *    passes that status and reason on with no body (AnyEvent.pm:852-876). A powered-off or fenced node on the LAN
 *    gives EHOSTUNREACH: `595 No route to host`.
 *  - Failback (pve-ha-manager src/PVE/HA/Manager.pm:334-343, :1508-1547 at b71218f): a started resource with
 *    failback set is placed on the highest-priority online node of its node-affinity rule (PVE 9) or group
 *    (PVE 8; `nofailback` off) (src/PVE/HA/Rules/NodeAffinity.pm:268-290); a CT that is elsewhere is relocated
 *    (stop, move, start).
 *
 * Simulated: usage counters are zero; the manager's service status is `fence` for an HA CT on an offline node and
 * otherwise the configured state; the proxy answers at once (a real one waits for the ARP timeout, ~3 s).
 */
import type { HaState } from "./haApi";
import { ApiError, paramError } from "./errors";
import type { LxcContext } from "./lxcApi";

/** Reason of the 595 pveproxy answers for an unreachable node (AnyEvent::HTTP's `$!` for EHOSTUNREACH). */
export const NODE_UNREACHABLE = "No route to host";

/** The proxy error of `/nodes/<node>/...` while `node` is offline, else nothing. */
export function proxyCheck(ctx: LxcContext, rel: string): void {
  const m = /^\/nodes\/([^/]+)(\/|$)/.exec(rel);
  if (m && ctx.state.offline.has(m[1])) throw new ApiError(595, NODE_UNREACHABLE);
}

/** GET /nodes (pve-manager PVE/API2/Nodes.pm index: one entry per node with its corosync status). */
export function listNodes(ctx: LxcContext): unknown {
  return ctx.state.nodes.map((n) => ({
    node: n.name,
    id: `node/${n.name}`,
    type: "node",
    status: ctx.state.offline.has(n.name) ? "offline" : "online",
  }));
}

const TYPES = ["vm", "storage", "node", "sdn"];

/** GET /cluster/resources[?type=vm|storage|node|sdn]. */
export async function resources(
  ctx: LxcContext,
  ha: HaState,
  params: Record<string, string>,
): Promise<unknown> {
  const type = params.type;
  if (type !== undefined && !TYPES.includes(type))
    throw paramError({
      type: `value '${type}' does not have a value in the enumeration '${TYPES.join(", ")}'`,
    });
  const out: Array<Record<string, unknown>> = [];
  if (!type || type === "vm") {
    const list = [...ctx.state.vmlist().entries()].sort(([a], [b]) => a - b);
    for (const [vmid, node] of list) out.push(await guestEntry(ctx, ha, vmid, node));
  }
  if (!type || type === "node") out.push(...(listNodes(ctx) as Array<Record<string, unknown>>));
  if (!type || type === "storage") {
    for (const n of ctx.state.nodes) {
      for (const s of n.storages) {
        out.push({
          id: `storage/${n.name}/${s.id}`,
          storage: s.id,
          node: n.name,
          type: "storage",
          status: ctx.state.offline.has(n.name) ? "unknown" : "available",
          plugintype: s.type,
          shared: s.shared ? 1 : 0,
          content: s.content.join(","),
        });
      }
    }
  }
  return out;
}

async function guestEntry(
  ctx: LxcContext,
  ha: HaState,
  vmid: number,
  node: string,
): Promise<Record<string, unknown>> {
  const offline = ctx.state.offline.has(node);
  // No fresh rrd data from an offline node: extract_vm_stats leaves status `unknown` (API2Tools.pm:84-90).
  const entry: Record<string, unknown> = { id: `lxc/${vmid}`, vmid, node, type: "lxc", status: "unknown" };
  const conf = ctx.state.load(node, vmid).main.props;
  if (!offline) {
    const st = await ctx.backend.status({ node, vmid });
    Object.assign(entry, {
      status: st.running ? "running" : "stopped",
      name: (conf.hostname || `CT${vmid}`).replace(/\s/g, ""),
      uptime: st.running ? (st.uptime ?? 0) : 0,
      template: conf.template === "1" ? 1 : 0,
      maxcpu: Number(conf.cores || 1),
      cpu: 0,
      maxmem: Number(conf.memory || 512) * 1024 * 1024,
      mem: 0,
      maxdisk: 0,
      disk: 0,
      netin: 0,
      netout: 0,
      diskread: 0,
      diskwrite: 0,
    });
  }
  if (conf.lock) entry.lock = conf.lock;
  if (conf.tags !== undefined) entry.tags = conf.tags;
  const res = ha.data.resources[`ct:${vmid}`];
  if (res) entry.hastate = offline ? "fence" : String(res.state ?? "started");
  return entry;
}

/** The node an HA CT prefers now: the highest-priority online node of its rule (PVE 9) or group (PVE 8), if
 *  failback applies; undefined when the CRM would leave it where it is. */
export function failbackTarget(ctx: LxcContext, ha: HaState, vmid: number): string | undefined {
  const sid = `ct:${vmid}`;
  const res = ha.data.resources[sid];
  const state = res?.state ?? "started"; // Resources.pm: state defaults to started
  if (!res || (state !== "started" && state !== "enabled")) return undefined;
  let nodes: string | undefined;
  if (ha.pveMajor >= 9) {
    // Resources.pm: failback defaults to 1 on PVE 9.
    if (res.failback !== undefined && Number(res.failback) === 0) return undefined;
    const rule = Object.values(ha.data.rules).find(
      (r) =>
        r.type === "node-affinity" &&
        !Number(r.disable ?? 0) &&
        String(r.resources ?? "")
          .split(/[,;\s]+/)
          .includes(sid),
    );
    nodes = rule?.nodes as string | undefined;
  } else if (res.group !== undefined) {
    const group = ha.data.groups[String(res.group)];
    if (!group || Number(group.nofailback ?? 0)) return undefined;
    nodes = group.nodes as string | undefined;
  }
  if (!nodes) return undefined;
  const online = String(nodes)
    .split(/[,;\s]+/)
    .filter(Boolean)
    .map((s) => {
      const [name, prio] = s.split(":");
      return { name, prio: Number(prio ?? 0) };
    })
    .filter((n) => !ctx.state.offline.has(n.name) && ctx.state.nodes.some((d) => d.name === n.name));
  if (!online.length) return undefined;
  const top = Math.max(...online.map((n) => n.prio));
  const preferred = online.filter((n) => n.prio === top).map((n) => n.name);
  const current = ctx.state.vmlist().get(vmid);
  // A CT on an offline node is being fenced (state `fence`): recovery (recoverCt), not failback, moves it.
  if (current === undefined || ctx.state.offline.has(current)) return undefined;
  return !preferred.includes(current) ? preferred.sort()[0] : undefined;
}
