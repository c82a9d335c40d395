/**
 * The agent files layer, executed for real: merge-config.py with python3 + PyYAML, write-agent-files.sh as root
 * against temp directories (files really end up owned by uid 10000), hermes-wrapper.sh and wait-for-gateway.sh
 * against a fake `docker` that records its calls. Payloads come from the real TypeScript encoders.
 *
 * Not proven here: the real docker CLI's --format output (the fake answers the two formats the scripts use), and the
 * hermes image's reaction to the files (that is the system tier's job).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AgentFile, encodeAgentFilesPayload } from "../../components/lib/agentFiles";
import { renderEnvFile } from "../../components/lib/envFile";
import { HermesSettingsInput, renderHermesSettings, toYaml } from "../../components/lib/hermesConfig";

const TEMPLATES = path.resolve(__dirname, "..", "..", "templates");
const readTemplate = (name: string) => fs.readFileSync(path.join(TEMPLATES, name), "utf8");
const MERGE_PY = readTemplate("merge-config.py");
const WRITE_SH = readTemplate("write-agent-files.sh");
const WRAPPER_SH = readTemplate("hermes-wrapper.sh");

const OWNER = 10000;
const AGENT = "test-agent";
const CONTAINER = "hermes-test-agent";
const TG_TOKEN = "123456:SECRET-telegram-token-'quoted'";
const LLM_KEY = "sk-SECRET-llm-key-\\with-backslash-$HOME";
const AUTH_SEED = '{"providers":{"nous":{"refresh_token":"SECRET-refresh-seed"}}}';
const SECRETS = ["SECRET-telegram", "SECRET-llm", "SECRET-refresh"];

// A fake docker: records every call (arguments separated by \x1f, one call per line) and answers from FAKE_* vars.
const FAKE_DOCKER = [
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

let root: string;
let fakeBin: string;
let noDockerBin: string;
// bash sources ~/.bashrc when its stdin is a socket (node's pipes are socketpairs, as sshd's are): an empty HOME
// keeps the developer's shell setup (PATH changes) out of the scripts under test.
let emptyHome: string;

beforeAll(() => {
  if (process.getuid?.() !== 0)
    throw new Error("these tests install files owned by uid 10000: run them as root");
  root = fs.mkdtempSync(path.join(os.tmpdir(), "agent-files-"));
  emptyHome = path.join(root, "home");
  fs.mkdirSync(emptyHome);
  fakeBin = path.join(root, "fakebin");
  fs.mkdirSync(fakeBin);
  fs.writeFileSync(path.join(fakeBin, "docker"), FAKE_DOCKER, { mode: 0o755 });
  // Everything write-agent-files.sh needs, but no docker: the "first deploy on a bare host" case.
  noDockerBin = path.join(root, "nodocker");
  fs.mkdirSync(noDockerBin);
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
    fs.symlinkSync(`/usr/bin/${tool}`, path.join(noDockerBin, tool));
  }
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Runs a template the way remoteScript.ts does: `bash -c '<text>' <name>` with parameters in the environment. */
function runScript(text: string, name: string, env: Record<string, string>, input?: string): Run {
  const r = spawnSync("/bin/bash", ["-c", text, name], {
    env,
    input,
    encoding: "utf8",
    cwd: root,
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
function pyYamlFile(file: string): unknown {
  const r = spawnSync(
    "python3",
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
function pyYamlDump(data: unknown): string {
  const r = spawnSync(
    "python3",
    ["-c", "import json,sys,yaml; sys.stdout.write(yaml.safe_dump(json.load(sys.stdin)))"],
    {
      input: JSON.stringify(data),
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

const meta = (file: string) => {
  const st = fs.lstatSync(file);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
};

// ---------------------------------------------------------------------------------------------------------------
describe("merge-config.py", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(root, "merge-"));
  });

  /** Runs the merge on a declared object and an existing file (null: absent) and returns the parsed result. */
  function merge(declared: unknown, existing: string | Buffer | null, viaDashC = false) {
    const d = path.join(dir, "declared.yaml");
    const e = path.join(dir, "config.yaml");
    const o = path.join(dir, "out.yaml");
    fs.writeFileSync(d, typeof declared === "string" ? declared : toYaml(declared));
    if (existing !== null) fs.writeFileSync(e, existing);
    const args = viaDashC ? ["-c", MERGE_PY, d, e, o] : [path.join(TEMPLATES, "merge-config.py"), d, e, o];
    const r = spawnSync("python3", args, { encoding: "utf8" });
    const text = fs.existsSync(o) ? fs.readFileSync(o, "utf8") : "";
    return { status: r.status, stderr: r.stderr, text, data: text ? pyYamlFile(o) : undefined, dir };
  }

  const declared = {
    model: {
      provider: "custom",
      default: "qwen3",
      base_url: "http://litellm:4000/v1",
      api_key: "${LLM_API_KEY}",
    },
    terminal: { backend: "local" },
    platform_toolsets: { telegram: ["hermes-telegram"] },
    mcp_servers: { fs: { command: "npx", args: ["-y", "server-fs"], enabled: true } },
  };

  it("fresh install: no file on disk gives exactly the declared config", () => {
    const r = merge(declared, null);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.data).toEqual(declared);
  });

  it("declared keys override the same keys on disk", () => {
    const r = merge(
      declared,
      pyYamlDump({
        model: { default: "old-model", provider: "openrouter" },
        terminal: { backend: "docker" },
      }),
    );
    expect(r.data).toEqual(declared);
  });

  it("keys added on disk (by the agent or by hand) are kept", () => {
    const r = merge(
      declared,
      pyYamlDump({ skills: { disabled: ["x"] }, streaming: { enabled: true }, _config_version: 50 }),
    );
    expect(r.data).toEqual({
      ...declared,
      skills: { disabled: ["x"] },
      streaming: { enabled: true },
      _config_version: 50,
    });
  });

  it("mixed: overrides, additions and untouched keys together", () => {
    const r = merge(
      declared,
      pyYamlDump({
        model: { default: "old", api_mode: "chat_completions" },
        memory: { provider: "builtin" },
        terminal: { backend: "ssh", timeout: 60 },
      }),
    );
    expect(r.data).toEqual({
      ...declared,
      model: { ...declared.model, api_mode: "chat_completions" },
      memory: { provider: "builtin" },
      terminal: { backend: "local", timeout: 60 },
    });
  });

  it("nested maps merge deeply at every level", () => {
    const r = merge(
      { gateway: { api_server: { port: 8642, cors: { origins: ["a"] } } } },
      pyYamlDump({ gateway: { api_server: { host: "0.0.0.0", cors: { max_age: 10 } }, other: 1 } }),
    );
    expect(r.data).toEqual({
      gateway: {
        api_server: { port: 8642, host: "0.0.0.0", cors: { origins: ["a"], max_age: 10 } },
        other: 1,
      },
    });
  });

  it("MCP servers merge by name: on-disk-only servers stay, a declared server replaces its namesake whole", () => {
    const r = merge(
      { mcp_servers: { fs: { url: "http://fs:8080/mcp", enabled: true } } },
      pyYamlDump({
        mcp_servers: {
          fs: { command: "npx", args: ["old"], env: { A: "1" }, enabled: false, timeout: 5 },
          agent_added: { command: "uvx", args: ["tool"], enabled: true },
        },
      }),
    );
    expect(r.data).toEqual({
      mcp_servers: {
        fs: { url: "http://fs:8080/mcp", enabled: true },
        agent_added: { command: "uvx", args: ["tool"], enabled: true },
      },
    });
  });

  it("lists are replaced, not concatenated", () => {
    const r = merge(
      { platform_toolsets: { telegram: ["hermes-telegram"] }, toolsets: [] },
      pyYamlDump({
        platform_toolsets: { telegram: ["web", "terminal", "hermes-telegram"] },
        toolsets: ["all"],
      }),
    );
    expect(r.data).toEqual({ platform_toolsets: { telegram: ["hermes-telegram"] }, toolsets: [] });
  });

  it("is idempotent: merging into its own output gives byte-identical output", () => {
    const first = merge(declared, pyYamlDump({ skills: { disabled: ["x"] }, zz: "ünïcødé ✓" }));
    const second = merge(declared, first.text);
    expect(second.text).toBe(first.text);
    expect(first.text).toContain("ünïcødé ✓"); // allow_unicode: no \u escapes
  });

  it("writes sorted keys without line wrapping", () => {
    const long = "x ".repeat(200).trim();
    const r = merge({ b: 1, a: { d: long, c: 2 } }, null);
    expect(r.text).toBe(`a:\n  c: 2\n  d: ${long}\nb: 1\n`);
  });

  it('runs as python3 -c "$MERGE_CONFIG_PY" (no __file__) with the same result', () => {
    const existing = pyYamlDump({ skills: { disabled: ["x"] } });
    const asFile = merge(declared, existing);
    const asDashC = merge(declared, existing, true);
    expect(asDashC.status).toBe(0);
    expect(asDashC.text).toBe(asFile.text);
  });

  it.each([
    ["a YAML list", "- a\n- b\n"],
    ["a scalar", "just text\n"],
    ["broken YAML", "model: [unclosed\n  api_key: SECRET-in-broken-file\n"],
    ["not UTF-8", Buffer.from([0xff, 0xfe, 0x41, 0x0a])],
  ])(
    "an existing file that is %s is backed up, reported on stderr and treated as absent",
    (_label, content) => {
      const r = merge(declared, content);
      expect(r.status).toBe(0);
      expect(r.data).toEqual(declared);
      const backups = fs.readdirSync(dir).filter((n) => /^config\.yaml\.invalid-\d{8}T\d{6}Z$/.test(n));
      expect(backups).toHaveLength(1);
      expect(fs.readFileSync(path.join(dir, backups[0]))).toEqual(Buffer.from(content));
      expect(meta(path.join(dir, backups[0])).mode).toBe(0o600);
      expect(r.stderr).toMatch(/warning: .*config\.yaml .*saved it as .*config\.yaml\.invalid-/);
      expect(r.stderr).not.toContain("SECRET");
    },
  );

  it("an empty existing file is an empty config (no backup)", () => {
    const r = merge(declared, "");
    expect(r.data).toEqual(declared);
    expect(fs.readdirSync(dir).filter((n) => n.includes("invalid"))).toEqual([]);
  });

  it("does not follow a symlinked config.yaml (a planted link cannot pull another file into the config)", () => {
    const outside = path.join(dir, "outside.yaml");
    fs.writeFileSync(outside, "stolen: SECRET-outside\n");
    fs.symlinkSync(outside, path.join(dir, "config.yaml"));
    const r = merge(declared, null);
    expect(r.data).toEqual(declared);
    expect(r.stderr).toContain("symbolic link");
    expect(fs.readdirSync(dir).filter((n) => n.includes("invalid"))).toEqual([]);
  });

  it("fails cleanly (no traceback, no content) when the on-disk config is unreadable for its uid", () => {
    fs.writeFileSync(path.join(dir, "declared.yaml"), toYaml(declared));
    fs.writeFileSync(path.join(dir, "config.yaml"), "secret: SECRET-unreadable\n", { mode: 0o600 });
    fs.chownSync(dir, OWNER, OWNER);
    // Relative paths from cwd: uid 10000 cannot traverse the root-only temp directories above `dir`.
    const r = spawnSync(
      "setpriv",
      [
        "--reuid=10000",
        "--regid=10000",
        "--clear-groups",
        "--",
        "/usr/bin/python3",
        "-I",
        "-c",
        MERGE_PY,
        "declared.yaml",
        "config.yaml",
        "out.yaml",
      ],
      { cwd: dir, encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("merge-config: config.yaml: Permission denied\n");
  });

  it("refuses a declared config that is not a mapping", () => {
    const r = merge("- not\n- a mapping\n", null);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("the declared config is not a YAML mapping");
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe("write-agent-files.sh", () => {
  let caseDir: string;
  let agentDir: string;
  let wrapperPath: string;
  let dockerLog: string;

  beforeEach(() => {
    caseDir = fs.mkdtempSync(path.join(root, "write-"));
    agentDir = path.join(caseDir, "srv", "hermes", AGENT);
    wrapperPath = path.join(caseDir, "usr-local-bin", "hermes");
    dockerLog = path.join(caseDir, "docker.log");
  });

  const settingsInput = (settings: Record<string, unknown> = {}): HermesSettingsInput => ({
    llm: {
      provider: "custom",
      baseUrl: "http://10.1.10.22:4000/v1",
      model: "qwen3",
      apiKeyEnv: "LLM_API_KEY",
    },
    mcpServers: { fs: { command: "npx", args: ["-y", "server-fs", "/opt/data/workspace"], enabled: true } },
    platformToolsets: { telegram: ["hermes-telegram"] },
    settings,
  });

  interface FileOptions {
    env?: Array<{ name: string; value: string }>;
    settings?: Record<string, unknown>;
    auth?: string;
    authPolicy?: AgentFile["policy"];
    user?: string;
  }

  function agentFileList(o: FileOptions = {}): AgentFile[] {
    const env = o.env ?? [
      { name: "LLM_API_KEY", value: LLM_KEY },
      { name: "TELEGRAM_BOT_TOKEN", value: TG_TOKEN },
    ];
    return [
      {
        path: "config.yaml",
        mode: 0o640,
        policy: "merge-yaml",
        content: toYaml(renderHermesSettings(settingsInput(o.settings))),
      },
      { path: ".env", mode: 0o600, policy: "replace", content: renderEnvFile(env) },
      { path: "auth.json", mode: 0o600, policy: o.authPolicy ?? "seed", content: o.auth ?? AUTH_SEED },
      { path: "SOUL.md", mode: 0o640, policy: "replace", content: "You are a careful agent.\n" },
      {
        path: "workspace/USER.md",
        mode: 0o640,
        policy: "replace",
        content: o.user ?? "# User\nPrefers short answers.\n",
      },
    ];
  }

  const payload = (o: FileOptions = {}) => encodeAgentFilesPayload(agentFileList(o));

  function writeEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: `${fakeBin}:/usr/bin:/bin`,
      HOME: emptyHome,
      LANG: "C.UTF-8",
      AGENT_NAME: AGENT,
      AGENT_DIR: agentDir,
      OWNER_UID: String(OWNER),
      OWNER_GID: String(OWNER),
      CONTAINER_NAME: CONTAINER,
      MANAGED: "true",
      MERGE_CONFIG_PY: MERGE_PY,
      HERMES_WRAPPER_SH: WRAPPER_SH,
      WRAPPER_PATH: wrapperPath,
      FAKE_DOCKER_LOG: dockerLog,
      FAKE_STATE: "running",
      ...extra,
    };
  }

  function write(input: string, extra: Record<string, string> = {}): Run {
    const r = runScript(WRITE_SH, "write-agent-files", writeEnv(extra), input);
    for (const secret of SECRETS) {
      expect(r.stdout).not.toContain(secret);
      expect(r.stderr).not.toContain(secret);
    }
    return r;
  }

  /** The docker calls the scripts made, each as its argument list. */
  function dockerCalls(): string[][] {
    if (!fs.existsSync(dockerLog)) return [];
    return fs
      .readFileSync(dockerLog, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("\x1f").slice(0, -1));
  }
  const restarts = () => dockerCalls().filter((c) => c[0] === "restart");
  const clearDockerLog = () => fs.rmSync(dockerLog, { force: true });
  const inAgent = (rel: string) => path.join(agentDir, rel);
  const tempLeftovers = () =>
    [agentDir, inAgent("workspace")]
      .flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d) : []))
      .filter((n) => n.startsWith(".hermes-lxc-tmp."));

  const FIRST_RUN = [
    "changed .env",
    "changed SOUL.md",
    "seeded auth.json",
    "changed config.yaml",
    "changed workspace/USER.md",
    "changed .managed",
    `restarted ${CONTAINER}`,
  ];
  const SECOND_RUN = [
    "unchanged .env",
    "unchanged SOUL.md",
    "kept auth.json",
    "unchanged config.yaml",
    "unchanged workspace/USER.md",
    "unchanged .managed",
  ];

  it("first run: installs every file owned 10000:10000 with the payload modes, 0750 dirs, and restarts once", () => {
    const r = write(payload());
    expect(r.stderr).not.toMatch(/error|denied/i);
    expect(r.status).toBe(0);
    expect(r.lines).toEqual(FIRST_RUN);

    expect(fs.readFileSync(inAgent(".env"), "utf8")).toBe(
      renderEnvFile([
        { name: "LLM_API_KEY", value: LLM_KEY },
        { name: "TELEGRAM_BOT_TOKEN", value: TG_TOKEN },
      ]),
    );
    expect(fs.readFileSync(inAgent("auth.json"), "utf8")).toBe(AUTH_SEED);
    expect(fs.readFileSync(inAgent("workspace/USER.md"), "utf8")).toBe("# User\nPrefers short answers.\n");
    expect(pyYamlFile(inAgent("config.yaml"))).toEqual(renderHermesSettings(settingsInput()));

    const own = { uid: OWNER, gid: OWNER };
    expect(meta(agentDir)).toEqual({ ...own, mode: 0o750 });
    expect(meta(inAgent("workspace"))).toEqual({ ...own, mode: 0o750 });
    expect(meta(inAgent(".env"))).toEqual({ ...own, mode: 0o600 });
    expect(meta(inAgent("auth.json"))).toEqual({ ...own, mode: 0o600 });
    expect(meta(inAgent("config.yaml"))).toEqual({ ...own, mode: 0o640 });
    expect(meta(inAgent("SOUL.md"))).toEqual({ ...own, mode: 0o640 });
    expect(meta(inAgent("workspace/USER.md"))).toEqual({ ...own, mode: 0o640 });
    expect(meta(inAgent(".managed"))).toEqual({ ...own, mode: 0o640 });
    // Secrets: nothing for the group or the world.
    for (const secretFile of [".env", "auth.json"]) expect(meta(inAgent(secretFile)).mode & 0o077).toBe(0);
    // Nothing else appeared in the agent directory (no temp files, no backups).
    expect(fs.readdirSync(agentDir).sort()).toEqual([
      ".env",
      ".managed",
      "SOUL.md",
      "auth.json",
      "config.yaml",
      "workspace",
    ]);
    expect(tempLeftovers()).toEqual([]);

    expect(restarts()).toEqual([["restart", CONTAINER]]);
    expect(fs.readFileSync(wrapperPath, "utf8")).toBe(WRAPPER_SH);
    expect(meta(wrapperPath)).toEqual({ uid: 0, gid: 0, mode: 0o755 });
  });

  it("always creates workspace/ for the agent, even with no document in it (Docker would create it root-owned)", () => {
    const files = agentFileList().filter((f) => !f.path.startsWith("workspace/"));
    expect(write(encodeAgentFilesPayload(files)).status).toBe(0);
    expect(meta(inAgent("workspace"))).toEqual({ uid: OWNER, gid: OWNER, mode: 0o750 });
  });

  it("second run with the same payload changes nothing (same inodes) and does not restart", () => {
    expect(write(payload()).status).toBe(0);
    const inodes = [".env", "config.yaml", "auth.json", "workspace/USER.md", ".managed"].map(
      (f) => fs.statSync(inAgent(f)).ino,
    );
    const wrapperIno = fs.statSync(wrapperPath).ino;
    clearDockerLog();
    const r = write(payload());
    expect(r.status).toBe(0);
    expect(r.lines).toEqual(SECOND_RUN);
    expect(dockerCalls()).toEqual([]);
    expect(
      [".env", "config.yaml", "auth.json", "workspace/USER.md", ".managed"].map(
        (f) => fs.statSync(inAgent(f)).ino,
      ),
    ).toEqual(inodes);
    expect(fs.statSync(wrapperPath).ino).toBe(wrapperIno);
    expect(tempLeftovers()).toEqual([]);
  });

  it("merges config.yaml with the file on disk: declared keys win, agent keys and servers stay, lists are replaced", () => {
    expect(write(payload()).status).toBe(0);
    const onDisk = pyYamlFile(inAgent("config.yaml")) as Record<string, any>;
    onDisk.model.default = "changed-by-agent";
    onDisk.skills = { disabled: ["noisy-skill"] };
    onDisk.platform_toolsets.telegram = ["web", "hermes-telegram", "terminal"];
    onDisk.mcp_servers.fs.url = "http://stale";
    onDisk.mcp_servers.agent_added = { command: "uvx", args: ["tool"], enabled: true };
    fs.writeFileSync(inAgent("config.yaml"), pyYamlDump(onDisk)); // an in-place edit keeps owner and mode
    clearDockerLog();

    const r = write(payload());
    expect(r.status).toBe(0);
    expect(r.lines).toContain("changed config.yaml");
    expect(restarts()).toHaveLength(1);
    const declared = renderHermesSettings(settingsInput()) as Record<string, any>;
    expect(pyYamlFile(inAgent("config.yaml"))).toEqual({
      ...declared,
      skills: { disabled: ["noisy-skill"] },
      mcp_servers: {
        ...declared.mcp_servers,
        agent_added: { command: "uvx", args: ["tool"], enabled: true },
      },
    });
    expect(meta(inAgent("config.yaml"))).toEqual({ uid: OWNER, gid: OWNER, mode: 0o640 });

    clearDockerLog();
    const again = write(payload());
    expect(again.lines).toContain("unchanged config.yaml");
    expect(restarts()).toEqual([]);
  });

  it("an invalid config.yaml on disk is backed up (owner-only) and replaced by the declared config", () => {
    expect(write(payload()).status).toBe(0);
    fs.writeFileSync(inAgent("config.yaml"), "- this is\n- a list\n");
    const r = write(payload());
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/config\.yaml is not a YAML mapping .*saved it as .*config\.yaml\.invalid-/);
    const backups = fs.readdirSync(agentDir).filter((n) => n.startsWith("config.yaml.invalid-"));
    expect(backups).toHaveLength(1);
    expect(meta(inAgent(backups[0]))).toEqual({ uid: OWNER, gid: OWNER, mode: 0o600 });
    expect(pyYamlFile(inAgent("config.yaml"))).toEqual(renderHermesSettings(settingsInput()));
  });

  it("a changed .env is rewritten alone and restarts the container exactly once", () => {
    expect(write(payload()).status).toBe(0);
    clearDockerLog();
    const r = write(
      payload({
        env: [
          { name: "LLM_API_KEY", value: "sk-SECRET-llm-rotated" },
          { name: "TELEGRAM_BOT_TOKEN", value: TG_TOKEN },
        ],
      }),
    );
    expect(r.lines).toEqual(["changed .env", ...SECOND_RUN.slice(1), `restarted ${CONTAINER}`]);
    expect(restarts()).toEqual([["restart", CONTAINER]]);
    expect(fs.readFileSync(inAgent(".env"), "utf8")).toContain("LLM_API_KEY=sk-SECRET-llm-rotated\n");
    expect(meta(inAgent(".env"))).toEqual({ uid: OWNER, gid: OWNER, mode: 0o600 });
  });

  it("keeps the API_SERVER_KEY hermes appended at boot when the stack declares none: no rewrite, no restart", () => {
    expect(write(payload()).status).toBe(0);
    // What hermes' entrypoint does on first boot when .env has no key.
    fs.appendFileSync(inAgent(".env"), "API_SERVER_KEY=SECRET-hermes-generated-0123456789abcdef\n");
    const before = fs.readFileSync(inAgent(".env"), "utf8");
    clearDockerLog();
    const r = write(payload());
    expect(r.lines).toEqual(SECOND_RUN);
    expect(restarts()).toEqual([]);
    expect(fs.readFileSync(inAgent(".env"), "utf8")).toBe(before);
    // A rotation keeps it too, and still restarts once.
    const rotated = write(payload({ env: [{ name: "LLM_API_KEY", value: "sk-SECRET-llm-rotated" }] }));
    expect(rotated.lines[0]).toBe("changed .env");
    expect(fs.readFileSync(inAgent(".env"), "utf8")).toContain(
      "API_SERVER_KEY=SECRET-hermes-generated-0123456789abcdef",
    );
    expect(restarts()).toEqual([["restart", CONTAINER]]);
  });

  it("a declared API_SERVER_KEY replaces the one hermes generated", () => {
    expect(write(payload()).status).toBe(0);
    fs.appendFileSync(inAgent(".env"), "API_SERVER_KEY=SECRET-hermes-generated-0123456789abcdef\n");
    const r = write(payload({ env: [{ name: "API_SERVER_KEY", value: "SECRET-declared-key-0123456789" }] }));
    expect(r.lines[0]).toBe("changed .env");
    const env = fs.readFileSync(inAgent(".env"), "utf8");
    expect(env).toContain("API_SERVER_KEY=SECRET-declared-key-0123456789\n");
    expect(env).not.toContain("hermes-generated");
  });

  it("auth.json is seeded only when absent; hermes' refreshed copy is kept; policy replace forces it", () => {
    expect(write(payload()).status).toBe(0);
    const refreshed = '{"providers":{"nous":{"refresh_token":"SECRET-refresh-rotated-by-hermes"}}}';
    fs.writeFileSync(inAgent("auth.json"), refreshed);

    let r = write(payload({ auth: '{"other":"SECRET-refresh-new-seed"}' }));
    expect(r.lines).toContain("kept auth.json");
    expect(fs.readFileSync(inAgent("auth.json"), "utf8")).toBe(refreshed);

    fs.rmSync(inAgent("auth.json"));
    clearDockerLog();
    r = write(payload());
    expect(r.lines).toContain("seeded auth.json");
    expect(fs.readFileSync(inAgent("auth.json"), "utf8")).toBe(AUTH_SEED);
    expect(meta(inAgent("auth.json"))).toEqual({ uid: OWNER, gid: OWNER, mode: 0o600 });
    expect(restarts()).toHaveLength(1);

    r = write(payload({ auth: '{"forced":"SECRET-refresh-forced"}', authPolicy: "replace" }));
    expect(r.lines).toContain("changed auth.json");
    expect(fs.readFileSync(inAgent("auth.json"), "utf8")).toBe('{"forced":"SECRET-refresh-forced"}');
  });

  it("fixes drifted owners and modes of unchanged files and dirs without restarting", () => {
    expect(write(payload()).status).toBe(0);
    fs.chownSync(inAgent(".env"), 0, 0);
    fs.chmodSync(inAgent(".env"), 0o644);
    fs.chmodSync(inAgent("auth.json"), 0o666);
    fs.chownSync(inAgent("config.yaml"), 0, 0);
    fs.chmodSync(inAgent("workspace"), 0o777);
    fs.chownSync(inAgent(".managed"), 1234, 1234);
    fs.chmodSync(agentDir, 0o755);
    clearDockerLog();

    const r = write(payload());
    expect(r.status).toBe(0);
    expect(r.lines).toEqual(SECOND_RUN);
    expect(restarts()).toEqual([]);
    const own = { uid: OWNER, gid: OWNER };
    expect(meta(inAgent(".env"))).toEqual({ ...own, mode: 0o600 });
    expect(meta(inAgent("auth.json"))).toEqual({ ...own, mode: 0o600 });
    expect(meta(inAgent("config.yaml"))).toEqual({ ...own, mode: 0o640 });
    expect(meta(inAgent("workspace"))).toEqual({ ...own, mode: 0o750 });
    expect(meta(inAgent(".managed"))).toEqual({ ...own, mode: 0o640 });
    expect(meta(agentDir)).toEqual({ ...own, mode: 0o750 });
  });

  it("installs an empty file (empty base64 field) and files nested up to the maximum depth", () => {
    const r = write(
      encodeAgentFilesPayload([
        { path: "empty.md", mode: 0o640, policy: "replace", content: "" },
        { path: "workspace/notes/deep/x.md", mode: 0o640, policy: "replace", content: "deep\n" },
      ]),
      { MANAGED: "false" },
    );
    expect(r.status).toBe(0);
    expect(r.lines).toEqual([
      "changed empty.md",
      "changed workspace/notes/deep/x.md",
      "unchanged .managed",
      `restarted ${CONTAINER}`,
    ]);
    expect(fs.readFileSync(inAgent("empty.md"), "utf8")).toBe("");
    expect(fs.readFileSync(inAgent("workspace/notes/deep/x.md"), "utf8")).toBe("deep\n");
    for (const d of ["workspace", "workspace/notes", "workspace/notes/deep"]) {
      expect(meta(inAgent(d))).toEqual({ uid: OWNER, gid: OWNER, mode: 0o750 });
    }
  });

  it("uses OWNER_GID separately from OWNER_UID", () => {
    const r = write(payload(), { OWNER_GID: "10002" });
    expect(r.status).toBe(0);
    expect(meta(inAgent(".env"))).toEqual({ uid: OWNER, gid: 10002, mode: 0o600 });
    expect(meta(inAgent("workspace"))).toEqual({ uid: OWNER, gid: 10002, mode: 0o750 });
  });

  describe("a bad payload writes nothing", () => {
    const cases: Array<[string, (p: string) => string, RegExp]> = [
      ["no end line (interrupted transfer)", (p) => p.replace(/end\n$/, ""), /no 'end' line/],
      [
        "cut in the middle of a record",
        (p) => p.slice(0, p.indexOf("file config.yaml") + 30),
        /no 'end' line/,
      ],
      ["empty stdin", () => "", /empty/],
      [
        "another version",
        (p) => p.replace("agent-files v1", "agent-files v2"),
        /unsupported payload version/,
      ],
      ["no header", (p) => p.split("\n").slice(1).join("\n"), /does not start with/],
      [
        "a malformed record",
        (p) => p.replace("file SOUL.md 0640 replace", "file SOUL.md 0640 SECRET-telegram replace"),
        /record 2 is malformed/,
      ],
      [
        "a path with ..",
        (p) => p.replace("file SOUL.md ", "file ../escape "),
        /'\.', '\.\.' or empty segment/,
      ],
      ["an absolute path", (p) => p.replace("file SOUL.md ", "file /etc/x "), /malformed|relative/],
      ["a path deeper than 4", (p) => p.replace("file SOUL.md ", "file a/b/c/d/e "), /deeper than 4/],
      ["a duplicate path", (p) => p.replace("file SOUL.md ", "file .env "), /declared twice/],
      ["the reserved .managed", (p) => p.replace("file SOUL.md ", "file .managed "), /reserved/],
      ["a file/directory clash", (p) => p.replace("file SOUL.md ", "file workspace "), /declared as a file/],
      [
        "a mode other than 0600/0640",
        (p) => p.replace("file SOUL.md 0640", "file SOUL.md 0644"),
        /malformed/,
      ],
      [
        "invalid base64",
        (p) => p.replace(/^(file SOUL\.md 0640 replace )\S+$/m, "$1abc"),
        /not valid base64/,
      ],
    ];

    it.each(cases)("%s, on a fresh host", (_label, mangle, message) => {
      const r = write(mangle(payload()));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
      expect(fs.existsSync(path.join(caseDir, "srv"))).toBe(false);
      expect(fs.existsSync(wrapperPath)).toBe(false);
      expect(dockerCalls()).toEqual([]);
    });

    it("no end line, on an installed host: every file keeps its bytes", () => {
      expect(write(payload()).status).toBe(0);
      const before = [".env", "config.yaml", "SOUL.md", "workspace/USER.md"].map((f) =>
        fs.readFileSync(inAgent(f), "utf8"),
      );
      clearDockerLog();
      const truncated = payload({
        env: [{ name: "LLM_API_KEY", value: "sk-SECRET-llm-new" }],
        user: "new user doc\n",
      }).replace(/end\n$/, "");
      const r = write(truncated, { MANAGED: "false" });
      expect(r.status).not.toBe(0);
      expect(
        [".env", "config.yaml", "SOUL.md", "workspace/USER.md"].map((f) =>
          fs.readFileSync(inAgent(f), "utf8"),
        ),
      ).toEqual(before);
      expect(fs.existsSync(inAgent(".managed"))).toBe(true);
      expect(dockerCalls()).toEqual([]);
    });
  });

  it("adds and removes the .managed marker, restarting each time", () => {
    let r = write(payload(), { MANAGED: "false" });
    expect(r.lines).toContain("unchanged .managed");
    expect(fs.existsSync(inAgent(".managed"))).toBe(false);

    clearDockerLog();
    r = write(payload(), { MANAGED: "true" });
    expect(r.lines).toEqual([...SECOND_RUN.slice(0, -1), "changed .managed", `restarted ${CONTAINER}`]);
    expect(meta(inAgent(".managed"))).toEqual({ uid: OWNER, gid: OWNER, mode: 0o640 });
    expect(restarts()).toHaveLength(1);

    clearDockerLog();
    r = write(payload(), { MANAGED: "false" });
    expect(r.lines).toEqual([...SECOND_RUN.slice(0, -1), "changed .managed", `restarted ${CONTAINER}`]);
    expect(fs.existsSync(inAgent(".managed"))).toBe(false);
    expect(restarts()).toHaveLength(1);
  });

  it("restarts only a running container; skips a stopped or missing one and a host without docker", () => {
    let r = write(payload(), { FAKE_STATE: "exited" });
    expect(r.status).toBe(0);
    expect(r.lines).not.toContain(`restarted ${CONTAINER}`);
    expect(restarts()).toEqual([]);
    expect(dockerCalls()).toEqual([["inspect", "--format", "{{.State.Running}}", CONTAINER]]);

    r = write(payload({ user: "v2\n" }), { FAKE_STATE: "missing" });
    expect(r.status).toBe(0);
    expect(r.lines).toContain("changed workspace/USER.md");
    expect(restarts()).toEqual([]);
    expect(r.stderr).toContain("does not exist yet");

    clearDockerLog();
    r = write(payload({ user: "v3\n" }), { PATH: noDockerBin });
    expect(r.status).toBe(0);
    expect(r.lines).toContain("changed workspace/USER.md");
    expect(r.stderr).toContain("docker is not installed");
    expect(dockerCalls()).toEqual([]);
  });

  describe("symlinks planted by the agent are never followed", () => {
    let outside: string;
    beforeEach(() => {
      outside = path.join(caseDir, "outside");
      fs.mkdirSync(outside, { mode: 0o700 });
    });

    it("config.yaml and .env as links to root-only files: the files outside stay untouched", () => {
      expect(write(payload()).status).toBe(0);
      const secretYaml = path.join(outside, "root-secret.yaml");
      const shadow = path.join(outside, "shadow");
      fs.writeFileSync(secretYaml, "stolen: SECRET-outside\n", { mode: 0o600 });
      fs.writeFileSync(shadow, "root:SECRET-hash:1:0:99999:7:::\n", { mode: 0o600 });
      fs.rmSync(inAgent("config.yaml"));
      fs.symlinkSync(secretYaml, inAgent("config.yaml"));
      fs.rmSync(inAgent(".env"));
      fs.symlinkSync(shadow, inAgent(".env"));

      const r = write(payload());
      expect(r.status).toBe(0);
      expect(fs.lstatSync(inAgent("config.yaml")).isFile()).toBe(true);
      expect(fs.lstatSync(inAgent(".env")).isFile()).toBe(true);
      expect(fs.readFileSync(inAgent("config.yaml"), "utf8")).not.toContain("stolen");
      expect(fs.readFileSync(secretYaml, "utf8")).toBe("stolen: SECRET-outside\n");
      expect(fs.readFileSync(shadow, "utf8")).toBe("root:SECRET-hash:1:0:99999:7:::\n");
      expect(meta(secretYaml)).toEqual({ uid: 0, gid: 0, mode: 0o600 });
      expect(meta(shadow)).toEqual({ uid: 0, gid: 0, mode: 0o600 });
    });

    it("auth.json as a link is replaced by the seed, not kept", () => {
      expect(write(payload()).status).toBe(0);
      const target = path.join(outside, "auth-target.json");
      fs.writeFileSync(target, "{}", { mode: 0o600 });
      fs.rmSync(inAgent("auth.json"));
      fs.symlinkSync(target, inAgent("auth.json"));
      const r = write(payload());
      expect(r.lines).toContain("seeded auth.json");
      expect(fs.lstatSync(inAgent("auth.json")).isFile()).toBe(true);
      expect(meta(target)).toEqual({ uid: 0, gid: 0, mode: 0o600 });
    });

    it("workspace as a link to another directory: refused, nothing written there", () => {
      expect(write(payload()).status).toBe(0);
      fs.rmSync(inAgent("workspace"), { recursive: true });
      fs.symlinkSync(outside, inAgent("workspace"));
      const r = write(payload({ user: "changed\n" }));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("workspace is a symbolic link");
      expect(fs.readdirSync(outside)).toEqual([]);
      expect(meta(outside)).toEqual({ uid: 0, gid: 0, mode: 0o700 });
    });
  });

  it("sweeps temp files left by a killed run", () => {
    expect(write(payload()).status).toBe(0);
    fs.writeFileSync(inAgent(".hermes-lxc-tmp.KILLED01"), "SECRET-telegram leftover");
    fs.writeFileSync(inAgent("workspace/.hermes-lxc-tmp.KILLED02"), "x");
    const r = write(payload());
    expect(r.status).toBe(0);
    expect(tempLeftovers()).toEqual([]);
  });

  it.each([
    ["OWNER_UID=0", { OWNER_UID: "0" }, /OWNER_UID must be an integer in 1\.\.65534/],
    ["a relative AGENT_DIR", { AGENT_DIR: "srv/hermes/x" }, /AGENT_DIR must be an absolute path/],
    ["AGENT_DIR with ..", { AGENT_DIR: "/srv/../etc" }, /must not contain/],
    ["MANAGED=yes", { MANAGED: "yes" }, /MANAGED must be true or false/],
    ["a bad AGENT_NAME", { AGENT_NAME: "Bad_Name" }, /AGENT_NAME must be a DNS label/],
    ["a bad CONTAINER_NAME", { CONTAINER_NAME: "-x" }, /CONTAINER_NAME/],
    ["no wrapper text", { HERMES_WRAPPER_SH: "" }, /HERMES_WRAPPER_SH is required/],
  ])("refuses %s before writing anything", (_label, extra, message) => {
    const r = write(payload(), extra);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(path.join(caseDir, "srv"))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe("hermes-wrapper.sh", () => {
  let dockerLog: string;
  beforeEach(() => {
    dockerLog = path.join(fs.mkdtempSync(path.join(root, "wrapper-")), "docker.log");
  });

  function hermes(args: string[], ps: string[], extra: Record<string, string> = {}) {
    fs.rmSync(dockerLog, { force: true });
    const env = {
      PATH: `${fakeBin}:/usr/bin:/bin`,
      HOME: emptyHome,
      FAKE_DOCKER_LOG: dockerLog,
      FAKE_PS: ps.join("\n"),
      ...extra,
    };
    const r = spawnSync("/bin/bash", ["-c", WRAPPER_SH, "hermes", ...args], {
      env,
      encoding: "utf8",
      input: "",
    });
    const calls = fs.existsSync(dockerLog)
      ? fs
          .readFileSync(dockerLog, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split("\x1f").slice(0, -1))
      : [];
    return { status: r.status, stderr: r.stderr, calls, execs: calls.filter((c) => c[0] === "exec") };
  }

  const ONE = ["alpha hermes-alpha running"];
  const TWO = ["alpha hermes-alpha running", "beta hermes-beta running"];

  it("lists the containers by the hermes-lxc.agent label", () => {
    const r = hermes(["status"], ONE);
    expect(r.calls[0]).toEqual([
      "ps",
      "--all",
      "--filter",
      "label=hermes-lxc.agent",
      "--format",
      '{{.Label "hermes-lxc.agent"}} {{.Names}} {{.State}}',
    ]);
  });

  it("with a single agent, execs hermes in its container with the arguments untouched (no -t without a terminal)", () => {
    const r = hermes(["pairing", "approve", "telegram", "ABC123", "with space", "it's"], ONE);
    expect(r.status).toBe(0);
    expect(r.execs).toEqual([
      [
        "exec",
        "-i",
        "hermes-alpha",
        "hermes",
        "pairing",
        "approve",
        "telegram",
        "ABC123",
        "with space",
        "it's",
      ],
    ]);
  });

  it("selects with --agent NAME, --agent=NAME or HERMES_AGENT", () => {
    expect(hermes(["--agent", "beta", "status"], TWO).execs).toEqual([
      ["exec", "-i", "hermes-beta", "hermes", "status"],
    ]);
    expect(hermes(["--agent=alpha", "status"], TWO).execs).toEqual([
      ["exec", "-i", "hermes-alpha", "hermes", "status"],
    ]);
    expect(hermes(["status"], TWO, { HERMES_AGENT: "beta" }).execs).toEqual([
      ["exec", "-i", "hermes-beta", "hermes", "status"],
    ]);
    // --agent is only read as the first arguments: later it belongs to hermes.
    expect(hermes(["chat", "--agent", "x"], ONE).execs).toEqual([
      ["exec", "-i", "hermes-alpha", "hermes", "chat", "--agent", "x"],
    ]);
  });

  it("with several agents and no choice, prints the choices and exits 2", () => {
    const r = hermes(["status"], TWO);
    expect(r.status).toBe(2);
    expect(r.execs).toEqual([]);
    expect(r.stderr).toContain("--agent NAME");
    expect(r.stderr).toContain("alpha (container hermes-alpha, running)");
    expect(r.stderr).toContain("beta (container hermes-beta, running)");
  });

  it("exits 2 for an unknown agent, no agents, or a bad --agent", () => {
    let r = hermes(["--agent", "gamma", "status"], TWO);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no gateway container for agent gamma");
    expect(r.stderr).toContain("alpha (container hermes-alpha");
    r = hermes(["status"], []);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no hermes gateway container");
    r = hermes(["--agent"], TWO);
    expect(r.status).toBe(2);
    r = hermes(["--agent", "Bad Name", "x"], TWO);
    expect(r.status).toBe(2);
    expect(r.execs).toEqual([]);
  });

  it("refuses a stopped container with exit 1", () => {
    const r = hermes(["status"], ["alpha hermes-alpha exited"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("is exited, not running");
    expect(r.execs).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe("shell hygiene", () => {
  const scripts = [
    "write-agent-files.sh",
    "hermes-wrapper.sh",
    "wait-for-gateway.sh",
    "migrate-agent-config.sh",
  ];

  it("shellcheck passes on the gateway scripts", () => {
    const r = spawnSync(
      "shellcheck",
      scripts.map((s) => path.join(TEMPLATES, s)),
      { encoding: "utf8" },
    );
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it.each(scripts)("%s starts with a bash shebang, a header comment and set -euo pipefail", (script) => {
    const text = readTemplate(script);
    expect(text.startsWith("#!/usr/bin/env bash\n# ")).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
  });

  it("merge-config.py compiles and does not use __file__", () => {
    const r = spawnSync(
      "python3",
      ["-c", "import sys; compile(sys.stdin.read(), 'merge-config.py', 'exec')"],
      { input: MERGE_PY, encoding: "utf8" },
    );
    expect(r.status).toBe(0);
    expect(MERGE_PY).not.toMatch(/\b__file__\b/);
  });
});
