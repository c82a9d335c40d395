/**
 * The messaging-platform registry (components/config/platforms) against what hermes reads. HERMES_READS is hermes'
 * own list, copied by hand from upstream: website/docs/reference/environment-variables.md ("Messaging") and the
 * `Platform` enum of gateway/config.py, NousResearch/hermes-agent @00067189. A platform module that writes a variable
 * hermes does not read, or forgets the one that enables the platform, fails here.
 */
import { PLATFORMS } from "../../components/config/platforms";
import { joined } from "../../components/config/platforms/platform";
import { ConfigError } from "../../components/config/errors";
import { parseStackConfig } from "../../components/config/stack";
import { agentEnvVars, agentFilesPayload } from "../../components/gateway/agentPayload";
import { gatewayContainerSpec } from "../../components/gateway/gatewaySpec";
import { pairingPlatforms, requiredPlatforms } from "../../components/gateway/gatewayScripts";
import { FULL } from "../helpers/platformBlocks";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

/** Per hermes platform name: every variable hermes documents for it, and what enables it (gateway/config.py). */
const HERMES_READS: Record<string, { documented: string[]; enabledBy: string[][] }> = {
  telegram: {
    documented: [
      "TELEGRAM_BOT_TOKEN",
      "TELEGRAM_ALLOWED_USERS",
      "TELEGRAM_ALLOW_ALL_USERS",
      "TELEGRAM_GROUP_ALLOWED_USERS",
      "TELEGRAM_GROUP_ALLOWED_CHATS",
      "TELEGRAM_HOME_CHANNEL",
      "TELEGRAM_REQUIRE_MENTION",
    ],
    enabledBy: [["TELEGRAM_BOT_TOKEN"]],
  },
  discord: {
    documented: [
      "DISCORD_BOT_TOKEN",
      "DISCORD_ALLOWED_USERS",
      "DISCORD_ALLOW_ALL_USERS",
      "DISCORD_ALLOWED_ROLES",
      "DISCORD_ALLOWED_CHANNELS",
      "DISCORD_HOME_CHANNEL",
      "DISCORD_REQUIRE_MENTION",
    ],
    enabledBy: [["DISCORD_BOT_TOKEN"]],
  },
  slack: {
    documented: [
      "SLACK_BOT_TOKEN",
      "SLACK_APP_TOKEN",
      "SLACK_ALLOWED_USERS",
      "SLACK_ALLOW_ALL_USERS",
      "SLACK_HOME_CHANNEL",
    ],
    enabledBy: [["SLACK_BOT_TOKEN"]],
  },
  matrix: {
    documented: [
      "MATRIX_HOMESERVER",
      "MATRIX_ACCESS_TOKEN",
      "MATRIX_USER_ID",
      "MATRIX_PASSWORD",
      "MATRIX_ALLOWED_USERS",
      "MATRIX_ALLOW_ALL_USERS",
      "MATRIX_ALLOWED_ROOMS",
      "MATRIX_HOME_ROOM",
      "MATRIX_ENCRYPTION",
      "MATRIX_DEVICE_ID",
      "MATRIX_REQUIRE_MENTION",
      "MATRIX_RECOVERY_KEY",
    ],
    enabledBy: [["MATRIX_ACCESS_TOKEN"], ["MATRIX_PASSWORD"]],
  },
  mattermost: {
    documented: [
      "MATTERMOST_URL",
      "MATTERMOST_TOKEN",
      "MATTERMOST_ALLOWED_USERS",
      "MATTERMOST_ALLOW_ALL_USERS",
      "MATTERMOST_ALLOWED_CHANNELS",
      "MATTERMOST_HOME_CHANNEL",
      "MATTERMOST_REQUIRE_MENTION",
    ],
    enabledBy: [["MATTERMOST_TOKEN"]],
  },
  signal: {
    documented: [
      "SIGNAL_HTTP_URL",
      "SIGNAL_ACCOUNT",
      "SIGNAL_ALLOWED_USERS",
      "SIGNAL_GROUP_ALLOWED_USERS",
      "SIGNAL_ALLOW_ALL_USERS",
    ],
    enabledBy: [["SIGNAL_HTTP_URL", "SIGNAL_ACCOUNT"]],
  },
  whatsapp: {
    documented: ["WHATSAPP_ENABLED", "WHATSAPP_MODE", "WHATSAPP_ALLOWED_USERS", "WHATSAPP_ALLOW_ALL_USERS"],
    enabledBy: [["WHATSAPP_ENABLED"]],
  },
  email: {
    documented: [
      "EMAIL_ADDRESS",
      "EMAIL_PASSWORD",
      "EMAIL_IMAP_HOST",
      "EMAIL_IMAP_PORT",
      "EMAIL_SMTP_HOST",
      "EMAIL_SMTP_PORT",
      "EMAIL_ALLOWED_USERS",
      "EMAIL_HOME_ADDRESS",
      "EMAIL_POLL_INTERVAL",
      "EMAIL_ALLOW_ALL_USERS",
    ],
    enabledBy: [["EMAIL_ADDRESS", "EMAIL_PASSWORD", "EMAIL_IMAP_HOST", "EMAIL_SMTP_HOST"]],
  },
  sms: {
    documented: [
      "TWILIO_ACCOUNT_SID",
      "TWILIO_AUTH_TOKEN",
      "TWILIO_PHONE_NUMBER",
      "SMS_WEBHOOK_URL",
      "SMS_WEBHOOK_PORT",
      "SMS_WEBHOOK_HOST",
      "SMS_ALLOWED_USERS",
      "SMS_ALLOW_ALL_USERS",
      "SMS_HOME_CHANNEL",
    ],
    enabledBy: [["TWILIO_ACCOUNT_SID"]],
  },
  whatsapp_cloud: {
    documented: [
      "WHATSAPP_CLOUD_PHONE_NUMBER_ID",
      "WHATSAPP_CLOUD_ACCESS_TOKEN",
      "WHATSAPP_CLOUD_APP_SECRET",
      "WHATSAPP_CLOUD_VERIFY_TOKEN",
      "WHATSAPP_CLOUD_ALLOWED_USERS",
      "WHATSAPP_CLOUD_ALLOW_ALL_USERS",
      "WHATSAPP_CLOUD_APP_ID",
      "WHATSAPP_CLOUD_WABA_ID",
      "WHATSAPP_CLOUD_WEBHOOK_HOST",
      "WHATSAPP_CLOUD_WEBHOOK_PORT",
      "WHATSAPP_CLOUD_WEBHOOK_PATH",
      "WHATSAPP_CLOUD_API_VERSION",
      "WHATSAPP_CLOUD_HOME_CHANNEL",
    ],
    enabledBy: [["WHATSAPP_CLOUD_PHONE_NUMBER_ID", "WHATSAPP_CLOUD_ACCESS_TOKEN"]],
  },
  dingtalk: {
    documented: [
      "DINGTALK_CLIENT_ID",
      "DINGTALK_CLIENT_SECRET",
      "DINGTALK_ALLOWED_USERS",
      "DINGTALK_ALLOW_ALL_USERS", // gateway/run.py platform_allow_all_map
      "DINGTALK_WEBHOOK_URL",
      "DINGTALK_HOME_CHANNEL",
    ],
    enabledBy: [["DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET"]],
  },
  feishu: {
    documented: [
      "FEISHU_APP_ID",
      "FEISHU_APP_SECRET",
      "FEISHU_DOMAIN",
      "FEISHU_CONNECTION_MODE",
      "FEISHU_ENCRYPT_KEY",
      "FEISHU_VERIFICATION_TOKEN",
      "FEISHU_ALLOWED_USERS",
      "FEISHU_REQUIRE_MENTION",
      "FEISHU_HOME_CHANNEL",
      "FEISHU_ALLOW_ALL_USERS",
    ],
    enabledBy: [["FEISHU_APP_ID", "FEISHU_APP_SECRET"]],
  },
  wecom: {
    documented: [
      "WECOM_BOT_ID",
      "WECOM_SECRET",
      "WECOM_WEBSOCKET_URL",
      "WECOM_ALLOWED_USERS",
      "WECOM_ALLOW_ALL_USERS", // gateway/run.py platform_allow_all_map
      "WECOM_HOME_CHANNEL",
    ],
    enabledBy: [["WECOM_BOT_ID", "WECOM_SECRET"]],
  },
  wecom_callback: {
    documented: [
      "WECOM_CALLBACK_CORP_ID",
      "WECOM_CALLBACK_CORP_SECRET",
      "WECOM_CALLBACK_AGENT_ID",
      "WECOM_CALLBACK_TOKEN",
      "WECOM_CALLBACK_ENCODING_AES_KEY",
      "WECOM_CALLBACK_HOST",
      "WECOM_CALLBACK_PORT",
      "WECOM_CALLBACK_ALLOWED_USERS",
      "WECOM_CALLBACK_ALLOW_ALL_USERS",
    ],
    enabledBy: [["WECOM_CALLBACK_CORP_ID", "WECOM_CALLBACK_CORP_SECRET"]],
  },
  weixin: {
    documented: [
      "WEIXIN_ACCOUNT_ID",
      "WEIXIN_TOKEN",
      "WEIXIN_BASE_URL",
      "WEIXIN_CDN_BASE_URL",
      "WEIXIN_DM_POLICY",
      "WEIXIN_GROUP_POLICY",
      "WEIXIN_ALLOWED_USERS",
      "WEIXIN_GROUP_ALLOWED_USERS",
      "WEIXIN_HOME_CHANNEL",
      "WEIXIN_ALLOW_ALL_USERS",
    ],
    enabledBy: [["WEIXIN_TOKEN"], ["WEIXIN_ACCOUNT_ID"]],
  },
  bluebubbles: {
    documented: [
      "BLUEBUBBLES_SERVER_URL",
      "BLUEBUBBLES_PASSWORD",
      "BLUEBUBBLES_WEBHOOK_HOST",
      "BLUEBUBBLES_WEBHOOK_PORT",
      "BLUEBUBBLES_HOME_CHANNEL",
      "BLUEBUBBLES_ALLOWED_USERS",
      "BLUEBUBBLES_ALLOW_ALL_USERS",
    ],
    enabledBy: [["BLUEBUBBLES_SERVER_URL", "BLUEBUBBLES_PASSWORD"]],
  },
  qqbot: {
    documented: [
      "QQ_APP_ID",
      "QQ_CLIENT_SECRET",
      "QQ_ALLOWED_USERS",
      "QQ_GROUP_ALLOWED_USERS",
      "QQ_ALLOW_ALL_USERS",
      "QQBOT_HOME_CHANNEL",
      "QQ_SANDBOX",
    ],
    enabledBy: [["QQ_APP_ID"], ["QQ_CLIENT_SECRET"]],
  },
  yuanbao: {
    documented: [
      "YUANBAO_APP_ID",
      "YUANBAO_APP_SECRET",
      "YUANBAO_WS_URL",
      "YUANBAO_API_DOMAIN",
      "YUANBAO_BOT_ID",
      "YUANBAO_ROUTE_ENV",
      "YUANBAO_HOME_CHANNEL",
      "YUANBAO_ALLOWED_USERS",
      "YUANBAO_ALLOW_ALL_USERS", // gateway/run.py platform_allow_all_map
      "YUANBAO_DM_POLICY",
      "YUANBAO_DM_ALLOW_FROM",
      "YUANBAO_GROUP_POLICY",
      "YUANBAO_GROUP_ALLOW_FROM",
    ],
    enabledBy: [["YUANBAO_APP_ID", "YUANBAO_APP_SECRET"]],
  },
  msgraph_webhook: {
    documented: [
      "MSGRAPH_WEBHOOK_ENABLED",
      "MSGRAPH_WEBHOOK_PORT",
      "MSGRAPH_WEBHOOK_CLIENT_STATE",
      "MSGRAPH_WEBHOOK_ACCEPTED_RESOURCES",
      "MSGRAPH_WEBHOOK_ALLOWED_SOURCE_CIDRS",
    ],
    enabledBy: [["MSGRAPH_WEBHOOK_ENABLED"]],
  },
  // Plugin platforms (plugins/platforms/*): gateway/config.py _apply_env_overrides enables one when its registry
  // entry's is_connected passes; enabledBy is the entry's required_env (ctx.register_platform in its adapter.py).
  google_chat: {
    documented: [
      "GOOGLE_CHAT_PROJECT_ID",
      "GOOGLE_CHAT_SUBSCRIPTION_NAME",
      "GOOGLE_CHAT_SERVICE_ACCOUNT_JSON",
      "GOOGLE_CHAT_ALLOWED_USERS",
      "GOOGLE_CHAT_ALLOW_ALL_USERS",
      "GOOGLE_CHAT_HOME_CHANNEL",
    ],
    // required_env ["GOOGLE_CHAT_SERVICE_ACCOUNT_JSON"]; _is_connected also needs extra.project_id (_apply_env_overrides).
    enabledBy: [["GOOGLE_CHAT_PROJECT_ID", "GOOGLE_CHAT_SERVICE_ACCOUNT_JSON"]],
  },
  teams: {
    documented: [
      "TEAMS_CLIENT_ID",
      "TEAMS_CLIENT_SECRET",
      "TEAMS_TENANT_ID",
      "TEAMS_HOST",
      "TEAMS_PORT",
      "TEAMS_ALLOWED_USERS",
      "TEAMS_ALLOW_ALL_USERS",
      "TEAMS_HOME_CHANNEL",
    ],
    enabledBy: [["TEAMS_CLIENT_ID", "TEAMS_CLIENT_SECRET", "TEAMS_TENANT_ID"]],
  },
  line: {
    documented: [
      "LINE_CHANNEL_ACCESS_TOKEN",
      "LINE_CHANNEL_SECRET",
      "LINE_HOST",
      "LINE_PORT",
      "LINE_PUBLIC_URL",
      "LINE_ALLOWED_USERS",
      "LINE_ALLOWED_GROUPS",
      "LINE_ALLOWED_ROOMS",
      "LINE_ALLOW_ALL_USERS",
      "LINE_HOME_CHANNEL",
    ],
    enabledBy: [["LINE_CHANNEL_ACCESS_TOKEN", "LINE_CHANNEL_SECRET"]],
  },
  ntfy: {
    documented: [
      "NTFY_TOPIC",
      "NTFY_SERVER_URL",
      "NTFY_TOKEN",
      "NTFY_PUBLISH_TOPIC",
      "NTFY_MARKDOWN",
      "NTFY_ALLOWED_USERS",
      "NTFY_ALLOW_ALL_USERS",
      "NTFY_HOME_CHANNEL",
    ],
    enabledBy: [["NTFY_TOPIC"]],
  },
  irc: {
    documented: [
      "IRC_SERVER",
      "IRC_CHANNEL",
      "IRC_NICKNAME",
      "IRC_PORT",
      "IRC_USE_TLS",
      "IRC_SERVER_PASSWORD",
      "IRC_NICKSERV_PASSWORD",
      "IRC_ALLOWED_USERS",
      "IRC_ALLOW_ALL_USERS",
      "IRC_HOME_CHANNEL",
    ],
    enabledBy: [["IRC_SERVER", "IRC_CHANNEL", "IRC_NICKNAME"]],
  },
  simplex: {
    documented: [
      "SIMPLEX_WS_URL",
      "SIMPLEX_ALLOWED_USERS",
      "SIMPLEX_ALLOW_ALL_USERS",
      "SIMPLEX_AUTO_ACCEPT",
      "SIMPLEX_GROUP_ALLOWED",
      "SIMPLEX_HOME_CHANNEL",
    ],
    enabledBy: [["SIMPLEX_WS_URL"]],
  },
  photon: {
    documented: [
      "PHOTON_PROJECT_ID",
      "PHOTON_PROJECT_SECRET",
      "PHOTON_ALLOWED_USERS",
      "PHOTON_ALLOW_ALL_USERS",
      "PHOTON_REQUIRE_MENTION",
      "PHOTON_HOME_CHANNEL",
    ],
    enabledBy: [["PHOTON_PROJECT_ID", "PHOTON_PROJECT_SECRET"]],
  },
  buzz: {
    documented: [
      "BUZZ_RELAY_URL",
      "BUZZ_PRIVATE_KEY",
      "BUZZ_CHANNELS",
      "BUZZ_HOME_CHANNEL",
      "BUZZ_ALLOWED_USERS",
      "BUZZ_ALLOW_ALL_USERS",
      "BUZZ_CLI_PATH",
    ],
    enabledBy: [["BUZZ_RELAY_URL", "BUZZ_PRIVATE_KEY"]],
  },
  homeassistant: { documented: ["HASS_TOKEN", "HASS_URL"], enabledBy: [["HASS_TOKEN"]] },
  webhook: {
    documented: ["WEBHOOK_ENABLED", "WEBHOOK_PORT", "WEBHOOK_SECRET"],
    enabledBy: [["WEBHOOK_ENABLED"]],
  },
};

