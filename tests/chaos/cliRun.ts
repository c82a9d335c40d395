/**
 * One run of the real `pulumi` CLI as a child process of its own (not through the Automation API, which hides the
 * process), with the engine's event stream followed as it is written (`--event-log`): what the chaos trials need to
 * strike at a chosen step and to say which step the engine was in when they did.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";

/** The part of an engine event (Pulumi's apitype.EngineEvent, one JSON object per line) the trials read. */
export interface EngineEventLine {
  sequence?: number;
  timestamp?: number;
  /** `planning` is set on the preview's steps (nothing is applied then). */
  resourcePreEvent?: { metadata: StepMetadata; planning?: boolean };
  resOutputsEvent?: { metadata: StepMetadata; planning?: boolean };
  resOpFailedEvent?: { metadata: StepMetadata };
  summaryEvent?: { resourceChanges?: Record<string, number>; isPreview?: boolean };
  cancelEvent?: object;
}

interface StepMetadata {
  op: string;
  urn: string;
  type: string;
}

/** A resource step of the engine: `<name> <op>`, e.g. `engine-files update`. */
export const stepName = (m: StepMetadata): string => `${m.urn.split("::").pop()} ${m.op}`;

/** Steps that are bookkeeping, not work on the host: the stack itself, providers, and resources left as they are. */
const isWork = (m: StepMetadata): boolean =>
  m.op !== "same" &&
  m.op !== "read" &&
  m.type !== "pulumi:pulumi:Stack" &&
  !m.type.startsWith("pulumi:providers:");

export interface CliRun {
  /** Exit code, or null when killed. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Everything the CLI printed (stdout and stderr interleaved as they came). */
  output: string;
  events: EngineEventLine[];
  durationMs: number;
}

export interface RunControl {
  /** Called once per resource step that does work, when it starts (1-based count of such steps so far). */
  onStepStart?: (count: number, step: string, kill: () => void) => void;
  /** Called when a resource step that does work finishes (its outputs or its failure), with the same count. */
  onStepEnd?: (count: number, step: string, kill: () => void) => void;
}

/** Runs `pulumi <args>` with `--event-log`, following the events; `control` may SIGKILL the CLI at a step. */
export function runCli(
  pulumi: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; eventLog: string; timeoutMs?: number },
  control: RunControl = {},
): Promise<CliRun> {
  fs.rmSync(opts.eventLog, { force: true });
  const started = Date.now();
  const child = spawn(pulumi, [...args, "--event-log", opts.eventLog], {
    cwd: opts.cwd,
    // --event-log exists only with PULUMI_DEBUG_COMMANDS (up.go), which is how the Automation API gets its events.
    env: { ...opts.env, PULUMI_DEBUG_COMMANDS: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const events: EngineEventLine[] = [];
  let offset = 0;
  let partial = "";
  let workSteps = 0;
  /** `<urn> <op>` of each started work step -> its 1-based count, for onStepEnd. */
  const counts = new Map<string, number>();
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  const poll = () => {
    let fd: number;
    try {
      fd = fs.openSync(opts.eventLog, "r");
    } catch {
      return; // not created yet
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < offset) {
        // `pulumi up` opens the log once for its preview and again, truncating it, for the update (display.go).
        offset = 0;
        partial = "";
      }
      if (size <= offset) return;
      const buf = Buffer.alloc(size - offset);
      const read = fs.readSync(fd, buf, 0, buf.length, offset);
      offset += read;
      partial += buf.subarray(0, read).toString("latin1");
    } finally {
      fs.closeSync(fd);
    }
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      let e: EngineEventLine;
      try {
        e = JSON.parse(Buffer.from(line, "latin1").toString("utf8")) as EngineEventLine;
      } catch {
        continue; // a line cut by the truncation above
      }
      events.push(e);
      const m = applied(e);
      if (m && isWork(m)) {
        counts.set(`${m.urn} ${m.op}`, ++workSteps);
        control.onStepStart?.(workSteps, stepName(m), kill);
      }
      const done = finished(e);
      const count = done && counts.get(`${done.urn} ${done.op}`);
      if (done && count) control.onStepEnd?.(count, stepName(done), kill);
    }
  };
  const timer = setInterval(poll, 50);
  const deadline = setTimeout(kill, opts.timeoutMs ?? 20 * 60 * 1000);
  if (process.env.CHAOS_TRACE === "1")
    process.stderr.write(`chaos: pid ${child.pid} pulumi ${args.join(" ")}\n`);
  return new Promise((resolve) => {
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(deadline);
      poll();
      if (process.env.CHAOS_TRACE === "1") {
        process.stderr.write(
          `chaos: pid ${child.pid} ended: ${signal ?? `exit ${code}`}, ${events.length} events\n`,
        );
      }
      resolve({ code, signal, output, events, durationMs: Date.now() - started });
    };
    child.on("close", finish);
    // A plugin the killed CLI left behind may hold its stdout open: the exit is what counts, the rest of the output
    // is read for a few seconds more.
    child.on("exit", (code, signal) => setTimeout(() => finish(code, signal), 5000).unref());
    child.on("error", (e) => {
      output += `\nchaos: could not run pulumi: ${e.message}\n`;
      finish(null, null);
    });
  });
}

/** The step an event starts, unless it is the preview's (planned, not applied). */
const applied = (e: EngineEventLine): StepMetadata | undefined =>
  e.resourcePreEvent?.planning ? undefined : e.resourcePreEvent?.metadata;

/** The step an event finishes (outputs or failure), unless it is the preview's. */
const finished = (e: EngineEventLine): StepMetadata | undefined =>
  e.resOutputsEvent?.planning ? undefined : (e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata);

/** Resource steps that do work, in the order they started (the update's, not the preview's). */
export function workSteps(events: EngineEventLine[]): string[] {
  return events
    .map(applied)
    .filter((m): m is StepMetadata => m !== undefined && isWork(m))
    .map(stepName);
}

/**
 * The step(s) the engine was in when the run ended: started (resourcePreEvent) and never finished (no resOutputs or
 * resOpFailed for the same URN and op). "before any step" / "after the last step (<name>)" when none was in flight.
 */
export function killPoint(events: EngineEventLine[]): string {
  const open = new Map<string, string>();
  let last = "";
  for (const e of events) {
    const pre = applied(e);
    if (pre && isWork(pre)) open.set(`${pre.urn} ${pre.op}`, stepName(pre));
    const done = e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
    if (done && isWork(done)) {
      open.delete(`${done.urn} ${done.op}`);
      last = stepName(done);
    }
  }
  if (open.size > 0) return [...open.values()].join(" + ");
  if (events.some((e) => e.summaryEvent && !e.summaryEvent.isPreview))
    return "after the summary (the update had finished)";
  if (!events.some((e) => e.resourcePreEvent && !e.resourcePreEvent.planning))
    return "in the preview (nothing applied)";
  return last ? `between steps, after ${last}` : "before any resource step";
}

/** `<name> <op>` of every step that did work and finished (for the changes of a no-op check). */
export function changedSteps(events: EngineEventLine[]): string[] {
  return events
    .map((e) => (e.resOutputsEvent?.planning ? undefined : e.resOutputsEvent?.metadata))
    .filter((m): m is StepMetadata => m !== undefined && isWork(m))
    .map(stepName);
}
