/**
 * The system tier's TypeScript side: SSH targets for the emulated Proxmox node and for the CT, over real SSH with
 * pinned host keys, running templates/ scripts exactly the way the program does (`renderRemoteCommand`).
 *
 *   const { node, lxc } = systemEnv();
 *   const res = await node.run("prepare-host-dirs.sh", { OWNER_UID: 110000, ... });
 *   const res = await lxc.run("write-agent-files.sh", env, payload);   // payload goes to stdin
 *
 * The environment itself (CT, bridge, node sshd, keys) is brought up by env-up.sh from jest's globalSetup and
 * described in $SYSTEST_RUNTIME/env.json.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readTemplate, renderRemoteCommand } from "../../components/lib/remoteScript";

export const SYSTEST_DIR = __dirname;
export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const RUNTIME = process.env.SYSTEST_RUNTIME ?? "/tmp/hermes-systest";

export interface RunResult {
  /** Exit status of the remote command (ssh's own failures are 255); null if killed by a signal locally. */
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** The command string that was sent (script text included). */
  command: string;
}

export interface RunOptions {
  /** Kill the ssh client after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Resolve instead of rejecting when the remote command exits non-zero. */
  allowFailure?: boolean;
  /** Called with each chunk of stderr as it arrives (progress for long runs). */
  onStderr?: (chunk: string) => void;
}

export type ScriptEnv = Record<string, string | number | boolean>;

interface Endpoint {
  host: string;
  port: number;
  user: string;
  knownHosts: string;
}

interface EnvFile {
  runtime: string;
  sshDir: string;
  vmid: number;
  idBase: number;
  ownerId: number;
  sshKey: string;
  node: Endpoint;
  ct: Endpoint & { hostKey: string };
  hostDirs: { state: string; data: string; fast: string };
  ctRootfs: string;
  pveConfDir: string;
  /** The emulated node's name (the PVE double's node; its confDir is pveConfDir). */
  pveNode: string;
  lxcpath: string;
  bridge: string;
  /** The bridge's /24, e.g. `10.231.118` (.1 is the host, .10 the CT of env-up.sh). */
  netPrefix: string;
  /** The cached Debian 12 rootfs (tests/system/rootfs.sh). */
  rootfsTarball: string;
}

