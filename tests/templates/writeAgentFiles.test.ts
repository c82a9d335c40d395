/** templates/write-agent-files.sh, run as root against temp directories: owners, modes, idempotency, restarts. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { AgentFile, encodeAgentFilesPayload } from "../../components/lib/agentFiles";
import { renderEnvFile } from "../../components/lib/envFile";
import { HermesSettingsInput, renderHermesSettings, toYaml } from "../../components/lib/hermesConfig";
import {
  AGENT,
  AUTH_SEED,
  CONTAINER,
  LLM_KEY,
  MERGE_PY,
  OWNER,
  Run,
  SECRETS,
  TG_TOKEN,
  WRAPPER_SH,
  WRITE_SH,
  meta,
  pyYamlDump,
  pyYamlFile,
  runScript,
  useWorld,
  world,
} from "./agentFilesWorld";

useWorld();

describe("write-agent-files.sh", () => {
  let caseDir: string;
  let agentDir: string;
  let wrapperPath: string;
  let dockerLog: string;

  beforeEach(() => {
    caseDir = fs.mkdtempSync(path.join(world.root, "write-"));
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
      PATH: `${world.fakeBin}:/usr/bin:/bin`,
      HOME: world.emptyHome,
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

  /**
   * Brings this case to an installed host: the state the first run with payload() leaves (no docker calls logged).
   * The first case that asks runs the script; later ones get a copy of its result (`cp -a` keeps owners, modes and
   * bytes), which costs one process instead of a full run of the script.
   */
  let installed: string | undefined;
  function installedHost(): void {
    if (installed === undefined) {
      const r = write(payload());
      expect(r.status).toBe(0);
      expect(r.lines).toEqual(FIRST_RUN);
      clearDockerLog();
      installed = fs.mkdtempSync(path.join(world.root, "installed-"));
      copyTree(caseDir, installed);
      return;
    }
    copyTree(installed, caseDir);
  }
  const copyTree = (from: string, to: string) => {
    const r = spawnSync("cp", ["-a", "--", `${from}/.`, to], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr}`);
  };

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
    installedHost();
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
    installedHost();
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
    installedHost();
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
    installedHost();
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
    installedHost();
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
    installedHost();
    fs.appendFileSync(inAgent(".env"), "API_SERVER_KEY=SECRET-hermes-generated-0123456789abcdef\n");
    const r = write(payload({ env: [{ name: "API_SERVER_KEY", value: "SECRET-declared-key-0123456789" }] }));
    expect(r.lines[0]).toBe("changed .env");
    const env = fs.readFileSync(inAgent(".env"), "utf8");
    expect(env).toContain("API_SERVER_KEY=SECRET-declared-key-0123456789\n");
    expect(env).not.toContain("hermes-generated");
  });

  it("auth.json is seeded only when absent; hermes' refreshed copy is kept; policy replace forces it", () => {
    installedHost();
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
    installedHost();
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
      installedHost();
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
    r = write(payload({ user: "v3\n" }), { PATH: world.noDockerBin });
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
      installedHost();
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
      installedHost();
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
      installedHost();
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
    installedHost();
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
