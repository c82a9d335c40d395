/** templates/merge-config.py: the on-disk config.yaml merge, with python3 + PyYAML. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { toYaml } from "../../components/lib/hermesConfig";
import {
  MERGE_PY,
  OWNER,
  PYTHON,
  TEMPLATES,
  meta,
  pyYamlDump,
  pyYamlFile,
  useWorld,
  world,
} from "./agentFilesWorld";

useWorld();

describe("merge-config.py", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(world.root, "merge-"));
  });

  /** Runs the merge on a declared object and an existing file (null: absent) and returns the parsed result. */
  function merge(declared: unknown, existing: string | Buffer | null, viaDashC = false) {
    const d = path.join(dir, "declared.yaml");
    const e = path.join(dir, "config.yaml");
    const o = path.join(dir, "out.yaml");
    fs.writeFileSync(d, typeof declared === "string" ? declared : toYaml(declared));
    if (existing !== null) fs.writeFileSync(e, existing);
    const args = viaDashC ? ["-c", MERGE_PY, d, e, o] : [path.join(TEMPLATES, "merge-config.py"), d, e, o];
    const r = spawnSync(PYTHON, args, { encoding: "utf8" });
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