export class RemoteCommandError extends Error {
  constructor(
    readonly target: string,
    readonly result: RunResult,
  ) {
    super(
      `${target}: remote command exited ${result.code} after ${result.durationMs} ms\n` +
        `--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
    );
  }
}

/** One SSH destination with a pinned host key. Every invocation verifies the key (StrictHostKeyChecking=yes). */
export class SshTarget {
  constructor(
    readonly name: string,
    private readonly endpoint: Endpoint,
    private readonly key: string,
  ) {}

  /**
   * The ssh options every connection uses. The pinned known_hosts file is the only one consulted (the global one
   * is disabled), the user's ~/.ssh/config is ignored, and nothing is ever added to a known_hosts file.
   */
  sshArgs(knownHosts: string = this.endpoint.knownHosts): string[] {
    return [
      "-F",
      "/dev/null",
      "-i",
      this.key,
      "-p",
      String(this.endpoint.port),
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "ConnectTimeout=10",
      "-o",
      "ServerAliveInterval=15",
      "-o",
      "LogLevel=ERROR",
      `${this.endpoint.user}@${this.endpoint.host}`,
    ];
  }

  /** Runs templates/<scriptFile> as `K='v' bash -c '<text>' <name>`, exactly like the program's remote commands. */
  run(
    scriptFile: string,
    env: ScriptEnv = {},
    stdin?: string | Buffer,
    opts: RunOptions = {},
  ): Promise<RunResult> {
    const command = renderRemoteCommand(scriptFile.replace(/\.(sh|py)$/, ""), readTemplate(scriptFile), env);
    return this.exec(command, stdin, opts);
  }

  /** Runs a raw shell command string on the target. Rejects on a non-zero exit unless opts.allowFailure. */
  exec(
    command: string,
    stdin?: string | Buffer,
    opts: RunOptions = {},
    knownHosts?: string,
  ): Promise<RunResult> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn("ssh", [...this.sshArgs(knownHosts), command], { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => {
        stderr += c;
        opts.onStderr?.(c);
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 10 * 60 * 1000);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        const result: RunResult = { code, stdout, stderr, durationMs: Date.now() - started, command };
        if (code !== 0 && !opts.allowFailure) reject(new RemoteCommandError(this.name, result));
        else resolve(result);
      });
      child.stdin.on("error", () => undefined); // the remote side may exit without reading stdin
      child.stdin.end(stdin ?? "");
    });
  }

  /** exec() and return trimmed stdout. */
  async sh(command: string, stdin?: string | Buffer, opts: RunOptions = {}): Promise<string> {
    return (await this.exec(command, stdin, opts)).stdout.trim();
  }
}

export interface SystemEnv {
  file: EnvFile;
  node: SshTarget;
  lxc: SshTarget;
  vmid: number;
  /** Host uid/gid the CT's uid/gid 10000 (hermes) maps to. */
  ownerId: number;
}

let cached: SystemEnv | undefined;

/** The environment globalSetup brought up. Throws (loudly) when it is not there: the tier is never skipped. */
export function systemEnv(): SystemEnv {
  if (cached) return cached;
  const envPath = path.join(RUNTIME, "env.json");
  if (!fs.existsSync(envPath)) {
    throw new Error(
      `system tier environment missing (${envPath}); run through 'npx jest -c tests/system/jest.config.js', ` +
        "whose globalSetup runs tests/system/env-up.sh",
    );
  }
  const file = JSON.parse(fs.readFileSync(envPath, "utf8")) as EnvFile;
  cached = {
    file,
    node: new SshTarget("node", file.node, file.sshKey),
    lxc: new SshTarget("lxc", file.ct, file.sshKey),
    vmid: file.vmid,
    ownerId: file.ownerId,
  };
  return cached;
}

/** Runs a command on this machine (the host that plays the PVE node, outside SSH: for host-side assertions). */
export function host(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return r.stdout;
}

/** stat on the host: "<uid>:<gid> <octal mode>". */
export function hostStat(p: string): string {
  return host("stat", ["-c", "%u:%g %a", p]).trim();
}

/** A tar of a tests/system subdirectory, to ship build inputs into the CT over SSH stdin. */
export function tarOf(dir: string): Buffer {
  const r = spawnSync("tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", dir, "-c", "."], {
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`tar of ${dir} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Last non-empty line of a script's stdout. */
export function lastLine(out: string): string {
  const lines = out.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1] ?? "";
}

export const DOCKER_ENV_DEBIAN: ScriptEnv = {
  DOCKER_SOURCE: "debian",
  DOCKER_LOG_MAX_SIZE: "10m",
  DOCKER_LOG_MAX_FILE: "3",
  EXTRA_PACKAGES: "python3-yaml",
  APT_LOCK_TIMEOUT: "600",
};

/** Docker installed and probed in the CT (fast path once done). Test files call this so each runs on its own. */
export async function ensureDocker(env: ScriptEnv = DOCKER_ENV_DEBIAN): Promise<RunResult> {
  const res = await systemEnv().lxc.run("install-docker.sh", env);
  if (!/^docker-ready driver=\S+ version=\S+$/.test(lastLine(res.stdout))) {
    throw new Error(`install-docker.sh did not end with docker-ready:\n${res.stdout}\n${res.stderr}`);
  }
  return res;
}

/** Builds the hermes-agent stand-in image inside the CT (tests/system/standin); cheap when already built. */
export async function ensureStandinImage(): Promise<void> {
  const { lxc } = systemEnv();
  await lxc.exec(
    "rm -rf /root/standin && mkdir -p /root/standin && tar -x -C /root/standin && bash /root/standin/build.sh",
    tarOf(path.join(SYSTEST_DIR, "standin")),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
