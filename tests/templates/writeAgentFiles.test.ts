/** templates/write-agent-files.sh, run as root against temp directories: owners, modes, idempotency, restarts. */
import * as fs from "node:fs";
import { encodeAgentFilesPayload } from "../../components/lib/agentFiles";
import { renderEnvFile } from "../../components/lib/envFile";
import { renderHermesSettings } from "../../components/lib/hermesConfig";
import {
  AUTH_SEED,
  CONTAINER,
  LLM_KEY,
  meta,
  OWNER,
  pyYamlDump,
  pyYamlFile,
  TG_TOKEN,
  useWorld,
  world,
  WRAPPER_SH,
} from "./agentFilesWorld";
import {
  agentFileList,
  clearDockerLog,
  dockerCalls,
  FIRST_RUN,
  inAgent,
  installedHost,
  paths,
  payload,
  restarts,
  SECOND_RUN,
  settingsInput,
  tempLeftovers,
  useWriteCase,
  write,
} from "./writeAgentFilesCase";

useWorld();
useWriteCase();

describe("write-agent-files.sh", () => {
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
    expect(meta(paths.agentDir)).toEqual({ ...own, mode: 0o750 });
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
    expect(fs.readdirSync(paths.agentDir).sort()).toEqual([
      ".env",
      ".managed",
      "SOUL.md",
      "auth.json",
      "config.yaml",
      "workspace",
    ]);
    expect(tempLeftovers()).toEqual([]);

    expect(restarts()).toEqual([["restart", CONTAINER]]);
    expect(fs.readFileSync(paths.wrapperPath, "utf8")).toBe(WRAPPER_SH);
    expect(meta(paths.wrapperPath)).toEqual({ uid: 0, gid: 0, mode: 0o755 });
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
    const wrapperIno = fs.statSync(paths.wrapperPath).ino;
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
    expect(fs.statSync(paths.wrapperPath).ino).toBe(wrapperIno);
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
    const backups = fs.readdirSync(paths.agentDir).filter((n) => n.startsWith("config.yaml.invalid-"));
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
    fs.chmodSync(paths.agentDir, 0o755);
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
    expect(meta(paths.agentDir)).toEqual({ ...own, mode: 0o750 });
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
});
