/**
 * The world of the PVE-node script tests (prepareHostDirs, applyRawLxcConfig, waitForContainer): each script run
 * for real against a fresh temp directory, the way components/lib/remoteScript.ts runs it on the node:
 * `bash -c '<script text>' <script-name>` with parameters in the environment. `pct` is replaced by a fake on PATH
 * that records its arguments (this tier only; the system tier has its own shim).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const TEMPLATES = path.join(__dirname, "..", "..", "templates");
export const SCRIPTS = ["prepare-host-dirs.sh", "apply-raw-lxc-config.sh", "wait-for-container.sh"] as const;
export type ScriptName = (typeof SCRIPTS)[number];

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a template as the remote command does. Async on purpose: the wait-for-container tests serve a TCP banner
 * from this process, which a blocking spawnSync would starve.
 */
export function runScript(
  name: ScriptName,
  env: Record<string, string>,
  opts: { umask?: string; pathPrefix?: string } = {},
): Promise<RunResult> {
  const text = fs.readFileSync(path.join(TEMPLATES, name), "utf8");
  const basePath = process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin";
  const fullEnv: Record<string, string> = {
    PATH: opts.pathPrefix ? `${opts.pathPrefix}:${basePath}` : basePath,
    LANG: "C",
    ...env,
  };
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    // The outer bash only sets the caller's umask, so tests can show the script does not depend on it.
    const child = spawn(
      "bash",
      ["-c", 'umask "$1"; exec bash -c "$2" "$3"', "_", opts.umask ?? "022", text, name],
      // stdin is not a socket: bash would take a socket for an sshd session and source ~/.bashrc.
      { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - start) / 1e6 }),
    );
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This case's temp directory (set before each case by useHostScriptsWorld), and the mounts to undo after it. */
export const hostWorld = { root: "" };
export const mounts: string[] = [];

/** Registers a fresh temp directory per case in the calling test file, removed (mounts first) after it. */
export function useHostScriptsWorld(): void {
  beforeEach(() => {
    hostWorld.root = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-host-scripts-"));
  });
  afterEach(() => {
    while (mounts.length > 0) {
      spawnSync("umount", [mounts.pop()!]);
    }
    fs.rmSync(hostWorld.root, { recursive: true, force: true });
  });
}

export function mkdirOwned(p: string, uid: number, gid: number, mode: number): void {
  fs.mkdirSync(p, { recursive: true });
  fs.chownSync(p, uid, gid);
  fs.chmodSync(p, mode);
}

export function statOf(p: string) {
  const s = fs.lstatSync(p, { bigint: true });
  return { uid: Number(s.uid), gid: Number(s.gid), mode: Number(s.mode) & 0o7777, ctimeNs: s.ctimeNs };
}

/**
 * Fake `pct` (template tier only). Records each call to $FAKE_PCT_DIR/calls.log and answers:
 * - `status <vmid>`: "status: stopped" for the first $FAKE_STOPPED_CALLS calls, then "status: running";
 *   exits 1 without output while $FAKE_PCT_DIR/fail-status exists;
 * - `exec <vmid> -- ip ...`: $FAKE_IP_LINE (exit 1 when unset); `exec <vmid> -- cat ...`: $FAKE_HOST_KEY;
 * - `reboot <vmid>`: nothing. Anything else is an error, so the scripts cannot drift from the pct contract.
 */
const FAKE_PCT = `#!/usr/bin/env bash
set -euo pipefail
d=\${FAKE_PCT_DIR:?}
printf '%s\\n' "$*" >>"$d/calls.log"
case "\${1-}" in
status)
  [[ ! -e $d/fail-status ]] || exit 1
  n=$(( $(cat "$d/status-count" 2>/dev/null || echo 0) + 1 ))
  echo "$n" >"$d/status-count"
  if (( n > \${FAKE_STOPPED_CALLS:-0} )); then echo "status: running"; else echo "status: stopped"; fi
  ;;
reboot) ;;
exec)
  [[ \${3-} == -- ]] || { echo "fake pct: exec needs --" >&2; exit 2; }
  case "\${4-}" in
  ip) [[ -n \${FAKE_IP_LINE-} ]] || exit 1; printf '%s\\n' "$FAKE_IP_LINE" ;;
  cat) [[ -n \${FAKE_HOST_KEY-} ]] || { echo "cat: $5: No such file or directory" >&2; exit 1; }
       printf '%s\\n' "$FAKE_HOST_KEY" ;;
  *) echo "fake pct: unexpected exec $*" >&2; exit 2 ;;
  esac
  ;;
*) echo "fake pct: unsupported call $*" >&2; exit 2 ;;
esac
`;

export function makeFakePct(): { bin: string; dir: string; calls: () => string[] } {
  const dir = path.join(hostWorld.root, "fake-pct");
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, "pct"), FAKE_PCT, { mode: 0o755 });
  const log = path.join(dir, "calls.log");
  return {
    bin,
    dir,
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : []),
  };
}

/** Only the three pct calls of docs/CONTRACTS.md may appear. */
export function expectContractCalls(calls: string[]): void {
  for (const c of calls) expect(c).toMatch(/^(status \d+|reboot \d+|exec \d+ -- \S.*)$/);
}
