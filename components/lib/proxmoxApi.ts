/**
 * The program's own read of the Proxmox cluster, before any resource: log in the way the proxmoxve provider does
 * (POST /access/ticket with root@pam's password; bpg/terraform-provider-proxmox v0.111.1 proxmox/api/
 * user_auth.go:57-168) over TLS verified against the same roots the provider's Go client trusts, then
 * `GET /cluster/resources` (pve-manager PVE/API2/Cluster.pm:262-633): every guest with the node that holds its
 * config now, its status and HA state, and every node with its corosync status.
 *
 * Secrets: the password goes only into the login body over the verified channel; no error message repeats it.
 */
import * as fs from "node:fs";
import * as https from "node:https";

/** Where and how to log in: the stack's proxmox.endpoint/insecure/username and proxmoxPassword. */
export interface ApiLogin {
  endpoint: string;
  /** Skip TLS verification, as proxmox.insecure does for the provider (warned at config time). */
  insecure: boolean;
  username: string;
  password: string;
}

/** One guest of /cluster/resources (extract_vm_stats, pve-manager PVE/API2Tools.pm:81-117). */
export interface ClusterGuest {
  vmid: number;
  node: string;
  /** `lxc` or `qemu`. */
  type: string;
  /** `running`, `stopped`, ... or `unknown` while its node reports nothing (API2Tools.pm:81-117). */
  status: string;
  /** HA service state (`started`, `fence`, `relocate`, ...) when the guest is an HA resource (Cluster.pm:602-611). */
  hastate?: string;
}

/** The cluster as /cluster/resources lists it. */
export interface ClusterView {
  guests: ClusterGuest[];
  /** node name → `online` | `offline` | `unknown` (extract_node_stats, API2Tools.pm:36-79). */
  nodes: Record<string, string>;
}

/** The API could not be reached at all (no route, refused, DNS, timeout): distinct from an answer that refuses. */
export class ApiUnreachable extends Error {}

/**
 * The CA certificates Go's crypto/x509 trusts on Linux, which is what the provider's client verifies against
 * (Go 1.26 src/crypto/x509/root_unix.go:32-82, root_linux.go:10-23): SSL_CERT_FILE or the first distribution
 * bundle that exists, plus every file in SSL_CERT_DIR (colon-separated) or the default directories. The README's
 * "Pin the node first" adds the node's CA through SSL_CERT_DIR; both clients then trust exactly the same set.
 */
export function goSystemRoots(env: NodeJS.ProcessEnv): string[] {
  const files = env.SSL_CERT_FILE
    ? [env.SSL_CERT_FILE]
    : [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/pki/tls/cacert.pem",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/ssl/cert.pem",
      ];
  const pems: string[] = [];
  for (const file of files) {
    const text = readOrUndefined(file);
    if (text !== undefined) {
      pems.push(...certificates(text));
      break;
    }
  }
  const dirs = env.SSL_CERT_DIR ? env.SSL_CERT_DIR.split(":") : ["/etc/ssl/certs", "/etc/pki/tls/certs"];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    // Go skips the symlinks that point inside the same directory (c_rehash's hash links;
    // readUniqueDirectoryEntries): here they are read and their certificates dropped as duplicates below, the same set.
    for (const name of names) {
      const text = readOrUndefined(`${dir}/${name}`);
      if (text !== undefined) pems.push(...certificates(text));
    }
  }
  return [...new Set(pems)];
}

function readOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function certificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

interface Answer {
  status: number;
  reason: string;
  body: string;
}

/** Logs in and reads /cluster/resources. Throws ApiUnreachable when nothing answers, Error for any refusal. */
export async function readCluster(
  login: ApiLogin,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ClusterView> {
  const base = login.endpoint.endsWith("/") ? login.endpoint : `${login.endpoint}/`;
  const tls: https.RequestOptions = login.insecure
    ? { rejectUnauthorized: false }
    : { ca: goSystemRoots(options.env ?? process.env), rejectUnauthorized: true };
  const timeoutMs = options.timeoutMs ?? 15_000;
  const call = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    request(new URL(`api2/json${path}`, base), method, headers, body, tls, timeoutMs);

  const ticket = await call(
    "POST",
    "/access/ticket",
    { "Content-Type": "application/x-www-form-urlencoded" },
    new URLSearchParams({ username: login.username, password: login.password }).toString(),
  );
  if (ticket.status !== 200)
    throw new Error(`login as ${login.username} at ${base} failed: HTTP ${ticket.status} ${ticket.reason}`);
  const auth = (JSON.parse(ticket.body) as { data: { ticket: string } }).data.ticket;
  const res = await call("GET", "/cluster/resources", { Cookie: `PVEAuthCookie=${auth}` });
  if (res.status !== 200)
    throw new Error(`GET /cluster/resources at ${base} failed: HTTP ${res.status} ${res.reason}`);
  return clusterView((JSON.parse(res.body) as { data: ResourceEntry[] }).data);
}

/** One entry of /cluster/resources, as the API sends it. */
export type ResourceEntry = Record<string, string | number | undefined>;

/**
 * The guests and nodes of a /cluster/resources answer. Every entry there has a type; guests (`lxc`, `qemu`: VMIDs are
 * cluster-wide, a VM holds one as a CT does) and nodes are kept, the rest (`storage`, `pool`, `sdn`, `network`,
 * Cluster.pm:534-726) carry a `node` too and must not be taken for one. Guest and node entries always have a status
 * (`unknown` until the node reports one: extract_vm_stats and extract_node_stats, API2Tools.pm:36-117).
 */
export function clusterView(entries: ResourceEntry[]): ClusterView {
  const view: ClusterView = { guests: [], nodes: {} };
  for (const e of entries) {
    if (e.type === "lxc" || e.type === "qemu") {
      view.guests.push({
        vmid: Number(e.vmid),
        node: String(e.node),
        type: String(e.type),
        status: String(e.status),
        ...(e.hastate !== undefined ? { hastate: String(e.hastate) } : {}),
      });
    } else if (e.type === "node") view.nodes[String(e.node)] = String(e.status);
  }
  return view;
}

/**
 * The error a failed request rejects with: ApiUnreachable when nothing answered (refused, no route, no such name,
 * no answer in time), a plain Error otherwise (TLS verification above all: the provider refuses it too). The message
 * names the endpoint and the cause.
 */
export function requestError(origin: string, e: NodeJS.ErrnoException): Error {
  const text = e.code ? `${origin}: ${e.code} ${e.message}` : `${origin}: ${e.message}`;
  // Nothing answered: refused, no route, no such name, no answer in time.
  const unreachable = ["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT"];
  return unreachable.includes(String(e.code)) ? new ApiUnreachable(text) : new Error(text);
}

function request(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  tls: https.RequestOptions,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      // No keep-alive (agent: false): an idle pooled socket would keep the program's process alive after it refused.
      { method, headers: { Accept: "application/json", ...headers }, ...tls, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            reason: res.statusMessage ?? "",
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", (e: NodeJS.ErrnoException) => reject(requestError(url.origin, e)));
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })),
    );
    req.on("error", (e: NodeJS.ErrnoException) => reject(requestError(url.origin, e)));
    req.end(body);
  });
}
