/**
 * What the engine tier's assertions against the Proxmox VE API double share (lxc.engine.test.ts, ha.engine.test.ts):
 * the double's request log read as API writes, and hashes of the user's files. The world itself (a shell in the CT,
 * the stand-in registry, the stack file) is lxcWorld.ts.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** One request of the double's JSONL log (tests/pve-double: method, path, params with passwords redacted). */
export interface LoggedRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  status?: number;
}

/** The double's request log, read from a line number on. */
export class RequestLog {
  constructor(private readonly file: string) {}
  entries(): LoggedRequest[] {
    return fs
      .readFileSync(this.file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LoggedRequest);
  }
  count(): number {
    return this.entries().length;
  }
  since(n: number): LoggedRequest[] {
    return this.entries().slice(n);
  }
  /** API writes since line n: every request but GETs and the login, as `METHOD /path` without `/api2/json`. */
  writesSince(n: number): string[] {
    return this.since(n)
      .filter((e) => e.method !== "GET" && e.path !== "/api2/json/access/ticket")
      .map((e) => `${e.method} ${e.path.replace(/^\/api2\/json/, "")}`);
  }
}

/** sha256 of each file (or "missing"), keyed by its path relative to `root`. */
export function hashFiles(root: string, files: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of files) {
    out[path.relative(root, p)] = fs.existsSync(p)
      ? createHash("sha256").update(fs.readFileSync(p)).digest("hex")
      : "missing";
  }
  return out;
}

/** A task context for backend calls made outside any API request (cleanup). */
export const noTask = () => ({ upid: "cleanup", log: () => undefined, signal: new AbortController().signal });

/** Write requests grouped for a table cell: node, task and vmid folded (`POST /lxc/<vmid>/status/start ×2`). */
export function summarizeWrites(writes: string[]): string {
  const counts = new Map<string, number>();
  for (const w of writes) {
    const k = w
      .replace(/\/nodes\/[^/]+/, "")
      .replace(/\/tasks\/[^/]+/, "/tasks/…")
      .replace(/\/\d+/, "/<vmid>");
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(", ");
}
