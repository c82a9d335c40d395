/**
 * A client that speaks to the double the way the proxmoxve provider speaks to Proxmox
 * (bpg/terraform-provider-proxmox proxmox/api/client.go:162-196, user_auth.go:57-168): HTTPS with TLS 1.3,
 * `/api2/json` prefix, query string for GET/DELETE, form-urlencoded body for POST/PUT, booleans as 0/1,
 * `Cookie: PVEAuthCookie=<ticket>` and a `CSRFPreventionToken` header on everything but GET. It verifies the
 * node certificate against the double's CA, so every contract test also proves the CA/SAN setup.
 */
import * as https from "node:https";

export interface Answer {
  status: number;
  reason: string;
  /** Parsed JSON body, or undefined for an empty body. */
  body: any;
  raw: string;
  headers: Record<string, string | string[] | undefined>;
}

export class PveClient {
  ticket?: string;
  csrf?: string;
  apiToken?: string;

  constructor(
    readonly base: string,
    private readonly ca: Buffer,
  ) {}

  async login(username: string, password: string): Promise<Answer> {
    const a = await this.call("POST", "/access/ticket", { username, password }, { noAuth: true });
    if (a.status === 200) {
      this.ticket = a.body.data.ticket;
      this.csrf = a.body.data.CSRFPreventionToken;
    }
    return a;
  }

  call(
    method: string,
    path: string,
    params: Record<string, string | number> = {},
    opts: { noAuth?: boolean; noCsrf?: boolean } = {},
  ): Promise<Answer> {
    const form = new URLSearchParams(
      Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    const isBody = method === "POST" || method === "PUT";
    const url = new URL(`api2/json${path}${!isBody && form ? `?${form}` : ""}`, this.base);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (isBody) headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (!opts.noAuth) {
      if (this.apiToken) headers.Authorization = `PVEAPIToken=${this.apiToken}`;
      else if (this.ticket) {
        headers.Cookie = `PVEAuthCookie=${this.ticket}`;
        if (method !== "GET" && this.csrf && !opts.noCsrf) headers.CSRFPreventionToken = this.csrf;
      }
    }
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        { method, headers, ca: this.ca, minVersion: "TLSv1.3", agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const raw = Buffer.concat(chunks).toString("utf8");
            resolve({
              status: res.statusCode ?? 0,
              reason: res.statusMessage ?? "",
              body: raw ? JSON.parse(raw) : undefined,
              raw,
              headers: res.headers,
            });
          });
        },
      );
      req.on("error", reject);
      if (isBody) req.end(form);
      else req.end();
    });
  }

  /** The provider's status wait (retry.go:219-256): poll status/current until the CT has `status`. */
  async waitStatus(
    node: string,
    vmid: number,
    status: "running" | "stopped",
    timeoutMs = 10000,
  ): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const a = await this.call("GET", `/nodes/${node}/lxc/${vmid}/status/current`);
      if (a.status === 200 && a.body.data.status === status) return;
      if (Date.now() > end) throw new Error(`CT ${vmid} not ${status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The provider's task wait (proxmox/nodes/tasks/tasks.go:153-198): poll status until not running. */
  async waitTask(node: string, upid: string, intervalMs = 20): Promise<any> {
    for (;;) {
      const a = await this.call("GET", `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
      if (a.status !== 200) throw new Error(`task status: ${a.status} ${a.reason}`);
      if (a.body.data.status !== "running") return a.body.data;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
