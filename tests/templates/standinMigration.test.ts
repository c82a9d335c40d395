/**
 * What the real image leaves on disk after an upgrade, and how the files step's merge treats it (issue 16, point 3).
 * The stand-in's migration (tests/system/standin/docker_config_migrate.sh) mirrors hermes_cli/config.py
 * migrate_config + save_config @00067189: config.yaml re-dumped in hermes' key order, comments gone, `agent: {}` from
 * _normalize_max_turns_config, comment blocks appended (_commented_sections_for_save); .env sanitised. Run here on a
 * temp HERMES_HOME, then templates/merge-config.py (the files step's merge) on the result.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { parseStackConfig } from "../../components/config/stack";
import { agentConfigYaml } from "../../components/gateway/agentPayload";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

const ROOT = path.resolve(__dirname, "..", "..");
const STANDIN = path.join(ROOT, "tests", "system", "standin");

let dir: string;
let home: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "standin-migrate-"));
  home = path.join(dir, "home");
  fs.mkdirSync(home);
  // The scripts source /opt/hermes/lib/hermes-config.sh in the image; point them at the checkout's copy.
  fs.copyFileSync(path.join(STANDIN, "hermes-config.sh"), path.join(dir, "hermes-config.sh"));
  fs.writeFileSync(
    path.join(dir, "migrate.sh"),
    fs
      .readFileSync(path.join(STANDIN, "docker_config_migrate.sh"), "utf8")
      .replace("/opt/hermes/lib/hermes-config.sh", path.join(dir, "hermes-config.sh")),
  );
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function migrate(latest: number, extraEnv: Record<string, string> = {}) {
  const r = spawnSync("/bin/bash", [path.join(dir, "migrate.sh")], {
    env: {
      PATH: "/usr/bin:/bin",
      HOME: dir,
      HERMES_HOME: home,
      HERMES_STANDIN_CONFIG_VERSION: String(latest),
      ...extraEnv,
    },
    encoding: "utf8",
  });
  for (const f of fs.readdirSync(home)) if (f.includes(".bak-")) fs.rmSync(path.join(home, f));
  return r;
}

/** templates/merge-config.py DECLARED EXISTING OUTPUT, as write-agent-files.sh runs it; returns the output. */
function merge(declared: string): string {
  fs.writeFileSync(path.join(dir, "declared.yaml"), declared);
  const out = path.join(dir, "merged.yaml");
  const r = spawnSync(
    "python3",
    [path.join(ROOT, "templates", "merge-config.py"), path.join(dir, "declared.yaml"), configPath(), out],
    { encoding: "utf8" },
  );
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return fs.readFileSync(out, "utf8");
}

const configPath = () => path.join(home, "config.yaml");
const config = () => fs.readFileSync(configPath(), "utf8");

const declared = (() => {
  const parsed = parseStackConfig(homelabWithSecrets(), { readFile: readProjectFile });
  return agentConfigYaml(parsed.config.agents[0]);
})();

describe("the stand-in's migration, as hermes' migrate_config + save_config leave config.yaml", () => {
  beforeEach(() => {
    // What the files step writes, then the schema stamp of an earlier image.
    fs.writeFileSync(configPath(), merge(declared) + "_config_version: 44\n", { mode: 0o640 });
    fs.writeFileSync(path.join(home, ".env"), "TELEGRAM_BOT_TOKEN=1:x\n  API_SERVER_KEY=abc  \n# note \n", {
      mode: 0o600,
    });
  });

  it("re-dumps in hermes' layout: version in place, `agent: {}`, comment blocks after the YAML, mode kept", () => {
    const before = config();
    const r = migrate(45);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("[config-migrate] Migrating config schema 44 -> 45");
    const after = config();
    expect(after.startsWith(before.replace("_config_version: 44\n", "_config_version: 45\n"))).toBe(true);
    expect(after).toMatch(
      /\n_config_version: 45\nagent: \{\}\n\n# [^\n]*Security[^\n]*\n(#[^\n]*\n)+\n# [^\n]*Fallback[^\n]*\n(#[^\n]*\n)+$/,
    );
    const data = yaml.load(after) as Record<string, unknown>;
    expect(data).toEqual({ ...(yaml.load(before) as object), _config_version: 45, agent: {} });
    expect(fs.statSync(configPath()).mode & 0o777).toBe(0o640);
    // sanitize_env_file: surrounding whitespace gone from assignments, comments kept as they were.
    expect(fs.readFileSync(path.join(home, ".env"), "utf8")).toBe(
      "TELEGRAM_BOT_TOKEN=1:x\nAPI_SERVER_KEY=abc\n# note \n",
    );
  });

  it("is stable: a second migration changes only the version, the same version again changes nothing", () => {
    migrate(45);
    const first = config();
    migrate(46);
    expect(config()).toBe(first.replace("_config_version: 45\n", "_config_version: 46\n"));
    const second = config();
    migrate(46);
    expect(config()).toBe(second);
  });

  it("leaves the blocks out for what the config sets (security.redact_secrets, a fallback model)", () => {
    fs.appendFileSync(
      configPath(),
      "security:\n  redact_secrets: false\nfallback_model:\n  provider: openrouter\n  model: a/b\n",
    );
    migrate(45);
    expect(config()).not.toMatch(/^#/m);
  });

  it("the files step's merge then rewrites it once in its own layout, keeping the stamp and agent; no fight after", () => {
    migrate(45);
    const migrated = config();
    const merged = merge(declared);
    // Different bytes: the next files run reports `changed config.yaml` (its restart is the one that run costs anyway).
    expect(merged).not.toBe(migrated);
    expect(merged).toMatch(/^_config_version: 45$/m);
    expect(merged).toMatch(/^agent: \{\}$/m);
    expect(merged).not.toContain("#");
    // Once merged, the same stack merges to the same bytes: nothing changes and nothing restarts on the next run.
    fs.writeFileSync(configPath(), merged);
    expect(merge(declared)).toBe(merged);
    // And the image does not fight back: the schema is current, so its migration leaves the file alone.
    migrate(45);
    expect(config()).toBe(merged);
  });

  it("under managed mode the save is refused and both files are restored, as upstream", () => {
    const before = config();
    const r = migrate(45, { HERMES_MANAGED: "hermes-lxc" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "Cannot save configuration: this Hermes installation is managed by hermes-lxc.",
    );
    expect(r.stderr).toContain("migration did not advance config version to 45 (still 44)");
    expect(config()).toBe(before);
  });
});
