/**
 * What the engine tier's stacks against the Proxmox VE API double share (lxc.engine.test.ts, ha.engine.test.ts):
 * a shell in a CT of the double's LXC backend, the stand-in image's registry inside whatever CT has the vmid now,
 * the double's request log read as API writes, and hashes of the user's files.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CtStatus } from "../pve-double/backend";
import { ensureDocker, ensureStandinImage, RUNTIME, systemEnv } from "../system/harness";

const REGISTRY = path.join(__dirname, "standin-registry.py");
/** Where the stand-in registry listens inside the CT's network namespace (Docker trusts 127.0.0.1 without setup). */
export const REGISTRY_PORT = 5000;

/** `sh -c <cmd>` inside CT `vmid` of the backend's lxcpath, as root with a clean environment; "" on failure. */
export function inCt(lxcPath: string, vmid: number, cmd: string): string {
  const r = spawnSync(
    "lxc-attach",
    [
      "-P",
      lxcPath,
      "-n",
      String(vmid),
      "--clear-env",
      "--",
      "env",
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "sh",
      "-c",
      cmd,
    ],
    { encoding: "utf8" },
  );
  return r.status === 0 ? r.stdout.trim() : "";
}

/**
 * The stand-in image, really pulled: `standin-registry.py` serves a `docker save` of `hermes-standin:local` (built
 * in the tier's own CT) inside the LXC's network namespace on 127.0.0.1:5000. `keep` (re)starts it whenever the CT
 * has a new init (a boot, a reboot, a replacement, a start on another node).
 */
export class StandinRegistry {
  private readonly imageDir = path.join(RUNTIME, "standin-image");
  private registry?: { proc: ChildProcess; pid: number };
  private watcher?: NodeJS.Timeout;

  async save(): Promise<void> {
    const env = systemEnv();
    await ensureDocker();
    await ensureStandinImage();
    fs.rmSync(this.imageDir, { recursive: true, force: true });
    fs.mkdirSync(this.imageDir, { recursive: true });
    const tar = path.join(this.imageDir, "image.tar");
    const fd = fs.openSync(tar, "w");
    const r = spawnSync(
      "lxc-attach",
      [
        "-P",
        env.file.lxcpath,
        "-n",
        String(env.vmid),
        "--clear-env",
        "--",
        "env",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "docker",
        "save",
        "hermes-standin:local",
      ],
      { stdio: ["ignore", fd, "inherit"] },
    );
    fs.closeSync(fd);
    if (r.status !== 0) throw new Error("docker save of the stand-in image failed");
    execFileSync("tar", ["-xf", tar, "-C", this.imageDir]);
    fs.rmSync(tar);
    // Layers compressed once, here, so a registry (re)started for a rebooted LXC serves at once.
    execFileSync("python3", [REGISTRY, this.imageDir, "--prepare"]);
  }

  /** Polls the CT's status every second and keeps the registry in its current network namespace. */
  keep(status: () => Promise<CtStatus>): void {
    this.watcher = setInterval(() => {
      void status().then((s) => {
        if (!s.running || !s.pid || (this.registry?.pid === s.pid && this.registry.proc.exitCode === null))
          return;
        this.registry?.proc.kill();
        const log = fs.openSync(path.join(RUNTIME, "standin-registry.log"), "a");
        const proc = spawn(
          "nsenter",
          ["-t", String(s.pid), "--net", "--", "python3", REGISTRY, this.imageDir, String(REGISTRY_PORT)],
          { stdio: ["ignore", "ignore", log] },
        );
        fs.closeSync(log);
        this.registry = { proc, pid: s.pid };
      });
    }, 1000);
  }

  stop(): void {
    if (this.watcher) clearInterval(this.watcher);
    this.registry?.proc.kill();
  }
}

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
