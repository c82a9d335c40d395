/**
 * The Proxmox VE API double: HTTPS on loopback (TLS 1.3, a throwaway CA and node certificate), Proxmox's auth,
 * the endpoints the proxmoxve provider calls (docs: ../../../shared/reference/proxmox-api.md §3.1, README.md
 * here), real tasks and a JSONL request log. Containers are delegated to a ContainerBackend (backend.ts).
 *
 *   const pve = await startDouble({ rootPassword: "…" });
 *   // pve.url = "https://127.0.0.1:<port>/", pve.caFile, pve.fingerprint256, pve.requestLog
 *   await pve.stop();
 */
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Auth, extractAuthValue } from "./auth";
import type { ContainerBackend } from "./backend";
import { ApiError, die } from "./errors";
import * as clusterApi from "./clusterApi";
import * as haApi from "./haApi";
import { Layout } from "./layout";
import * as lxc from "./lxcApi";
import * as nodeApi from "./nodeApi";
import { SimulatedBackend } from "./simulatedBackend";
import { ClusterState, DEFAULT_STORAGES, NodeDef } from "./state";
import { TaskManager } from "./tasks";
import { makeNodeCerts } from "./tls";

export interface DoubleOptions {
  /** root@pam's password (the only password user; secret: never logged). */
  rootPassword: string;
  /** State directory (layout.ts); a fresh temporary one by default, removed by stop() only if it made it. */
  stateDir?: string;
  /** Cluster nodes; the first one serves the API. Default: one node `pve` with `local` (dir) and `local-lvm`
   *  (lvmthin, simulated by directories). */
  nodes?: Array<{ name: string; storages?: NodeDef["storages"] }>;
  // A storage with `shared: true` is one directory for every node that lists it (layout.ts).
  /** Reported PVE version (GET /version); ≥ 9.1 accepts `host-managed` in netN. Default 8.4.14. */
  version?: string;
  /** API tokens: `root@pam!<id>` → secret (UUID). They act as that token user (403 on root-only changes). */
  apiTokens?: Record<string, string>;
  /** Container backend; default: the simulated one (files only). */
  backend?: ContainerBackend;
  /** Proxmox delays every 401 to 3 s after the request started; tests may shorten it (simulated duration). */
  unauthorizedDelayMs?: number;
  /** Minimum task duration in ms (simulated duration; default 0). */
  minTaskMs?: number;
  /** VMIDs configured as HA resources (simulated HA). */
  haResources?: number[];
  /** Listen port on 127.0.0.1 (default: any free port). */
  port?: number;
}

export interface RunningDouble {
  url: string;
  port: number;
  /** The throwaway CA that signed the node certificate (what a verifying client trusts: pve-root-ca.pem). */
  caFile: string;
  certFile: string;
  /** SHA-256 fingerprint of the node certificate, `AA:BB:…`. */
  fingerprint256: string;
  requestLog: string;
  layout: Layout;
  backend: ContainerBackend;
  tasks: TaskManager;
  /** Resolve once the task has ended (tests). */
  waitTask(upid: string): Promise<void>;
  /** HA recovery of a CT onto node `to`, as after its node was fenced (haApi.ts recoverCt; the drill's move). */
  recoverCt(vmid: number, to: string): Promise<{ from: string; to: string }>;
  /** Take a node out (powered off, link cut): its `/nodes/<node>/...` requests get `595 No route to host`. */
  setNodeOffline(node: string): void;
  /** The node rejoins (online again). Nothing moves until failback() runs: the CRM's next round. */
  bringNodeBack(node: string): void;
  /** The CRM's failback round: every HA CT with failback on, away from its highest-priority online node, is
   *  relocated there (clusterApi.ts failbackTarget). Returns the moves. */
  failback(): Promise<Array<{ vmid: number; from: string; to: string }>>;
  stop(): Promise<void>;
}

type Params = Record<string, string>;
interface Call {
  method: string;
  rel: string;
  params: Params;
  user: string;
}
type Handler = (call: Call, m: RegExpExecArray) => unknown;

const REDACT = /password/i;

