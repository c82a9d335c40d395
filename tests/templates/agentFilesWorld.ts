/**
 * The world of the agent files template tests (mergeConfig, writeAgentFiles, writeAgentFilesHostile, hermesWrapper,
 * shellHygiene): scripts run as root against temp directories (files really end up owned by uid 10000), with a fake
 * `docker` that records its calls. Payloads come from the real TypeScript encoders.
 *
 * Not proven here: the real docker CLI's --format output (the fake answers the formats the scripts use), and the
 * hermes image's reaction to the files (that is the system tier's job).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const TEMPLATES = path.resolve(__dirname, "..", "..", "templates");
export const readTemplate = (name: string) => fs.readFileSync(path.join(TEMPLATES, name), "utf8");
export const MERGE_PY = readTemplate("merge-config.py");
export const WRITE_SH = readTemplate("write-agent-files.sh");
export const WRAPPER_SH = readTemplate("hermes-wrapper.sh");

/**
 * The interpreter the YAML checks and merge-config.py run under: the one the scripts meet on a Debian host
 * (/usr/bin/python3 with python3-yaml, as .ci/run installs; it starts in half the time of a pyenv build), else the
 * python3 on PATH resolved once to its real executable (a version manager's shim would start a second interpreter on
 * every call).
 */
export const PYTHON = (() => {
  const canYaml = (py: string) => spawnSync(py, ["-c", "import yaml"], { stdio: "ignore" }).status === 0;
  if (canYaml("/usr/bin/python3")) return "/usr/bin/python3";
  const r = spawnSync("python3", ["-c", "import sys, yaml; print(sys.executable)"], { encoding: "utf8" });
  if (r.status !== 0 || !r.stdout.trim())
    throw new Error("python3 with PyYAML is missing: apt-get install python3-yaml (.ci/run does)");
  return r.stdout.trim();
})();

export const OWNER = 10000;
export const AGENT = "test-agent";
export const CONTAINER = "hermes-test-agent";
export const TG_TOKEN = "123456:SECRET-telegram-token-'quoted'";
export const LLM_KEY = "sk-SECRET-llm-key-\\with-backslash-$HOME";
export const AUTH_SEED = '{"providers":{"nous":{"refresh_token":"SECRET-refresh-seed"}}}';
export const SECRETS = ["SECRET-telegram", "SECRET-llm", "SECRET-refresh"];

// A fake docker: records every call (arguments separated by \x1f, one call per line) and answers from FAKE_* vars.
export const FAKE_DOCKER = [
  "#!/bin/bash",
  '{ printf "%s\\x1f" "$@"; printf "\\n"; } >>"$FAKE_DOCKER_LOG"',
  "state=${FAKE_STATE:-running}",
  "case $1 in",
  "inspect)",
  '  if [[ $state == missing ]]; then echo "Error: No such object" >&2; exit 1; fi',
  "  if [[ $* == *State.Status* ]]; then",
  '    echo "$state ${FAKE_RESTARTING:-false} ${FAKE_RESTART_COUNT:-0}"',
  "  elif [[ $state == running ]]; then echo true; else echo false; fi ;;",
  'restart) echo "$2" ;;',
  'ps) if [[ -n ${FAKE_PS:-} ]]; then printf "%s\\n" "$FAKE_PS"; fi ;;',
  "exec)",
  "  shift",
  "  while [[ $1 == -* ]]; do shift; done",
  "  shift",
  "  if [[ $1 == hermes && $2 == gateway && $3 == status ]]; then",
  '    n=$(( $(cat "$FAKE_COUNTER" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$FAKE_COUNTER"',
  "    (( n > ${FAKE_STATUS_FAILS:-0} )) || exit 1",
  '  elif [[ $1 == curl ]]; then exit "${FAKE_CURL_RC:-0}"',
  "  fi ;;",
  'logs) printf "gateway log line %s\\n" 1 2 3 ;;',
  '*) echo "fake docker: unexpected $1" >&2; exit 99 ;;',
  "esac",
  "",
].join("\n");

/** Directories of one test file's world, set by useWorld()'s beforeAll. */
export const world = {
  root: "",
  fakeBin: "",
  noDockerBin: "",
  // bash sources ~/.bashrc when its stdin is a socket (node's pipes are socketpairs, as sshd's are): an empty HOME
  // keeps the developer's shell setup (PATH changes) out of the scripts under test.
  emptyHome: "",
};

/** Registers the world's setup and teardown in the calling test file. */
export function useWorld(): void {
  beforeAll(setUp);
  afterAll(() => {
    if (world.root) fs.rmSync(world.root, { recursive: true, force: true });
  });
}

function setUp(): void {
  if (process.getuid?.() !== 0)
    throw new Error("these tests install files owned by uid 10000: run them as root");
  world.root = fs.mkdtempSync(path.join(os.tmpdir(), "agent-files-"));
  world.emptyHome = path.join(world.root, "home");
  fs.mkdirSync(world.emptyHome);
  world.fakeBin = path.join(world.root, "fakebin");
  fs.mkdirSync(world.fakeBin);
  fs.writeFileSync(path.join(world.fakeBin, "docker"), FAKE_DOCKER, { mode: 0o755 });
  // Everything write-agent-files.sh needs, but no docker: the "first deploy on a bare host" case.
  world.noDockerBin = path.join(world.root, "nodocker");
  fs.mkdirSync(world.noDockerBin);
  for (const tool of [
    "setpriv",
    "base64",
    "cmp",
    "mktemp",
    "stat",
    "chown",
    "chmod",
    "mv",
    "rm",
    "tee",
    "mkdir",
    "python3",
  ]) {
    fs.symlinkSync(`/usr/bin/${tool}`, path.join(world.noDockerBin, tool));
  }
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Runs a template the way remoteScript.ts does: `bash -c '<text>' <name>` with parameters in the environment. */
export function runScript(text: string, name: string, env: Record<string, string>, input?: string): Run {
  const r = spawnSync("/bin/bash", ["-c", text, name], {
    env,
    input,
    encoding: "utf8",
    cwd: world.root,
    timeout: 60_000,
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    lines: r.stdout.split("\n").filter((l) => l !== ""),
  };
}

/** Parses a YAML file with PyYAML (what hermes uses) and returns plain data. */
export function pyYamlFile(file: string): unknown {
  const r = spawnSync(
    PYTHON,
    [
      "-c",
      "import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), sys.stdout)",
      file,
    ],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** Dumps data as YAML with PyYAML (to stage "hand-edited" files on disk). */
export function pyYamlDump(data: unknown): string {
  const r = spawnSync(
    PYTHON,
    ["-c", "import json,sys,yaml; sys.stdout.write(yaml.safe_dump(json.load(sys.stdin)))"],
    {
      input: JSON.stringify(data),
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

export const meta = (file: string) => {
  const st = fs.lstatSync(file);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
};