/** hermes' platforms that connect only after an interactive QR login: the health gate does not wait for them. */
const CONNECT_AFTER_QR_LOGIN = ["whatsapp", "weixin"];

const opts = { readFile: readProjectFile };
type Raw = {
  agents: Record<string, Record<string, unknown>>;
  agentSecrets: Record<string, Record<string, unknown>>;
  dockerHosts?: Record<string, unknown>;
};

function withPlatforms(platforms: string[], edit: (raw: Raw) => void = () => {}) {
  const raw = homelabWithSecrets() as unknown as Raw;
  const agent = raw.agents.hermes;
  const secrets = raw.agentSecrets.hermes;
  agent.platforms = {};
  delete secrets.telegramBotToken;
  for (const key of platforms) {
    (agent.platforms as Record<string, unknown>)[key] = structuredClone(FULL[key].block);
    Object.assign(secrets, FULL[key].secrets);
  }
  // Platforms whose SDK the published image lacks run on an image built with it.
  if (PLATFORMS.some((p) => platforms.includes(p.key) && p.imageLacks?.(FULL[p.key].block)))
    agent.image = "registry.example.org/hermes-agent-full";
  edit(raw);
  return parseStackConfig(raw, opts);
}

/** True when the agent's files (its .env among them) render; false when a value reached .env that it cannot hold. */
function renders(
  agent: Parameters<typeof agentFilesPayload>[0],
  secrets: Parameters<typeof agentFilesPayload>[1],
) {
  try {
    agentFilesPayload(agent, secrets);
    return true;
  } catch {
    return false;
  }
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("the messaging-platform registry", () => {
  it("covers the platforms the README promises, each under hermes' own name", () => {
    expect(PLATFORMS.map((p) => p.hermesName).sort()).toEqual(Object.keys(HERMES_READS).sort());
    expect(Object.keys(FULL).sort()).toEqual(PLATFORMS.map((p) => p.key).sort());
  });

  it.each(PLATFORMS.map((p) => [p.key, p] as const))(
    "%s renders only variables hermes reads for it, including the ones that enable it",
    (key, platform) => {
      const parsed = withPlatforms([key]);
      const agent = parsed.config.agents[0];
      const vars = agentEnvVars(agent, parsed.secrets.agents.hermes);
      const names = vars.map((v) => v.name);
      const reads = HERMES_READS[platform.hermesName];
      const own = names.filter((n) => reads.documented.includes(n));
      // Everything else in .env is the LLM key and the stack's own variables, none of them platform variables.
      const other = names.filter((n) => !own.includes(n));
      expect(other.filter((n) => Object.values(HERMES_READS).some((r) => r.documented.includes(n)))).toEqual(
        [],
      );
      // Every variable the module declares is one hermes documents for this platform...
      const declared = [...Object.keys(platform.variables), ...platform.secrets.map((s) => s.env)];
      expect(declared.filter((n) => !reads.documented.includes(n))).toEqual([]);
      // ...and with every field set, each renders, and hermes sees what enables the platform.
      expect([...own].sort()).toEqual(
        declared.filter((n) => !(key === "matrix" && n === "MATRIX_PASSWORD")).sort(),
      );
      expect(reads.enabledBy.some((set) => set.every((n) => own.includes(n)))).toBe(true);
    },
  );

  it("renders list fields comma-separated, as hermes splits them", () => {
    const parsed = withPlatforms(["telegram", "signal"]);
    const env = Object.fromEntries(
      agentEnvVars(parsed.config.agents[0], parsed.secrets.agents.hermes).map((v) => [v.name, v.value]),
    );
    expect(env.TELEGRAM_GROUP_ALLOWED_CHATS).toBe("-1001234567890");
    expect(env.SIGNAL_ALLOWED_USERS).toBe("+15557654321,0b9f1c2e-1111-2222-3333-444455556666");
    expect(env.TELEGRAM_BOT_TOKEN).toBe("123456:tg-token-abcdef");
  });

  // Both blocks reach the same .env: `environment` (plain) and `agentSecrets.<agent>.env` (secret), and so does the
  // name llm.apiKeyEnv picks. The reserved-name rule holds on each path.
  it.each(PLATFORMS.map((p) => [p.key, p] as const))(
    "%s's variables are reserved: neither the stack's environment nor its secret env nor llm.apiKeyEnv may set them",
    (key, platform) => {
      for (const name of [...Object.keys(platform.variables), ...platform.secrets.map((s) => s.env)]) {
        const plain = problemsOf(() =>
          withPlatforms([key], (raw) => {
            raw.agents.hermes.environment = { [name]: "x" };
          }),
        );
        expect(plain).toContainEqual(
          expect.stringMatching(
            new RegExp(`^agents\\.hermes\\.environment\\.${name}: is managed by the program`),
          ),
        );
        const secret = problemsOf(() =>
          withPlatforms([key], (raw) => {
            raw.agentSecrets.hermes.env = { [name]: "x" };
          }),
        );
        expect(secret).toContainEqual(
          expect.stringMatching(
            new RegExp(`^agentSecrets\\.hermes\\.env\\.${name}: is managed by the program`),
          ),
        );
        const apiKeyEnv = problemsOf(() =>
          withPlatforms([key], (raw) => {
            (raw.agents.hermes.llm as Record<string, unknown>).apiKeyEnv = name;
          }),
        );
        expect(apiKeyEnv).toContainEqual(
          expect.stringMatching(
            /^agents\.hermes\.llm\.apiKeyEnv: names a variable the program writes itself/,
          ),
        );
      }
    },
  );

  // Every platform value that lands in .env passes .env's rules at parse time, before any resource: a value the
  // schema let through and renderEnvFile then refused would fail inside the files step's apply, mid-deployment.
  it.each(PLATFORMS.map((p) => [p.key] as const))(
    "%s: every string of its block or its secrets is refused at parse time or renders into .env",
    (key) => {
      const leaves = (v: unknown, at: Array<string | number> = []): Array<Array<string | number>> =>
        typeof v === "string"
          ? [at]
          : v && typeof v === "object"
            ? Object.entries(v).flatMap(([k, c]) => leaves(c, [...at, Array.isArray(v) ? Number(k) : k]))
            : [];
      const targets = [
        ...leaves(FULL[key].block).map((at) => ["agents", "hermes", "platforms", key, ...at]),
        ...leaves(FULL[key].secrets).map((at) => ["agentSecrets", "hermes", ...at]),
      ];
      expect(targets.length).toBeGreaterThan(0);
      for (const at of targets) {
        for (const hostile of ["a${HOME}b", "a\nb", "a\u2028b", "caf\u00e9"]) {
          let parsed: ReturnType<typeof withPlatforms> | undefined;
          const problems = problemsOf(() => {
            parsed = withPlatforms([key], (raw) => {
              let node: any = raw;
              for (const k of at.slice(0, -1)) node = node[k];
              node[at[at.length - 1]] = hostile;
            });
          });
          if (problems.length > 0) continue;
          const agent = parsed!.config.agents[0];
          expect({
            at: at.join("."),
            hostile,
            rendered: renders(agent, parsed!.secrets.agents.hermes),
          }).toEqual({
            at: at.join("."),
            hostile,
            rendered: true,
          });
        }
      }
    },
  );

  it.each(
    PLATFORMS.flatMap((p) => p.secrets.filter((s) => s.requiredBecause).map((s) => [p.key, s.key] as const)),
  )("%s needs agentSecrets.<agent>.%s, asked for by its key path", (key, secret) => {
    const problems = problemsOf(() => withPlatforms([key], (raw) => delete raw.agentSecrets.hermes[secret]));
    expect(problems).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^agentSecrets\\.hermes\\.${secret}: is required because agents\\.hermes\\.platforms\\.${key}`,
        ),
      ),
    );
  });

  it("refuses a platform credential whose platform is not enabled", () => {
    const problems = problemsOf(() =>
      withPlatforms(["telegram"], (raw) => (raw.agentSecrets.hermes.mattermostToken = "mm-token-abcdef")),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^agentSecrets\.hermes\.mattermostToken: is set but agents\.hermes\.platforms\.mattermost is not/,
      ),
    ]);
  });

  it("refuses a placeholder credential shorter than the platform's floor, and takes one at the floor", () => {
    const withSecret = (platform: string, key: string, value: string) =>
      problemsOf(() => withPlatforms([platform], (raw) => (raw.agentSecrets.hermes[key] = value)));
    // DingTalk's AppSecret: at least 8 characters; Twilio's auth token: at least 16.
    expect(withSecret("dingtalk", "dingtalkClientSecret", "x".repeat(7))).toEqual([
      "agentSecrets.hermes.dingtalkClientSecret: is too short to be a real credential (placeholder?)",
    ]);
    expect(withSecret("dingtalk", "dingtalkClientSecret", "x".repeat(8))).toEqual([]);
    expect(withSecret("sms", "twilioAuthToken", "x".repeat(15))).toEqual([
      "agentSecrets.hermes.twilioAuthToken: is too short to be a real credential (placeholder?)",
    ]);
    expect(withSecret("sms", "twilioAuthToken", "x".repeat(16))).toEqual([]);
  });

  it("joins an allow-list with commas, and writes no variable for an empty one", () => {
    expect(joined(["a", "b"])).toBe("a,b");
    expect(joined(["a"])).toBe("a");
    expect(joined([])).toBeUndefined();
    expect(joined(undefined)).toBeUndefined();
  });

  // Each allow-list on its own lets someone in, so no pairing guidance; with every one empty (and allowAllUsers off)
  // hermes ignores everyone until a user is paired, which the warning says. A channel list says where the bot
  // answers, not who may talk to it.
  const WHERE_NOT_WHO: Record<string, string[]> = {
    discord: ["allowedChannels"],
    mattermost: ["allowedChannels"],
  };
  it.each(PLATFORMS.filter((p) => p.access).map((p) => [p.key] as const))(
    "%s: any one of its allow-lists counts as an allow-list; none at all is warned about",
    (key) => {
      const full = FULL[key].block;
      const lists = Object.keys(full).filter((k) => Array.isArray(full[k]) && /allowed/i.test(k));
      expect(lists.length).toBeGreaterThan(0);
      const noAllowList = (keep: string | undefined) => {
        const { warnings } = withPlatforms([key], (raw) => {
          const block = (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>)[key];
          block.allowAllUsers = false;
          for (const list of lists) block[list] = list === keep ? full[list] : [];
        });
        return warnings.some((w) => w.startsWith(`agents.hermes.platforms.${key} has no allow-list`));
      };
      expect(noAllowList(undefined)).toBe(true);
      for (const list of lists)
        expect([list, noAllowList(list)]).toEqual([list, !!WHERE_NOT_WHO[key]?.includes(list)]);
    },
  );

  it("matrix takes an access token or a password (hermes takes both), and a password needs the user id", () => {
    const both = problemsOf(() =>
      withPlatforms(["matrix"], (raw) => (raw.agentSecrets.hermes.matrixPassword = "pw-1234567")),
    );
    expect(both).toEqual([]);
    const neither = problemsOf(() =>
      withPlatforms(["matrix"], (raw) => delete raw.agentSecrets.hermes.matrixAccessToken),
    );
    expect(neither).toContainEqual(expect.stringMatching(/set matrixAccessToken or matrixPassword/));
    const password = problemsOf(() =>
      withPlatforms(["matrix"], (raw) => {
        delete raw.agentSecrets.hermes.matrixAccessToken;
        raw.agentSecrets.hermes.matrixPassword = "pw-1234567";
        delete (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>).matrix.userId;
      }),
    );
    expect(password).toEqual([
      expect.stringMatching(/^agents\.hermes\.platforms\.matrix\.userId: is required/),
    ]);
  });

  it("the health gate waits for every enabled platform but those that connect after a QR login (WhatsApp, Weixin)", () => {
    const parsed = withPlatforms(PLATFORMS.map((p) => p.key));
    expect(requiredPlatforms(parsed.config.agents[0])).toEqual(
      Object.keys(HERMES_READS)
        .filter((n) => !CONNECT_AFTER_QR_LOGIN.includes(n))
        .sort(),
    );
  });

  it("gives every platform that listens its own port in the container, and publishes it only when asked", () => {
    const parsed = withPlatforms(PLATFORMS.map((p) => p.key));
    const agent = parsed.config.agents[0];
    const listening = PLATFORMS.filter((p) => p.inbound).map((p) => p.hermesName);
    // gateway/config.py PORT_BINDING_PLATFORM_VALUES (webhook, msgraph_webhook, sms, whatsapp_cloud, wecom_callback,
    // bluebubbles, line; feishu only in webhook mode, not offered; api_server is not a platform block here) plus the
    // Teams plugin's Bot Framework webhook.
    expect(listening.sort()).toEqual(
      [
        "sms",
        "webhook",
        "whatsapp_cloud",
        "wecom_callback",
        "bluebubbles",
        "line",
        "teams",
        "msgraph_webhook",
      ].sort(),
    );
    const containerPorts = agent.ports.map((p) => p.containerPort);
    expect(new Set(containerPorts).size).toBe(containerPorts.length);
  });
});

describe("BlueBubbles' webhook", () => {
  it("tells the user to register the published address: hermes registers localhost, which the Mac cannot reach", () => {
    const published = withPlatforms(["bluebubbles"]);
    expect(published.warnings).toContainEqual(
      expect.stringMatching(
        /^agents\.hermes\.platforms\.bluebubbles: hermes registers its webhook .* add http:\/\/<this host>:8647\/bluebubbles-webhook\?password=<the server password>/,
      ),
    );
    const quiet = withPlatforms(["bluebubbles"], (raw) => {
      delete (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>).bluebubbles.publish;
    });
    expect(quiet.warnings).toContainEqual(
      expect.stringMatching(
        /^agents\.hermes\.platforms\.bluebubbles\.publish is not set: .*no message arrives/,
      ),
    );
    // The password stays out of the message: it names the setting, never the value.
    expect(JSON.stringify(published.warnings)).not.toContain(FULL.bluebubbles.secrets.bluebubblesPassword);
  });
});

describe("platforms the published image cannot run", () => {
  // Dockerfile @00067189 builds the sealed venv with --extra all, messaging, otlp, anthropic, bedrock,
  // azure-identity, hindsight, matrix, google-chat and sets HERMES_DISABLE_LAZY_INSTALLS=1; pyproject.toml @00067189
  // keeps dingtalk-stream, lark-oapi and microsoft-teams-apps in their own extras, outside those. Buzz drives a CLI.
  const LACKING = ["dingtalk", "feishu", "teams", "buzz"];

  it.each(LACKING)("%s is refused on nousresearch/hermes-agent, before any resource", (key) => {
    const problems = problemsOf(() =>
      withPlatforms([key], (raw) => {
        raw.agents.hermes.image = "nousresearch/hermes-agent";
        delete (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>)[key].cliPath;
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^agents\\.hermes\\.platforms\\.${key}: the nousresearch/hermes-agent image does not ship .*HERMES_DISABLE_LAZY_INSTALLS=1.*agents\\.hermes\\.image`,
        ),
      ),
    ]);
  });

  it.each(LACKING)("%s is warned about on another image", (key) => {
    const parsed = withPlatforms([key], (raw) => {
      raw.agents.hermes.image = "registry.example.org/hermes-agent-full";
      delete (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>)[key].cliPath;
    });
    expect(parsed.warnings).toContainEqual(
      expect.stringMatching(
        new RegExp(`^agents\\.hermes\\.platforms\\.${key}: agents\\.hermes\\.image must ship`),
      ),
    );
  });

  it("only those: every other platform runs on the published image", () => {
    const others = PLATFORMS.filter((p) => !LACKING.includes(p.key)).map((p) => p.key);
    expect(problemsOf(() => withPlatforms(others))).toEqual([]);
  });
});

