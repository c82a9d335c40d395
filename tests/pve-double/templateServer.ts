/**
 * The CT template, as a Proxmox node would fetch it: the system tier's cached Debian 12 rootfs (tests/system/
 * rootfs.sh) compressed once to `.tar.zst` under a Proxmox-style template name, served by a plain HTTP server on
 * loopback. The node's `query-url-metadata` sends it a real HEAD and `download-url` a real GET
 * (pve-manager PVE/API2/Nodes.pm:1894-1985, pve-storage src/PVE/API2/Storage/Status.pm:738-912).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";

export interface Template {
  /** The file on this machine. */
  file: string;
  /** Its Proxmox template name (`<os>-<version>-<name>_<version>_<arch>.tar.zst`). */
  name: string;
  /** sha512 of the file, hex: what a stack's `template.checksum` holds. */
  sha512: string;
  size: number;
}

/**
 * The template made from the tier's rootfs tarball (`rootfs-bookworm-<key>.tar`), compressed next to it once and
 * reused while the tarball is unchanged (its cache key is part of the name).
 */
export function templateFromRootfs(tarball: string): Template {
  const key = /rootfs-bookworm-([0-9a-f]+)\.tar$/.exec(path.basename(tarball))?.[1];
  if (!key) throw new Error(`not a system-tier rootfs tarball: ${tarball}`);
  const name = `debian-12-systest_${key}_amd64.tar.zst`;
  const file = path.join(path.dirname(tarball), name);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    execFileSync("zstd", ["-q", "-T0", "-3", "-f", "-o", tmp, tarball]);
    fs.renameSync(tmp, file);
  }
  const sumFile = `${file}.sha512`;
  let sha512 = fs.existsSync(sumFile) ? fs.readFileSync(sumFile, "utf8").trim() : "";
  if (!/^[0-9a-f]{128}$/.test(sha512)) {
    sha512 = createHash("sha512").update(fs.readFileSync(file)).digest("hex");
    fs.writeFileSync(sumFile, `${sha512}\n`);
  }
  return { file, name, sha512, size: fs.statSync(file).size };
}

/** Serves files by name on 127.0.0.1 (GET and HEAD; anything else is 405, an unknown name 404). */
export class TemplateServer {
  private server?: http.Server;
  private readonly files = new Map<string, string>();
  /** Every request, for tests: `METHOD /path`. */
  readonly requests: string[] = [];

  add(name: string, file: string): void {
    this.files.set(name, file);
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.requests.push(`${req.method} ${req.url}`);
      const file = this.files.get(decodeURIComponent((req.url ?? "/").slice(1)));
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405).end();
        return;
      }
      if (!file || !fs.existsSync(file)) {
        res.writeHead(404, "Not Found").end();
        return;
      }
      const st = fs.statSync(file);
      res.writeHead(200, {
        "Content-Type": "application/zstd",
        "Content-Length": st.size,
        "Last-Modified": st.mtime.toUTCString(),
      });
      if (req.method === "HEAD") res.end();
      else fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** `http://127.0.0.1:<port>/<name>` of a served file. */
  url(base: string, name: string): string {
    return `${base}/${encodeURIComponent(name)}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