export async function startDouble(opts: DoubleOptions): Promise<RunningDouble> {
  const ownDir = !opts.stateDir;
  const stateDir = opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "pve-double-"));
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const layout = new Layout(stateDir);
  const certs = makeNodeCerts(path.join(stateDir, "certs"));
  if (!fs.existsSync(layout.authKeyFile))
    fs.writeFileSync(layout.authKeyFile, Auth.newKey(), { mode: 0o600 });
  const auth = new Auth(fs.readFileSync(layout.authKeyFile));
  const nodes: NodeDef[] = (opts.nodes ?? [{ name: "pve" }]).map((n) => ({
    name: n.name,
    storages: n.storages ?? DEFAULT_STORAGES,
  }));
  for (const n of nodes) for (const s of n.storages) if (s.shared) layout.sharedStorages.add(s.id);
  const state = new ClusterState(layout, nodes);
  const tasks = new TaskManager(layout, opts.minTaskMs ?? 0);
  const backend = opts.backend ?? new SimulatedBackend();
  await backend.init(layout);
  const pveVersion = opts.version ?? "8.4.14";
  const [maj, min] = pveVersion.split(".").map(Number);
  const ctx: lxc.LxcContext = {
    state,
    tasks,
    backend,
    hostManaged: maj > 9 || (maj === 9 && min >= 1),
    haResources: new Set(opts.haResources ?? []),
  };
  const ha = new haApi.HaState(layout.pveDir, maj, ctx.haResources);
  const delay401 = opts.unauthorizedDelayMs ?? 3000;
  const tokens = opts.apiTokens ?? {};
  fs.writeFileSync(layout.requestLog, "", { flag: "a" });

  const vmid = (s: string) => Number(s);
  const routes: Array<[string, RegExp, Handler]> = [
    ["GET", /^\/version$/, () => nodeApi.version(pveVersion)],
    ["GET", /^\/cluster\/ha\/resources$/, (c) => haApi.listResources(ha, c.params)],
    ["GET", /^\/cluster\/ha\/resources\/([^/]+)$/, (_c, m) => haApi.readResource(ctx, ha, m[1])],
    ["POST", /^\/cluster\/ha\/resources$/, (c) => haApi.createResource(ctx, ha, c.params)],
    ["PUT", /^\/cluster\/ha\/resources\/([^/]+)$/, (c, m) => haApi.updateResource(ctx, ha, m[1], c.params)],
    [
      "DELETE",
      /^\/cluster\/ha\/resources\/([^/]+)$/,
      (c, m) => haApi.deleteResource(ctx, ha, m[1], c.params),
    ],
    ["GET", /^\/cluster\/ha\/groups$/, () => haApi.listGroups(ha)],
    ["GET", /^\/cluster\/ha\/groups\/([^/]+)$/, (_c, m) => haApi.readGroup(ha, m[1])],
    ["POST", /^\/cluster\/ha\/groups$/, (c) => haApi.createGroup(ha, c.params)],
    ["PUT", /^\/cluster\/ha\/groups\/([^/]+)$/, (c, m) => haApi.updateGroup(ha, m[1], c.params)],
    ["DELETE", /^\/cluster\/ha\/groups\/([^/]+)$/, (_c, m) => haApi.deleteGroup(ha, m[1])],
    ["GET", /^\/cluster\/ha\/rules$/, (c) => haApi.listRules(ha, c.rel)],
    ["GET", /^\/cluster\/ha\/rules\/([^/]+)$/, (c, m) => haApi.readRule(ha, c.rel, m[1])],
    ["POST", /^\/cluster\/ha\/rules$/, (c) => haApi.createRule(ctx, ha, c.rel, c.params)],
    ["PUT", /^\/cluster\/ha\/rules\/([^/]+)$/, (c, m) => haApi.updateRule(ctx, ha, c.rel, m[1], c.params)],
    ["DELETE", /^\/cluster\/ha\/rules\/([^/]+)$/, (c, m) => haApi.deleteRule(ha, c.rel, m[1])],
    ["GET", /^\/nodes$/, () => clusterApi.listNodes(ctx)],
    ["GET", /^\/cluster\/resources$/, (c) => clusterApi.resources(ctx, ha, c.params)],
    [
      "GET",
      /^\/nodes\/([^/]+)\/query-url-metadata$/,
      (c, m) => nodeApi.queryUrlMetadata(state, m[1], c.params),
    ],
    [
      "POST",
      /^\/nodes\/([^/]+)\/storage\/([^/]+)\/download-url$/,
      (c, m) => nodeApi.downloadUrl(state, tasks, m[1], m[2], c.params, c.user),
    ],
    [
      "GET",
      /^\/nodes\/([^/]+)\/storage\/([^/]+)\/content$/,
      (c, m) => nodeApi.listContent(state, m[1], m[2], c.params),
    ],
    [
      "DELETE",
      /^\/nodes\/([^/]+)\/storage\/([^/]+)\/content\/([^/]+)$/,
      (c, m) => nodeApi.deleteContent(state, tasks, m[1], m[2], m[3], c.user),
    ],
    ["GET", /^\/nodes\/([^/]+)\/tasks\/([^/]+)\/status$/, (_c, m) => (state.node(m[1]), tasks.status(m[2]))],
    [
      "GET",
      /^\/nodes\/([^/]+)\/tasks\/([^/]+)\/log$/,
      (c, m) => (
        state.node(m[1]),
        tasks.log(m[2], Number(c.params.start ?? 0), Number(c.params.limit ?? 50))
      ),
    ],
    [
      "DELETE",
      /^\/nodes\/([^/]+)\/tasks\/([^/]+)$/,
      async (_c, m) => (state.node(m[1]), await tasks.stop(m[2]), null),
    ],
    ["POST", /^\/nodes\/([^/]+)\/lxc$/, (c, m) => lxc.createCt(ctx, m[1], c.params, c.user)],
    [
      "GET",
      /^\/nodes\/([^/]+)\/lxc\/(\d+)\/config$/,
      (c, m) => lxc.getConfig(ctx, m[1], vmid(m[2]), c.params),
    ],
    [
      "PUT",
      /^\/nodes\/([^/]+)\/lxc\/(\d+)\/config$/,
      (c, m) => lxc.putConfig(ctx, m[1], vmid(m[2]), c.params, c.user),
    ],
    [
      "GET",
      /^\/nodes\/([^/]+)\/lxc\/(\d+)\/status\/current$/,
      (_c, m) => lxc.statusCurrent(ctx, m[1], vmid(m[2])),
    ],
    [
      "POST",
      /^\/nodes\/([^/]+)\/lxc\/(\d+)\/status\/start$/,
      (c, m) => lxc.startCt(ctx, m[1], vmid(m[2]), c.params, c.user),
    ],
    [
      "POST",
      /^\/nodes\/([^/]+)\/lxc\/(\d+)\/status\/shutdown$/,
      (c, m) => lxc.shutdownCt(ctx, m[1], vmid(m[2]), c.params, c.user),
    ],
    [
      "POST",
      /^\/nodes\/([^/]+)\/lxc\/(\d+)\/status\/stop$/,
      (c, m) => lxc.stopCt(ctx, m[1], vmid(m[2]), c.params, c.user),
    ],
    [
      "POST",
      /^\/nodes\/([^/]+)\/lxc\/(\d+)\/status\/reboot$/,
      (c, m) => lxc.rebootCt(ctx, m[1], vmid(m[2]), c.params, c.user),
    ],
    [
      "DELETE",
      /^\/nodes\/([^/]+)\/lxc\/(\d+)$/,
      (c, m) => lxc.destroyCt(ctx, m[1], vmid(m[2]), c.params, c.user),
    ],
    ["GET", /^\/nodes\/([^/]+)\/lxc\/(\d+)\/interfaces$/, (_c, m) => lxc.interfacesCt(ctx, m[1], vmid(m[2]))],
    [
      "PUT",
      /^\/nodes\/([^/]+)\/lxc\/(\d+)\/resize$/,
      (c, m) => lxc.resizeCt(ctx, m[1], vmid(m[2]), c.params, c.user),
    ],
  ];

  /** POST /access/ticket (pve-access-control src/PVE/API2/AccessControl.pm:197-325). */
  const login = (params: Params) => {
    let user = params.username ?? "";
    if (params.realm && !user.includes("@")) user = `${user}@${params.realm}`;
    if (user !== "root@pam" || params.password !== opts.rootPassword)
      throw new ApiError(401, "authentication failure\n"); // :310
    return {
      username: user,
      ticket: auth.issueTicket(user),
      CSRFPreventionToken: auth.csrfToken(user),
      cap: { vms: {}, storage: {}, access: {}, nodes: {}, dc: {}, sdn: {}, mapping: {} },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "https://localhost");
    const body = await readBody(req);
    const params: Params = {};
    if (method === "POST" || method === "PUT") for (const [k, v] of new URLSearchParams(body)) params[k] = v;
    for (const [k, v] of url.searchParams) params[k] = v; // query wins (pve-manager HTTPServer extract_params)
    delete params._dc;
    let user = "";
    let authKind = "none";
    let status = 200;
    let message = "";
    let payload: unknown = null;
    let total: number | undefined;
    let errors: Record<string, string> | undefined;
    let emptyBody = false;
    try {
      const m = /^\/api2\/json(\/.*)?$/.exec(decodeURIComponent(url.pathname));
      if (!m) throw new ApiError(501, "no such uri");
      const rel = (m[1] ?? "/").replace(/\/+$/, "") || "/";
      if (rel === "/access/ticket" && (method === "POST" || method === "GET")) {
        payload = method === "POST" ? login(params) : null;
        user = payload ? "root@pam" : "";
      } else {
        // Authentication (pve-http-server AnyEvent.pm:1574-1600, pve-manager PVE/HTTPServer.pm:54-135).
        const ticket =
          extractAuthValue(req.headers.cookie, "PVEAuthCookie") ??
          extractAuthValue(req.headers.authorization, "PVEAuthCookie");
        const apiToken = ticket ? undefined : extractAuthValue(req.headers.authorization, "PVEAPIToken");
        emptyBody = true; // auth failures are answered without a body (AnyEvent.pm:1610-1645)
        if (apiToken) {
          authKind = "token";
          const tm = /^(.*)=(.*)$/.exec(apiToken);
          if (!tm || tokens[tm[1]] === undefined || tokens[tm[1]] !== tm[2])
            throw new ApiError(401, "Authentication failed!");
          user = tm[1];
        } else {
          authKind = "ticket";
          if (!ticket) throw new ApiError(401, "No ticket");
          const u = auth.verifyTicket(ticket);
          if (!u) throw new ApiError(401, "Authentication failed!");
          user = u;
          if (
            method !== "GET" &&
            !auth.verifyCsrf(user, req.headers.csrfpreventiontoken as string | undefined)
          )
            throw new ApiError(401, "Permission denied - invalid csrf token");
        }
        emptyBody = false;
        clusterApi.proxyCheck(ctx, rel); // an offline node: pveproxy's 595, before any handler (clusterApi.ts)
        const route = routes.find(([meth, re]) => meth === method && re.test(rel));
        if (!route) throw new ApiError(501, `Method '${method} ${rel}' not implemented`); // AnyEvent.pm:2297
        const rm = route[1].exec(rel) as RegExpExecArray;
        payload = await route[2]({ method, rel, params, user }, rm);
        if (payload && typeof payload === "object" && "lines" in payload && "total" in payload) {
          total = (payload as { total: number }).total;
          payload = (payload as { lines: unknown }).lines;
        }
      }
    } catch (e) {
      const err = e instanceof ApiError ? e : die(e instanceof Error ? e.message : String(e));
      status = err.status;
      message = err.message;
      errors = err.errors;
      payload = null;
    }
    if (status === 401) {
      const wait = started + delay401 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const reason = message ? message.split("\n")[0] : "OK";
    res.statusMessage = reason.replace(/[^\x20-\x7e]/g, "?");
    res.setHeader("Server", "pve-api-daemon/3.0");
    res.setHeader("Cache-Control", "max-age=0");
    if (status >= 400) res.setHeader("Connection", "close");
    if ((emptyBody && status !== 200) || status === 595) {
      res.statusCode = status;
      res.end();
    } else {
      const out: Record<string, unknown> = { data: payload };
      if (status >= 400) out.message = message;
      if (errors) out.errors = errors;
      if (total !== undefined) out.total = total;
      res.statusCode = status;
      res.setHeader("Content-Type", "application/json;charset=UTF-8");
      res.end(JSON.stringify(out));
    }
    const redacted: Params = {};
    for (const [k, v] of Object.entries(params)) redacted[k] = REDACT.test(k) ? "<redacted>" : v;
    const entry = {
      time: new Date(started).toISOString(),
      ms: Date.now() - started,
      method,
      path: safeDecode(url.pathname),
      params: redacted,
      auth: authKind,
      user,
      status,
      message: reason,
    };
    fs.appendFileSync(layout.requestLog, `${JSON.stringify(entry)}\n`);
  };

  const server = https.createServer(
    { key: fs.readFileSync(certs.keyFile), cert: fs.readFileSync(certs.certFile), minVersion: "TLSv1.3" },
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        res.statusCode = 500;
        res.end(String(e));
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}/`,
    port,
    caFile: certs.caFile,
    certFile: certs.certFile,
    fingerprint256: certs.fingerprint256,
    requestLog: layout.requestLog,
    layout,
    backend,
    tasks,
    waitTask: (upid) => tasks.wait(upid),
    recoverCt: (vmid, to) => haApi.recoverCt(ctx, vmid, to),
    setNodeOffline: (node) => void (state.node(node), state.offline.add(node)),
    bringNodeBack: (node) => void (state.node(node), state.offline.delete(node)),
    failback: async () => {
      const moves: Array<{ vmid: number; from: string; to: string }> = [];
      for (const [vmid, from] of state.vmlist()) {
        const to = clusterApi.failbackTarget(ctx, ha, vmid);
        if (to === undefined) continue;
        await haApi.moveCt(ctx, vmid, from, to);
        moves.push({ vmid, from, to });
      }
      return moves;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await tasks.close();
      await backend.close();
      if (ownDir) fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