describe("the webhook's inbound port", () => {
  const spec = (agent: ReturnType<typeof withPlatforms>["config"]["agents"][number]) =>
    gatewayContainerSpec(agent, { maxSize: "10m", maxFile: 3 });

  it("is published only when asked for", () => {
    const published = withPlatforms(["webhook"]).config.agents[0];
    expect(spec(published).ports).toEqual([
      { internal: 8644, external: 8644, ip: "0.0.0.0", protocol: "tcp" },
    ]);
    const quiet = withPlatforms(["webhook"], (raw) => {
      delete (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>).webhook.publish;
    }).config.agents[0];
    expect(spec(quiet).ports).toEqual([]);
  });

  it("may not take the LXC's sshd port or another listener's port on an overlapping address", () => {
    const port =
      (p: number, bind = "0.0.0.0") =>
      (raw: Raw) => {
        (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>).webhook.publish = {
          port: p,
          bind,
        };
      };
    expect(problemsOf(() => withPlatforms(["webhook"], port(22)))).toEqual([
      "agents.hermes.platforms.webhook.publish.port: port 22 is already taken on that machine by the sshd of lxcs.hermes",
    ]);
    const withApi = (p: number, bind: string) => (raw: Raw) => {
      port(p, bind)(raw);
      raw.agents.hermes.apiServer = { enabled: true, port: 8642, bind: "10.1.10.30" };
      raw.agentSecrets.hermes.apiServerKey = "0123456789abcdef0123";
    };
    // Same port: the wildcard overlaps every address, a different address does not.
    expect(problemsOf(() => withPlatforms(["webhook"], withApi(8642, "0.0.0.0")))).toEqual([
      expect.stringMatching(
        /^agents\.hermes\.platforms\.webhook\.publish\.port: port 8642 is already taken on that machine by agents\.hermes\.apiServer\.port/,
      ),
    ]);
    expect(problemsOf(() => withPlatforms(["webhook"], withApi(8642, "127.0.0.1")))).toEqual([]);
  });

  it("tells hosts apart by address: two Docker host entries for one machine share its ports", () => {
    const problems = problemsOf(() =>
      withPlatforms(["telegram"], (raw) => {
        const hostKey = (raw as any).proxmox.nodes.gihyeon.hostKey;
        raw.dockerHosts = {
          box: { address: "10.1.10.50", hostKey },
          "box-again": { address: "10.1.10.50", hostKey, dataRoot: "/srv/other" },
        };
        for (const [name, host] of [
          ["one", "box"],
          ["two", "box-again"],
        ]) {
          raw.agents[name] = { dockerHost: host, apiServer: { enabled: true } };
          raw.agentSecrets[name] = { apiServerKey: "0123456789abcdef0123" };
        }
      }),
    );
    expect(problems).toEqual([
      "agents.two.apiServer.port: port 8642 is already taken on that machine by agents.one.apiServer.port",
    ]);
  });
});

describe("pairing commands", () => {
  it("exist for the platforms with senders to allow, WhatsApp included, and not for Home Assistant or the webhook", () => {
    const parsed = withPlatforms(PLATFORMS.map((p) => p.key));
    expect(pairingPlatforms(parsed.config.agents[0])).toEqual([
      "telegram",
      "discord",
      "slack",
      "matrix",
      "mattermost",
      "signal",
      "whatsapp",
      "whatsapp_cloud",
      "email",
      "sms",
      "bluebubbles",
      "dingtalk",
      "feishu",
      "wecom",
      "wecom_callback",
      "weixin",
      "qqbot",
      "yuanbao",
      "google_chat",
      "teams",
      "line",
      "ntfy",
      "irc",
      "simplex",
      "photon",
      "buzz",
    ]);
  });
});
