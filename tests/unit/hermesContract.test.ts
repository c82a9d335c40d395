/** The hermes image an agent runs, and what config.yaml says about the LLM key (issue: meet the real image). */
import { createHmac } from "node:crypto";
import { DEFAULT_HERMES_IMAGE } from "../../components/config/hermesImage";
import { parseStackConfig } from "../../components/config/stack";
import { agentConfigYaml, agentEnvVars } from "../../components/gateway/agentPayload";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

const opts = { readFile: readProjectFile };
function parse(edit: (agent: Record<string, unknown>, secrets: Record<string, unknown>) => void) {
  const raw = homelabWithSecrets() as {
    agents: Record<string, Record<string, unknown>>;
    agentSecrets: Record<string, Record<string, unknown>>;
  };
  edit(raw.agents.hermes, raw.agentSecrets.hermes);
  const parsed = parseStackConfig(raw, opts);
  return {
    agent: parsed.config.agents[0],
    imageWarnings: parsed.warnings.filter((w) => /image(Tag|Digest)/.test(w)),
  };
}

describe("the hermes image", () => {
  it("defaults to a published release tag, pinned by digest", () => {
    const { agent, imageWarnings } = parse((a) => {
      delete a.imageTag;
      delete a.imageDigest;
    });
    expect(DEFAULT_HERMES_IMAGE.tag).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(agent.imageRef).toBe(
      `nousresearch/hermes-agent:${DEFAULT_HERMES_IMAGE.tag}@${DEFAULT_HERMES_IMAGE.digest}`,
    );
    expect(imageWarnings).toEqual([]);
  });

  it("accepts a release tag with a digest quietly", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const { agent, imageWarnings } = parse((a) => {
      a.imageTag = "v0.21.6";
      a.imageDigest = digest;
    });
    expect(agent.imageRef).toBe(`nousresearch/hermes-agent:v0.21.6@${digest}`);
    expect(imageWarnings).toEqual([]);
  });

  // Every form hermes has published (_SEMVER_TAG_RE and _LEGACY_CALVER_TAG_RE of its release tooling; canary tags
  // v<next patch>-canary.<YYYYMMDDHHMMSS> or -canary.<YYYYMMDD>, hermes_cli/update_channel.py _CANARY_TAG_RE
  // @00067189): quiet with a digest.
  it.each([
    "v0.21.6",
    "v2026.9.14",
    "v2026.9.14.1",
    "v0.22.0-canary.20261201080000",
    "v0.21.7-canary.20261201",
    "v1.0.0-rc.1",
  ])("accepts the published tag form %s with a digest quietly", (tag) => {
    const { imageWarnings } = parse((a) => {
      a.imageTag = tag;
      a.imageDigest = `sha256:${"b".repeat(64)}`;
    });
    expect(imageWarnings).toEqual([]);
  });

  it.each([
    ["0.21.3", /is not one of hermes' release tags .*the pull may fail/],
    ["v1999.1.1", /is not one of hermes' release tags .*the pull may fail/],
    ["v2026.9", /is not one of hermes' release tags .*the pull may fail/],
    ["v2026.9.14.1.2", /is not one of hermes' release tags .*the pull may fail/],
    ["main", /is not one of hermes' release tags .*: it follows hermes' main branch/],
    ["latest", /is not one of hermes' release tags .*: it follows hermes' main branch/],
  ])("warns on the tag %s, outside hermes' scheme, and on a missing digest", (tag, why) => {
    const { agent, imageWarnings } = parse((a) => {
      a.imageTag = tag;
      delete a.imageDigest;
    });
    expect(agent.imageRef).toBe(`nousresearch/hermes-agent:${tag}`);
    expect(imageWarnings).toEqual([
      expect.stringMatching(new RegExp(`^agents\\.hermes\\.imageTag: ${why.source}`)),
      expect.stringMatching(/^agents\.hermes\.imageDigest: not set/),
    ]);
  });
});

describe("the LLM key in config.yaml", () => {
  it("references the key's .env variable when the stack holds a key", () => {
    const { agent } = parse(() => {});
    expect(agentConfigYaml(agent)).toMatch(/api_key: \$\{LITELLM_API_KEY\}/);
  });

  it("carries no api_key at all without a key (hermes would send the text ${VAR} as the key)", () => {
    const { agent } = parse((_a, s) => delete s.llmApiKey);
    const yaml = agentConfigYaml(agent);
    expect(yaml).toContain("base_url:");
    expect(yaml).not.toContain("api_key");
  });
});

describe("dashboard sessions", () => {
  it("are signed with a key derived from the password, so they survive restarts and end with a new password", () => {
    const env = (password: string) => {
      const { agent } = parse((a, s) => {
        a.dashboard = { enabled: true, bind: "127.0.0.1", basicAuthUser: "admin" };
        s.dashboardPassword = password;
      });
      const secrets = { dashboardPassword: password, env: {} };
      return Object.fromEntries(agentEnvVars(agent, secrets).map((v) => [v.name, v.value]));
    };
    const a = env("correct horse battery");
    expect(a.HERMES_DASHBOARD_BASIC_AUTH_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect(env("correct horse battery").HERMES_DASHBOARD_BASIC_AUTH_SECRET).toBe(
      a.HERMES_DASHBOARD_BASIC_AUTH_SECRET,
    );
    expect(env("another password!").HERMES_DASHBOARD_BASIC_AUTH_SECRET).not.toBe(
      a.HERMES_DASHBOARD_BASIC_AUTH_SECRET,
    );
    expect(a.HERMES_DASHBOARD_BASIC_AUTH_SECRET).not.toContain("correct");
  });
});

describe("the agent's .env, exactly", () => {
  // Every variable the program writes, from each source, with its value: a name or value slip, a source dropped or a
  // skipped empty value written shows here.
  it("LLM key, platform token and allow-list, API server, dashboard, environment and secret env; empty values left out", () => {
    const { agent } = parse((a, s) => {
      a.apiServer = { enabled: true };
      a.dashboard = { enabled: true, bind: "127.0.0.1", basicAuthUser: "admin" };
      a.environment = { FEATURE: "on", EMPTY: "" };
      s.apiServerKey = "0123456789abcdef0123";
      s.dashboardPassword = "dash-pw";
      s.env = { GH_PAT: "gh-secret" };
    });
    const secrets = {
      llmApiKey: "llm-key",
      telegramBotToken: "123456:tg-token",
      apiServerKey: "0123456789abcdef0123",
      dashboardPassword: "dash-pw",
      env: { GH_PAT: "gh-secret" },
    };
    const sessionKey = createHmac("sha256", "dash-pw")
      .update("hermes-lxc dashboard session key for agent hermes")
      .digest("hex");
    expect(agentEnvVars(agent, secrets)).toEqual([
      { name: "LITELLM_API_KEY", value: "llm-key" },
      { name: "TELEGRAM_BOT_TOKEN", value: "123456:tg-token" },
      { name: "API_SERVER_ENABLED", value: "true" },
      { name: "API_SERVER_HOST", value: "0.0.0.0" },
      { name: "API_SERVER_PORT", value: "8642" },
      { name: "API_SERVER_KEY", value: "0123456789abcdef0123" },
      { name: "HERMES_DASHBOARD_BASIC_AUTH_USERNAME", value: "admin" },
      { name: "HERMES_DASHBOARD_BASIC_AUTH_PASSWORD", value: "dash-pw" },
      { name: "HERMES_DASHBOARD_BASIC_AUTH_SECRET", value: sessionKey },
      { name: "FEATURE", value: "on" },
      { name: "GH_PAT", value: "gh-secret" },
    ]);
  });

  it("without a key, no key variable; without the API server or dashboard, none of theirs", () => {
    const { agent } = parse((_a, s) => delete s.llmApiKey);
    expect(agentEnvVars(agent, { telegramBotToken: "123456:tg-token", env: {} })).toEqual([
      { name: "TELEGRAM_BOT_TOKEN", value: "123456:tg-token" },
    ]);
  });

  it("an API server or dashboard switched off keeps its key and password out of .env, though both are still set", () => {
    const { agent } = parse((a) => {
      a.apiServer = { enabled: false };
      a.dashboard = { enabled: false, bind: "127.0.0.1", basicAuthUser: "admin" };
    });
    const secrets = {
      llmApiKey: "llm-key",
      telegramBotToken: "123456:tg-token",
      apiServerKey: "0123456789abcdef0123",
      dashboardPassword: "dash-pw",
      env: {},
    };
    expect(agentEnvVars(agent, secrets)).toEqual([
      { name: "LITELLM_API_KEY", value: "llm-key" },
      { name: "TELEGRAM_BOT_TOKEN", value: "123456:tg-token" },
    ]);
  });
});
