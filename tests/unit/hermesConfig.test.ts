import { spawnSync } from "node:child_process";
import * as yaml from "js-yaml";
import {
  HermesSettingsInput,
  PROGRAM_DEFAULTS,
  isEnvReference,
  renderHermesSettings,
  toYaml,
} from "../../components/lib/hermesConfig";

const LITERAL_KEY = "sk-live-DO-NOT-LEAK-1234567890";

function input(overrides: Partial<HermesSettingsInput> = {}): HermesSettingsInput {
  return { mcpServers: {}, platformToolsets: {}, settings: {}, ...overrides };
}

/** Parses YAML the way hermes and merge-config.py do (PyYAML safe_load) and returns it as JSON data. */
function pyYamlLoad(text: string): unknown {
  const r = spawnSync(
    "python3",
    [
      "-c",
      "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin.read()), sys.stdout, ensure_ascii=False)",
    ],
    { input: text, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`python3 yaml.safe_load failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe("renderHermesSettings", () => {
  it("renders only the documented program default for an empty input", () => {
    expect(renderHermesSettings(input())).toEqual({ terminal: { backend: "local" } });
    expect(PROGRAM_DEFAULTS).toEqual({ terminal: { backend: "local" } });
  });

  it("renders the typed config with hermes' key names", () => {
    const rendered = renderHermesSettings(
      input({
        llm: {
          provider: "custom",
          baseUrl: "http://10.1.10.22:4000/v1",
          model: "qwen3-coder",
          apiKeyEnv: "LITELLM_API_KEY",
          contextLength: 131072,
        },
        mcpServers: {
          filesystem: {
            command: "npx",
            args: ["-y", "@modelcontextprotocol/server-filesystem", "/opt/data/workspace"],
            enabled: true,
          },
          remote: {
            url: "https://mcp.example.com/mcp",
            headers: { Authorization: "Bearer ${MCP_TOKEN}" },
            auth: "oauth",
            enabled: false,
            timeout: 120,
            connectTimeout: 30,
            tools: { include: ["search"], exclude: [] },
          },
        },
        platformToolsets: { telegram: ["hermes-telegram"], cli: ["hermes-cli"] },
      }),
    );
    expect(rendered).toEqual({
      terminal: { backend: "local" },
      model: {
        provider: "custom",
        default: "qwen3-coder",
        base_url: "http://10.1.10.22:4000/v1",
        api_key: "${LITELLM_API_KEY}",
        context_length: 131072,
      },
      mcp_servers: {
        filesystem: {
          command: "npx",
          args: ["-y", "@modelcontextprotocol/server-filesystem", "/opt/data/workspace"],
          enabled: true,
        },
        remote: {
          url: "https://mcp.example.com/mcp",
          headers: { Authorization: "Bearer ${MCP_TOKEN}" },
          auth: "oauth",
          enabled: false,
          timeout: 120,
          connect_timeout: 30,
          tools: { include: ["search"] },
        },
      },
      platform_toolsets: { cli: ["hermes-cli"], telegram: ["hermes-telegram"] },
    });
  });

  it("always writes model.api_key as a ${VAR} reference, never a value", () => {
    const rendered = renderHermesSettings(
      input({
        llm: { provider: "custom", baseUrl: "http://litellm:4000/v1", model: "m", apiKeyEnv: "LLM_API_KEY" },
      }),
    );
    const model = rendered.model as Record<string, unknown>;
    expect(model.api_key).toBe("${LLM_API_KEY}");
    expect(isEnvReference(model.api_key)).toBe(true);
    expect(model).not.toHaveProperty("context_length");
  });

  it("rejects an apiKeyEnv that is not an environment variable name", () => {
    for (const apiKeyEnv of ["lower_case", "1LEADING", "WITH-DASH", "", "${X}"]) {
      expect(() =>
        renderHermesSettings(
          input({ llm: { provider: "custom", baseUrl: "http://x/v1", model: "m", apiKeyEnv } }),
        ),
      ).toThrow("llm.apiKeyEnv");
    }
  });

  it("rejects an apiKeyEnv that is not a string, even one whose text is a valid name", () => {
    // A one-item list (a YAML typo in the stack) reads as "LLM_API_KEY" once turned into text.
    for (const apiKeyEnv of [["LLM_API_KEY"], { toString: () => "LLM_API_KEY" }, 42, null, true]) {
      expect(() =>
        renderHermesSettings(
          input({
            llm: {
              provider: "custom",
              baseUrl: "http://x/v1",
              model: "m",
              apiKeyEnv: apiKeyEnv as unknown as string,
            },
          }),
        ),
      ).toThrow("llm.apiKeyEnv must be an environment variable name");
    }
  });

  it("omits empty and unset MCP fields like the NixOS module, keeping enabled and args", () => {
    const rendered = renderHermesSettings(
      input({
        mcpServers: {
          bare: { command: "uvx", enabled: true, env: {}, headers: {}, tools: { include: [], exclude: [] } },
          web: { url: "http://mcp:8080/mcp", args: [], enabled: true },
        },
      }),
    );
    expect(rendered.mcp_servers).toEqual({
      bare: { command: "uvx", args: [], enabled: true },
      web: { url: "http://mcp:8080/mcp", enabled: true },
    });
  });

  it("requires exactly one MCP transport and positive integer timeouts", () => {
    expect(() => renderHermesSettings(input({ mcpServers: { x: { enabled: true } } }))).toThrow(
      "mcpServers.x: set exactly one of command (stdio) or url (HTTP)",
    );
    expect(() =>
      renderHermesSettings(input({ mcpServers: { x: { command: "a", url: "http://b", enabled: true } } })),
    ).toThrow("mcpServers.x");
    expect(() =>
      renderHermesSettings(input({ mcpServers: { x: { command: "a", enabled: true, connectTimeout: 0 } } })),
    ).toThrow("mcpServers.x.connectTimeout must be a positive integer");
    expect(() =>
      renderHermesSettings(input({ mcpServers: { x: { command: "a", enabled: true, timeout: 1.5 } } })),
    ).toThrow("mcpServers.x.timeout must be a positive integer");
  });

  it("lets free-form settings win over typed config and defaults, replacing lists", () => {
    const rendered = renderHermesSettings(
      input({
        llm: {
          provider: "custom",
          baseUrl: "http://litellm:4000/v1",
          model: "typed",
          apiKeyEnv: "LLM_API_KEY",
        },
        platformToolsets: { telegram: ["hermes-telegram", "web"] },
        mcpServers: { fs: { command: "npx", args: ["a"], enabled: true } },
        settings: {
          terminal: { backend: "docker", timeout: 300 },
          model: { default: "from-settings", api_key: "${OTHER_KEY}" },
          platform_toolsets: { telegram: ["hermes-telegram"] },
          mcp_servers: { fs: { enabled: false } },
          streaming: { enabled: true },
        },
      }),
    );
    expect(rendered).toEqual({
      terminal: { backend: "docker", timeout: 300 },
      model: {
        provider: "custom",
        default: "from-settings",
        base_url: "http://litellm:4000/v1",
        api_key: "${OTHER_KEY}",
      },
      platform_toolsets: { telegram: ["hermes-telegram"] },
      mcp_servers: { fs: { command: "npx", args: ["a"], enabled: false } },
      streaming: { enabled: true },
    });
  });

  it("rejects a literal settings.model.api_key (or its alias model.api) without echoing it", () => {
    for (const [key, value] of [
      ["api_key", LITERAL_KEY],
      ["api_key", 12345],
      ["api_key", null],
      ["api_key", "prefix-${LLM_API_KEY}"],
      ["api_key", "${LLM_API_KEY}sk-live-suffix"],
      ["api_key", "${LLM_API_KEY}\n"],
      ["api", LITERAL_KEY],
    ] as const) {
      let message = "";
      try {
        renderHermesSettings(input({ settings: { model: { [key]: value } } }));
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain(`settings.model.${key}`);
      expect(message).not.toContain(LITERAL_KEY);
      expect(message).not.toContain("12345");
    }
  });

  it("does not mutate its input", () => {
    const settings = { terminal: { backend: "ssh" }, list: [1, 2] };
    const given = input({ settings, platformToolsets: { cli: ["hermes-cli"] } });
    const before = JSON.stringify(given);
    const rendered = renderHermesSettings(given);
    (rendered.list as number[]).push(3);
    (rendered.platform_toolsets as Record<string, string[]>).cli.push("x");
    expect(JSON.stringify(given)).toBe(before);
  });
});

describe("renderHermesSettings re-checks what the config model already checked (it is also called on its own)", () => {
  const llm = { provider: "custom", baseUrl: "http://x/v1", model: "m" };
  it.each([
    ["provider", { ...llm, provider: " " }],
    ["baseUrl", { ...llm, baseUrl: "" }],
    ["model", { ...llm, model: undefined as unknown as string }],
  ])("an empty llm.%s", (field, bad) => {
    expect(() => renderHermesSettings(input({ llm: bad }))).toThrow(
      `llm.${field} must be a non-empty string`,
    );
  });

  it("no key variable, no api_key; a context length only when set and positive", () => {
    expect(renderHermesSettings(input({ llm })).model).toEqual({
      provider: "custom",
      default: "m",
      base_url: "http://x/v1",
    });
    expect(renderHermesSettings(input({ llm: { ...llm, contextLength: 8192 } })).model).toMatchObject({
      context_length: 8192,
    });
    expect(() => renderHermesSettings(input({ llm: { ...llm, contextLength: 0 } }))).toThrow(
      "llm.contextLength must be a positive integer",
    );
  });

  it("an empty command or url counts as unset; a blank server name and non-object settings are refused", () => {
    expect(
      renderHermesSettings(input({ mcpServers: { w: { command: "", url: "http://m/mcp", enabled: true } } }))
        .mcp_servers,
    ).toEqual({
      w: { url: "http://m/mcp", enabled: true },
    });
    expect(
      renderHermesSettings(input({ mcpServers: { c: { command: "uvx", url: "", enabled: false } } }))
        .mcp_servers,
    ).toEqual({
      c: { command: "uvx", args: [], enabled: false },
    });
    expect(() =>
      renderHermesSettings(input({ mcpServers: { " ": { command: "a", enabled: true } } })),
    ).toThrow("mcpServers: server names must be non-empty");
    expect(() => renderHermesSettings(input({ settings: [] as unknown as Record<string, unknown> }))).toThrow(
      "settings must be a plain object",
    );
  });

  it("keeps auth, headers and tool lists of an MCP server only when set", () => {
    const rendered = renderHermesSettings(
      input({
        mcpServers: {
          h: {
            url: "http://m/mcp",
            headers: { Authorization: "Bearer ${MCP_TOKEN}" },
            auth: "oauth",
            enabled: true,
            tools: { exclude: ["delete_all"] },
          },
        },
      }),
    );
    expect(rendered.mcp_servers).toEqual({
      h: {
        url: "http://m/mcp",
        headers: { Authorization: "Bearer ${MCP_TOKEN}" },
        auth: "oauth",
        enabled: true,
        tools: { exclude: ["delete_all"] },
      },
    });
  });
  it("leaves auth, headers and tool lists out of an MCP server that does not set them (no key at all)", () => {
    const rendered = renderHermesSettings(input({ mcpServers: { s: { command: "uvx", enabled: true } } }));
    // toStrictEqual: a key present with the value undefined is a difference here.
    expect(rendered.mcp_servers).toStrictEqual({ s: { command: "uvx", args: [], enabled: true } });
    expect(Object.keys((rendered.mcp_servers as Record<string, object>).s).sort()).toEqual([
      "args",
      "command",
      "enabled",
    ]);
  });
});

describe("toYaml", () => {
  const config = renderHermesSettings(
    input({
      llm: {
        provider: "custom",
        baseUrl: "http://10.1.10.22:4000/v1",
        model: "qwen3",
        apiKeyEnv: "LITELLM_API_KEY",
      },
      mcpServers: {
        github: {
          command: "npx",
          args: ["-y", "@modelcontextprotocol/server-github"],
          env: { GITHUB_PERSONAL_ACCESS_TOKEN: "${GITHUB_TOKEN}" },
          enabled: true,
        },
      },
      platformToolsets: { telegram: ["hermes-telegram"] },
      settings: { compression: { enabled: true, threshold: 0.85 } },
    }),
  );

  it("writes sorted keys in block style with the api_key as a plain ${VAR} reference", () => {
    expect(toYaml(config)).toBe(
      [
        "compression:",
        "  enabled: true",
        "  threshold: 0.85",
        "mcp_servers:",
        "  github:",
        "    args:",
        "      - '-y'",
        "      - '@modelcontextprotocol/server-github'",
        "    command: npx",
        "    enabled: true",
        "    env:",
        "      GITHUB_PERSONAL_ACCESS_TOKEN: ${GITHUB_TOKEN}",
        "model:",
        "  api_key: ${LITELLM_API_KEY}",
        "  base_url: http://10.1.10.22:4000/v1",
        "  default: qwen3",
        "  provider: custom",
        "platform_toolsets:",
        "  telegram:",
        "    - hermes-telegram",
        "terminal:",
        "  backend: local",
        "",
      ].join("\n"),
    );
  });

  it("is deterministic: same data in any key order gives byte-identical output", () => {
    const a = { b: { y: 1, x: [3, 2] }, a: "z" };
    const b = { a: "z", b: { x: [3, 2], y: 1 } };
    expect(toYaml(a)).toBe(toYaml(b));
    expect(toYaml(config)).toBe(toYaml(JSON.parse(JSON.stringify(config))));
  });

  it("never wraps long lines and never writes anchors for shared objects", () => {
    const long = "word ".repeat(60).trim();
    const shared = { k: "v" };
    const out = toYaml({ long, one: shared, two: shared });
    expect(out).toContain(`long: ${long}\n`);
    expect(out).not.toMatch(/[&*]ref/);
    expect(out).not.toContain("&");
  });

  it("round-trips nasty strings and numbers through PyYAML (YAML 1.1) and js-yaml unchanged", () => {
    const nasty = [
      "yes",
      "no",
      "on",
      "off",
      "y",
      "N",
      "true",
      "False",
      "null",
      "~",
      "",
      "0777",
      "0o17",
      "12:30",
      "1:20:30",
      "1_000",
      "1e3",
      "0x1F",
      ".inf",
      "-.nan",
      "2024-01-01",
      "2001-12-14t21:59:43.10-05:00",
      "=",
      "<<",
      "- a",
      "#x",
      "a #b",
      "${LITELLM_API_KEY}",
      "'q'",
      '"dq"',
      "multi\nline\n",
      "tab\there",
      " lead",
      "trail ",
      "ünïcødé ✓ 🔑",
      "@x",
      "`x",
      "%x",
      "!x",
      "&x",
      "*x",
      "?",
      "|",
      ">",
      "{a}",
      "[a]",
      "a: b",
      "-",
      "---",
      "...",
      "0.",
      "+1",
      "-0",
      "1.0e+3",
      "0b101",
      ".5",
      "4o-mini",
      "back\\slash",
      "C:\\path\\",
    ];
    const data = {
      values: Object.fromEntries(nasty.map((v, i) => [`k${String(i).padStart(2, "0")}`, v])),
      keys: Object.fromEntries(nasty.map((v, i) => [v, i])),
      numbers: [0, 1, -3, 1.5, 0.1, 1e-7, -2.5e-10, 123456789012, 1e21, 3e300],
      booleans: [true, false],
      nothing: null,
    };
    const out = toYaml(data);
    expect(pyYamlLoad(out)).toEqual(data);
    expect(yaml.load(out)).toEqual(data);
  });

  it("writes NaN, the infinities and -0 as floats PyYAML (YAML 1.1) and js-yaml read back as the same value", () => {
    // JSON cannot carry NaN, but a stack config's `1e400`, `-1e400` and `-0` parse to Infinity, -Infinity and -0.
    const fromStack = JSON.parse('{"big": 1e400, "small": -1e400, "zero": -0}') as Record<string, number>;
    const values = { nan: NaN, inf: fromStack.big, ninf: fromStack.small, nzero: fromStack.zero, zero: 0 };
    const out = toYaml(renderHermesSettings(input({ settings: { values } })));
    // What hermes' yaml.safe_load reads, as Python's type and repr (JSON has no NaN or infinity to hand it back in).
    const r = spawnSync(
      "python3",
      [
        "-c",
        "import json, sys, yaml; v = yaml.safe_load(sys.stdin.read())['values']; " +
          "json.dump({k: [type(x).__name__, repr(x)] for k, x in v.items()}, sys.stdout)",
      ],
      { input: out, encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      nan: ["float", "nan"],
      inf: ["float", "inf"],
      ninf: ["float", "-inf"],
      nzero: ["float", "-0.0"],
      zero: ["int", "0"],
    });
    const back = (yaml.load(out) as { values: Record<string, number> }).values;
    expect(Number.isNaN(back.nan)).toBe(true);
    expect(back.inf).toBe(Infinity);
    expect(back.ninf).toBe(-Infinity);
    expect(Object.is(back.nzero, -0)).toBe(true);
    expect(Object.is(back.zero, 0)).toBe(true);
  });
});
