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
