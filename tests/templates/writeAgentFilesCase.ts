/**
 * One case of the write-agent-files.sh tests (writeAgentFiles, writeAgentFilesHostile): its directories, the payload
 * the stack would send, and runs of the script with the secrets checked out of its output.
 */
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
  runScript,
  world,
} from "./agentFilesWorld";

/** The current case's paths, set by useWriteCase()'s beforeEach. */
export const paths = { caseDir: "", agentDir: "", wrapperPath: "", dockerLog: "" };

/** Registers the per-case directories in the calling test file (after useWorld()). */
export function useWriteCase(): void {
  beforeEach(() => {
    paths.caseDir = fs.mkdtempSync(path.join(world.root, "write-"));
    paths.agentDir = path.join(paths.caseDir, "srv", "hermes", AGENT);
    paths.wrapperPath = path.join(paths.caseDir, "usr-local-bin", "hermes");
    paths.dockerLog = path.join(paths.caseDir, "docker.log");
  });
}

export const settingsInput = (settings: Record<string, unknown> = {}): HermesSettingsInput => ({
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

export interface FileOptions {
  env?: Array<{ name: string; value: string }>;
  settings?: Record<string, unknown>;
  auth?: string;
  authPolicy?: AgentFile["policy"];
  user?: string;
}

export function agentFileList(o: FileOptions = {}): AgentFile[] {
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

export const payload = (o: FileOptions = {}) => encodeAgentFilesPayload(agentFileList(o));

export function writeEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: `${world.fakeBin}:/usr/bin:/bin`,
    HOME: world.emptyHome,
    LANG: "C.UTF-8",
    AGENT_NAME: AGENT,
    AGENT_DIR: paths.agentDir,
    OWNER_UID: String(OWNER),
    OWNER_GID: String(OWNER),
    CONTAINER_NAME: CONTAINER,
    MANAGED: "true",
    MERGE_CONFIG_PY: MERGE_PY,
    HERMES_WRAPPER_SH: WRAPPER_SH,
    WRAPPER_PATH: paths.wrapperPath,
    FAKE_DOCKER_LOG: paths.dockerLog,
    FAKE_STATE: "running",
    ...extra,
  };
}

export function write(input: string, extra: Record<string, string> = {}): Run {
  const r = runScript(WRITE_SH, "write-agent-files", writeEnv(extra), input);
  for (const secret of SECRETS) {
    expect(r.stdout).not.toContain(secret);
    expect(r.stderr).not.toContain(secret);
  }
  return r;
}

/** The docker calls the scripts made, each as its argument list. */
export function dockerCalls(): string[][] {
  if (!fs.existsSync(paths.dockerLog)) return [];
  return fs
    .readFileSync(paths.dockerLog, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\x1f").slice(0, -1));
}
export const restarts = () => dockerCalls().filter((c) => c[0] === "restart");
export const clearDockerLog = () => fs.rmSync(paths.dockerLog, { force: true });
export const inAgent = (rel: string) => path.join(paths.agentDir, rel);
export const tempLeftovers = () =>
  [paths.agentDir, inAgent("workspace")]
    .flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d) : []))
    .filter((n) => n.startsWith(".hermes-lxc-tmp."));

/**
 * Brings this case to an installed host: the state the first run with payload() leaves (no docker calls logged).
 * The first case that asks runs the script; later ones get a copy of its result (`cp -a` keeps owners, modes and
 * bytes), which costs one process instead of a full run of the script.
 */
let installed: string | undefined;
export function installedHost(): void {
  if (installed === undefined) {
    const r = write(payload());
    expect(r.status).toBe(0);
    expect(r.lines).toEqual(FIRST_RUN);
    clearDockerLog();
    installed = fs.mkdtempSync(path.join(world.root, "installed-"));
    copyTree(paths.caseDir, installed);
    return;
  }
  copyTree(installed, paths.caseDir);
}
const copyTree = (from: string, to: string) => {
  const r = spawnSync("cp", ["-a", "--", `${from}/.`, to], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr}`);
};

export const FIRST_RUN = [
  "changed .env",
  "changed SOUL.md",
  "seeded auth.json",
  "changed config.yaml",
  "changed workspace/USER.md",
  "changed .managed",
  `restarted ${CONTAINER}`,
];
export const SECOND_RUN = [
  "unchanged .env",
  "unchanged SOUL.md",
  "kept auth.json",
  "unchanged config.yaml",
  "unchanged workspace/USER.md",
  "unchanged .managed",
];
