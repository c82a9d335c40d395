/**
 * Real tasks, as pve-common's fork_worker makes them (src/PVE/RESTEnvironment.pm:520-680, src/PVE/UPID.pm):
 *  - each task has a real worker process; its pid and its start time from /proc/<pid>/stat (field 22, clock
 *    ticks since boot) go into the UPID `UPID:<node>:<pid %08X>:<pstart %08X>:<starttime %08X>:<type>:<id>:<user>:`
 *    (UPID.pm:18-30);
 *  - status (pve-manager PVE/API2/Tasks.pm:512-545) is `running` while a process with that pid *and* that
 *    pstart exists, else `stopped` with `exitstatus` read from the log's last line (UPID.pm:70-86): `OK`,
 *    `WARNINGS: n`, the error text, or `unexpected status`;
 *  - the log ends with `TASK OK` / `TASK ERROR: <err>` (RESTEnvironment.pm:650-668); GET log returns
 *    `[{n, t}]` with `total` (Tasks.pm:440-450, pve-common Tools.pm dump_logfile);
 *  - an unknown UPID: 400 `{upid: "no such task"}`, an unparsable one: 400 `unable to parse worker upid`
 *    (Tasks.pm:314-316, :515-517); DELETE stops a running task (Tasks.pm:293-330: check_worker(upid, 1)).
 *
 * Simulated: the worker process is a placeholder (`sleep infinity`) whose life spans the task; the task's work
 * itself runs in the double's event loop (in the backend). Killing the worker (DELETE) aborts that work.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { TaskContext } from "./backend";
import { paramError } from "./errors";
import type { Layout } from "./layout";

export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

/** UPID.pm:32-60 (decode). */
export function decodeUpid(upid: string): Upid | undefined {
  const m =
    /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/.exec(
      upid,
    );
  if (!m) return undefined;
  return {
    node: m[1],
    pid: parseInt(m[3], 16),
    pstart: parseInt(m[4], 16),
    starttime: parseInt(m[5], 16),
    type: m[6],
    id: m[7],
    user: m[8],
  };
}

export function encodeUpid(d: Upid): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, "0");
  return `UPID:${d.node}:${hex(d.pid)}:${hex(d.pstart)}:${hex(d.starttime)}:${d.type}:${d.id}:${d.user}:`;
}

/** read_proc_starttime (pve-common src/PVE/ProcFSTools.pm): field 22 of /proc/<pid>/stat; undefined if the
 *  process is gone (or a zombie, which is as good as gone for a worker). */
export function procStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parens: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (rest[0] === "Z") return undefined;
  return Number(rest[19]); // field 22 = rest index 19 (fields 3.. start at rest[0])
}

interface Running {
  worker: ChildProcess;
  abort: AbortController;
  done: Promise<void>;
}

export class TaskManager {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly layout: Layout,
    /** Simulated duration added to every task (default 0): a real task takes seconds, a simulated one ms. */
    private readonly minTaskMs = 0,
  ) {}

  private logPath(upid: Upid, raw: string): string {
    return path.join(this.layout.taskDir(upid.node), raw);
  }

  /** fork_worker: spawn the worker, write the log header, run `work` and end the log with TASK OK/ERROR.
   *  Returns the UPID once the worker exists (Proxmox returns it once the child has synced). */
  async start(
    node: string,
    type: string,
    id: string,
    user: string,
    work: (task: TaskContext) => Promise<void>,
  ): Promise<string> {
    const worker = spawn("sleep", ["infinity"], { stdio: "ignore" });
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      worker.once("spawn", () => resolve());
      worker.once("error", reject);
    });
    const pid = worker.pid as number;
    const pstart = procStartTime(pid);
    if (pstart === undefined) throw new Error("got no worker upid - worker vanished");
    const d: Upid = { node, pid, pstart, starttime: Math.floor(Date.now() / 1000), type, id, user };
    const upid = encodeUpid(d);
    fs.mkdirSync(this.layout.taskDir(node), { recursive: true });
    const logFile = this.logPath(d, upid);
    fs.writeFileSync(logFile, "");
    const abort = new AbortController();
    const log = (line: string) => fs.appendFileSync(logFile, `${line}\n`);
    const ctx: TaskContext = { upid, log, signal: abort.signal };
    const startedAt = Date.now();
    const done = (async () => {
      let err: unknown;
      // DELETE of the task kills the worker at once (check_worker with killit), whatever the work is doing.
      const aborted = new Promise<void>((resolve) => abort.signal.addEventListener("abort", () => resolve()));
      try {
        await Promise.race([work(ctx), aborted]);
        if (abort.signal.aborted) throw new Error("received interrupt");
        const left = this.minTaskMs - (Date.now() - startedAt);
        if (left > 0) await new Promise((r) => setTimeout(r, left));
      } catch (e) {
        err = abort.signal.aborted ? new Error("received interrupt") : e;
      }
      // RESTEnvironment.pm:650-668: the last line of the log is the task's result.
      if (err === undefined) log("TASK OK");
      else
        log(`TASK ERROR: ${(err instanceof Error ? err.message : JSON.stringify(err)).replace(/\n+$/, "")}`);
      worker.kill("SIGKILL");
      await exited;
      this.running.delete(upid);
    })();
    this.running.set(upid, { worker, abort, done });
    return upid;
  }

  private find(upidText: string): { d: Upid; file: string } {
    const d = decodeUpid(upidText);
    if (!d) throw paramError({ upid: "unable to parse worker upid" });
    const file = this.logPath(d, upidText);
    if (!fs.existsSync(file)) throw paramError({ upid: "no such task" });
    return { d, file };
  }

  status(upidText: string): Record<string, unknown> {
    const { d, file } = this.find(upidText);
    const pstart = procStartTime(d.pid);
    const running = pstart !== undefined && pstart === d.pstart;
    const res: Record<string, unknown> = { ...d, upid: upidText, status: running ? "running" : "stopped" };
    if (!running) res.exitstatus = readStatus(file);
    return res;
  }

  log(upidText: string, start = 0, limit = 50): { lines: Array<{ n: number; t: string }>; total: number } {
    const { file } = this.find(upidText);
    const all = fs.readFileSync(file, "utf8").split("\n");
    if (all[all.length - 1] === "") all.pop();
    const lines: Array<{ n: number; t: string }> = [];
    for (let i = start; i < all.length && lines.length < limit; i++) lines.push({ n: i + 1, t: all[i] });
    // dump_logfile reports `no content` for an empty log (pve-common Tools.pm).
    if (all.length === 0) lines.push({ n: 1, t: "no content" });
    return { lines, total: all.length };
  }

  /** DELETE: stop the worker if it runs; a finished task is left as it is. */
  async stop(upidText: string): Promise<void> {
    this.find(upidText);
    const r = this.running.get(upidText);
    if (!r) return;
    r.abort.abort();
    r.worker.kill("SIGTERM");
    await r.done;
  }

  /** Wait for a task's end (for the double's own sequencing, e.g. tests). */
  async wait(upid: string): Promise<void> {
    await this.running.get(upid)?.done;
  }

  async close(): Promise<void> {
    for (const r of this.running.values()) r.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }
}

/** read_status (UPID.pm:70-86). */
export function readStatus(file: string): string {
  const lines = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "");
  const line = lines[lines.length - 1] ?? "";
  if (line === "TASK OK") return "OK";
  let m = /^TASK ERROR: (.+)$/.exec(line);
  if (m) return m[1];
  m = /^TASK (WARNINGS: \d+)$/.exec(line);
  if (m) return m[1];
  return "unexpected status";
}
