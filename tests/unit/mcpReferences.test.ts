/**
 * MCP server secrets by `${VAR}` (issue 16, point 1). hermes expands `${VAR}` / `${env:VAR}` in every string of an
 * MCP server's config twice: hermes_cli/config.py `_expand_env_vars` inside `load_config`, then
 * tools/mcp_tool_config.py `_interpolate_env_vars` inside `_load_mcp_config` (both @00067189, both keep an unset
 * reference as its literal text). A stdio server only gets `_build_safe_env` plus its own `env`, so a reference is
 * the only way to hand it a secret of the agent's .env.
 */
import { parseStackConfig } from "../../components/config/stack";
import { agentConfigYaml } from "../../components/gateway/agentPayload";
import { problemsOf } from "../helpers/configProblems";
import { CANARY, homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

const opts = { readFile: readProjectFile };

function parse(mutate: (raw: any) => void) {
  const raw = homelabWithSecrets() as any;
  mutate(raw);
  return parseStackConfig(raw, opts);
}

describe("MCP server references to the agent's .env", () => {
  it("are accepted in env, headers, args and url, and reach config.yaml unexpanded (hermes expands them)", () => {
    const { config } = parse((r) => {
      r.agents.hermes.mcpServers = {
        gh: {
          command: "npx",
          args: ["-y", "@modelcontextprotocol/server-github", "--token=${GITHUB_TOKEN}"],
          env: { GITHUB_PERSONAL_ACCESS_TOKEN: "${GITHUB_TOKEN}", ROOT: "${workspaceFolder}" },
        },
        web: {
          url: "https://mcp.example.org/mcp?key=${env:GITHUB_TOKEN}",
          headers: { Authorization: "Bearer ${TELEGRAM_BOT_TOKEN}" },
        },
      };
    });
    const yaml = agentConfigYaml(config.agents[0]);
    expect(yaml).toContain("GITHUB_PERSONAL_ACCESS_TOKEN: ${GITHUB_TOKEN}");
    expect(yaml).toContain("Authorization: Bearer ${TELEGRAM_BOT_TOKEN}");
    expect(yaml).toContain("--token=${GITHUB_TOKEN}");
    expect(yaml).toContain("https://mcp.example.org/mcp?key=${env:GITHUB_TOKEN}");
    // The secret values themselves never reach config.yaml.
    expect(yaml).not.toContain(CANARY.extraEnv);
    expect(yaml).not.toContain(CANARY.telegramBotToken);
  });

  it("accepts a reference to the LLM key's variable and to a non-secret environment variable", () => {
    const problems = problemsOf((r) => {
      r.agents.hermes.environment = { ...(r.agents.hermes.environment ?? {}), MCP_REGION: "eu" };
      r.agents.hermes.mcpServers = {
        x: { command: "srv", env: { KEY: "${LITELLM_API_KEY}", REGION: "${MCP_REGION}" } },
      };
    });
    expect(problems).toEqual([]);
  });

  it.each([
    [
      "env",
      (r: any) => (r.agents.hermes.mcpServers = { gh: { command: "npx", env: { T: "${NOPE_TOKEN}" } } }),
      "agents.hermes.mcpServers.gh.env.T",
    ],
    [
      "headers",
      (r: any) =>
        (r.agents.hermes.mcpServers = {
          w: { url: "https://m.example.org/mcp", headers: { Authorization: "Bearer ${NOPE_TOKEN}" } },
        }),
      "agents.hermes.mcpServers.w.headers.Authorization",
    ],
    [
      "args",
      (r: any) => (r.agents.hermes.mcpServers = { gh: { command: "npx", args: ["a", "${NOPE_TOKEN}"] } }),
      "agents.hermes.mcpServers.gh.args[1]",
    ],
    [
      "url",
      (r: any) => (r.agents.hermes.mcpServers = { w: { url: "https://m.example.org/mcp?k=${NOPE_TOKEN}" } }),
      "agents.hermes.mcpServers.w.url",
    ],
  ])(
    "refuses, before any resource, a reference in %s to a variable the .env will not hold",
    (_f, mutate, at) => {
      const problems = problemsOf(mutate);
      expect(problems).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${at.replace(/[.[\]]/g, "\\$&")}: references \\$\\{NOPE_TOKEN\\}, which the agent's \\.env will not hold.*agentSecrets\\.hermes\\.env\\.NOPE_TOKEN`,
          ),
        ),
      ]);
    },
  );

  it("refuses a reference to a typed secret's variable when that secret is not set", () => {
    const problems = problemsOf((r) => {
      delete r.agentSecrets.hermes.llmApiKey;
      r.agents.hermes.mcpServers = { x: { command: "srv", env: { K: "${LITELLM_API_KEY}" } } };
    });
    expect(problems).toEqual([
      expect.stringMatching(/^agents\.hermes\.mcpServers\.x\.env\.K: references \$\{LITELLM_API_KEY\}/),
    ]);
  });

  it("refuses a ${...} form hermes does not resolve from the environment, without echoing the value", () => {
    const problems = problemsOf((r) => {
      r.agents.hermes.mcpServers = { x: { command: "srv", env: { K: "pre-${vault:secret/x}-post" } } };
    });
    expect(problems).toEqual([expect.stringMatching(/^agents\.hermes\.mcpServers\.x\.env\.K: /)]);
    expect(problems[0]).not.toContain("pre-");
  });

  it("still refuses ${ in the agent's .env values (python-dotenv would expand it there)", () => {
    const problems = problemsOf((r) => (r.agentSecrets.hermes.env.GITHUB_TOKEN = "a${B}"));
    expect(problems).toEqual([
      expect.stringMatching(/^agentSecrets\.hermes\.env\.GITHUB_TOKEN: .*python-dotenv/),
    ]);
  });
});

describe("credential-looking plain text in an MCP server", () => {
  const warningsOf = (server: Record<string, unknown>) =>
    parse((r) => (r.agents.hermes.mcpServers = { s: server })).warnings.filter((w) =>
      w.includes("mcpServers"),
    );

  it.each([
    [
      { command: "npx", env: { GITHUB_TOKEN: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" } },
      "env.GITHUB_TOKEN",
    ],
    [{ command: "npx", env: { API_KEY: "plain-value-123" } }, "env.API_KEY"],
    [
      { url: "https://m.example.org/mcp", headers: { Authorization: "Bearer abcdef0123456789abcdef" } },
      "headers.Authorization",
    ],
    [{ url: "https://m.example.org/mcp", headers: { "X-Api-Key": "abc123def456" } }, "headers.X-Api-Key"],
    [{ command: "npx", args: ["--api-key", "sk-abcdefghijklmnopqrstuvwx"] }, "args[1]"],
    [{ url: "https://m.example.org/mcp?token=abcdef0123456789" }, "url"],
  ] as Array<[Record<string, unknown>, string]>)("warns and points to ${VAR}: %j", (server, at) => {
    const warnings = warningsOf(server);
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^agents\\.hermes\\.mcpServers\\.s\\.${at.replace(/[.[\]]/g, "\\$&")}: .*\\$\\{VAR\\}`),
      ),
    ]);
    // Never the value itself.
    for (const v of [
      ...Object.values((server.env as Record<string, string>) ?? {}),
      ...Object.values((server.headers as Record<string, string>) ?? {}),
    ])
      expect(warnings.join("\n")).not.toContain(v);
  });

  it("is quiet for references and for ordinary values", () => {
    expect(
      warningsOf({
        command: "npx",
        args: ["-y", "@scope/server", "--port", "8080"],
        env: {
          GITHUB_TOKEN: "${GITHUB_TOKEN}",
          ROOT: "/opt/data/workspace",
          LOG_LEVEL: "debug",
          TOKEN_LIMIT: "4000",
          AUTH_ENABLED: "true",
        },
      }),
    ).toEqual([]);
    expect(
      warningsOf({
        url: "https://m.example.org/mcp?x=1",
        headers: { Authorization: "Bearer ${GITHUB_TOKEN}", Accept: "application/json" },
      }),
    ).toEqual([]);
  });
});

describe("how a reference is read and refused", () => {
  const mcp = (server: Record<string, unknown>) => (r: any) => (r.agents.hermes.mcpServers = { s: server });

  it("reads a reference as hermes does: spaces inside the braces and after env: do not count", () => {
    expect(
      problemsOf(
        mcp({ command: "npx", args: ["--token=${ GITHUB_TOKEN }"], env: { T: "${env: GITHUB_TOKEN }" } }),
      ),
    ).toEqual([]);
    // Trimmed, a name the .env will not hold is still refused, by its name.
    expect(problemsOf(mcp({ command: "npx", env: { T: "${ NOPE_TOKEN }", U: "${env: NOPE_KEY}" } }))).toEqual(
      [
        expect.stringMatching(/^agents\.hermes\.mcpServers\.s\.env\.T: references \$\{NOPE_TOKEN\},/),
        expect.stringMatching(/^agents\.hermes\.mcpServers\.s\.env\.U: references \$\{NOPE_KEY\},/),
      ],
    );
  });

  it("checks the command too, naming it as the key path", () => {
    expect(problemsOf(mcp({ command: "${NOPE_BIN}" }))).toEqual([
      expect.stringMatching(/^agents\.hermes\.mcpServers\.s\.command: references \$\{NOPE_BIN\},/),
    ]);
  });

  it("says which forms hermes resolves when it refuses one it does not", () => {
    const [problem] = problemsOf(mcp({ command: "npx", env: { K: "${vault:kv/x}" } }));
    expect(problem).toMatch(/^agents\.hermes\.mcpServers\.s\.env\.K: /);
    expect(problem).toContain("${VAR}");
    expect(problem).toContain("${env:VAR}");
    expect(problem).toContain("${workspaceFolder}");
  });

  it("lists, sorted, the variables the stack already writes, as names only", () => {
    const [problem] = problemsOf(mcp({ command: "npx", env: { T: "${NOPE_TOKEN}" } }));
    const listed = /\(or reference a variable the stack already writes: ([^)]*)\)$/.exec(problem)?.[1];
    expect(listed).toBeDefined();
    const names = listed!.split(", ");
    expect(names).toEqual(expect.arrayContaining(["API_SERVER_KEY", "GITHUB_TOKEN", "LITELLM_API_KEY"]));
    expect(names).toEqual([...names].sort());
    for (const n of names) expect(n).toMatch(/^[A-Z_][A-Z0-9_]*$/);
    for (const secret of Object.values(CANARY)) expect(problem).not.toContain(secret);
  });
});

describe("which plain values count as credentials", () => {
  const warningsOf = (server: Record<string, unknown>) =>
    parse((r) => (r.agents.hermes.mcpServers = { s: server })).warnings.filter((w) =>
      w.includes("mcpServers"),
    );
  const pathsOf = (server: Record<string, unknown>) =>
    warningsOf(server).map((w) => w.replace(/^agents\.hermes\.mcpServers\.s\.([^:]+): .*$/, "$1"));

  it.each([
    ["an OpenAI-style key", "sk-proj0123456789abcdefghij"],
    ["a GitHub token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"],
    ["a fine-grained GitHub token", "github_pat_11ABCDEFG0123456789_abcdefghijkl"],
    ["a GitLab token", "glpat-abcdefghij0123456789"],
    ["a Slack token", "xoxb-1234567890-abcdefghij"],
    ["an AWS access key id", "AKIAIOSFODNN7EXAMPLE"],
    ["a JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig"],
  ])("knows %s by its shape, whatever the name around it", (_what, value) => {
    expect(
      pathsOf({ command: "npx", args: ["--config", value], env: { UPSTREAM: value, LOG_LEVEL: "debug" } }),
    ).toEqual(["args[1]", "env.UPSTREAM"]);
    expect(pathsOf({ url: "https://m.example.org/mcp", headers: { "X-Upstream": value } })).toEqual([
      "headers.X-Upstream",
    ]);
  });

  it("knows a credential by its name even when the value starts like a number or a switch", () => {
    // A Telegram bot token starts with the bot's numeric id; only a whole number or switch is a plain setting.
    expect(
      pathsOf({
        command: "npx",
        env: { BOT_TOKEN: "123456:AAbbCCddEEffGG", AUTH: "true-but-secret", TOKEN_LIMIT: "4000" },
      }),
    ).toEqual(["env.BOT_TOKEN", "env.AUTH"]);
  });

  it("finds nothing in an empty value", () => {
    expect(warningsOf({ command: "npx", env: { GITHUB_TOKEN: "" } })).toEqual([]);
  });

  it("knows a flag's value, glued with = or as the next argument, and only its value", () => {
    expect(
      pathsOf({
        command: "npx",
        args: ["--token=abcdef0123", "--port", "8080", "--password", "hunter2hunter2", "positional"],
      }),
    ).toEqual(["args[0]", "args[4]"]);
    // A flag with an empty value carries nothing, and the argument after a glued flag is not its value.
    expect(pathsOf({ command: "npx", args: ["--token=", "--api-key=abcdef0123", "next"] })).toEqual([
      "args[1]",
    ]);
    expect(pathsOf({ command: "npx", args: ["--token=", "next"] })).toEqual([]);
    // The same glued flag in an env value that holds arguments.
    expect(pathsOf({ command: "npx", env: { SERVER_ARGS: "--api-key=abcdef0123" } })).toEqual([
      "env.SERVER_ARGS",
    ]);
  });

  it("takes only an argument for a flag's value: the last arg does not reach into env, nor env values into each other", () => {
    expect(pathsOf({ command: "npx", args: ["--auth"], env: { LOG_LEVEL: "debug" } })).toEqual([]);
    expect(pathsOf({ command: "npx", env: { MODE: "--auth", NEXT: "plain" } })).toEqual([]);
    expect(pathsOf({ command: "--token", args: ["plain"] })).toEqual([]);
  });

  it("knows a credential in a URL's query wherever the URL is, as the endpoint or an argument", () => {
    expect(
      pathsOf({
        command: "npx",
        args: ["-y", "mcp-remote", "https://m.example.org/mcp?api_key=abcdef0123456789"],
      }),
    ).toEqual(["args[2]"]);
    expect(pathsOf({ url: "https://m.example.org/mcp?region=eu&token=abcdef0123456789" })).toEqual(["url"]);
    expect(pathsOf({ url: "https://m.example.org/mcp?token=${GITHUB_TOKEN}" })).toEqual([]);
  });

  it("warns about a credential even in the command", () => {
    expect(pathsOf({ command: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" })).toEqual(["command"]);
    expect(pathsOf({ command: "/usr/local/bin/github-mcp-server" })).toEqual([]);
  });

  it("says how to fix it: the secret goes into the agent's .env, and ${VAR} here, which hermes expands", () => {
    const [warning] = warningsOf({ command: "npx", env: { API_KEY: "plain-value-123" } });
    expect(warning).toMatch(
      /^agents\.hermes\.mcpServers\.s\.env\.API_KEY: looks like a credential in plain text/,
    );
    expect(warning).toContain("pulumi config set --secret --path 'agentSecrets.hermes.env.<NAME>'");
    expect(warning).toMatch(
      /write \$\{VAR\} here with that name: hermes expands it when it loads the server\.$/,
    );
    expect(warning).not.toContain("plain-value-123");
  });
});
