/**
 * Who may talk to the agent is decided in one place: the typed platform blocks. Every variable hermes reads to widen
 * who may use the bot, or what a sender may do, is either written by a platform module (typed, warned about when it
 * opens the bot) or refused in `environment` and in `agentSecrets.<a>.env` with a message naming the typed setting.
 * The list is hermes' own, at NousResearch/hermes-agent: gateway/run.py `_is_user_authorized` (`platform_env_map`,
 * `platform_allow_all_map`, `platform_group_chat_env_map`, `platform_allow_bots_map`, GATEWAY_ALLOWED_USERS,
 * GATEWAY_ALLOW_ALL_USERS), gateway/pairing.py `_PLATFORM_ALLOWLIST_ENV`, gateway/config.py `_apply_env_overrides`
 * (the Weixin/WhatsApp Cloud policies) and website/docs/reference/environment-variables.md @00067189.
 */
import { PLATFORMS } from "../../components/config/platforms";
import { ACCESS_NAME } from "../../components/config/platforms/access";
import { ConfigError } from "../../components/config/errors";
import { parseStackConfig } from "../../components/config/stack";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

/** Per variable: the typed setting the refusal must name (a fragment of its key path). */
const UPSTREAM_ACCESS_VARIABLES: Record<string, string> = {
  // gateway/run.py _is_user_authorized: the global allow-list and allow-all.
  GATEWAY_ALLOWED_USERS: "platforms.<platform>.allowedUsers",
  GATEWAY_ALLOW_ALL_USERS: "platforms.<platform>.allowAllUsers",
  // platform_allow_all_map / platform_env_map (and pairing.py _PLATFORM_ALLOWLIST_ENV), built-in platforms.
  TELEGRAM_ALLOW_ALL_USERS: "platforms.telegram",
  TELEGRAM_ALLOWED_USERS: "platforms.telegram",
  TELEGRAM_GROUP_ALLOWED_USERS: "platforms.telegram",
  TELEGRAM_GROUP_ALLOWED_CHATS: "platforms.telegram",
  DISCORD_ALLOW_ALL_USERS: "platforms.discord",
  DISCORD_ALLOWED_USERS: "platforms.discord",
  DISCORD_ALLOWED_ROLES: "platforms.discord",
  DISCORD_ALLOWED_CHANNELS: "platforms.discord",
  WHATSAPP_ALLOW_ALL_USERS: "platforms.whatsapp",
  WHATSAPP_ALLOWED_USERS: "platforms.whatsapp",
  WHATSAPP_CLOUD_ALLOW_ALL_USERS: "platforms.whatsappCloud",
  WHATSAPP_CLOUD_ALLOWED_USERS: "platforms.whatsappCloud",
  SLACK_ALLOW_ALL_USERS: "platforms.slack",
  SLACK_ALLOWED_USERS: "platforms.slack",
  SIGNAL_ALLOW_ALL_USERS: "platforms.signal",
  SIGNAL_ALLOWED_USERS: "platforms.signal",
  SIGNAL_GROUP_ALLOWED_USERS: "platforms.signal",
  EMAIL_ALLOW_ALL_USERS: "platforms.email",
  EMAIL_ALLOWED_USERS: "platforms.email",
  SMS_ALLOW_ALL_USERS: "platforms.sms",
  SMS_ALLOWED_USERS: "platforms.sms",
  MATTERMOST_ALLOW_ALL_USERS: "platforms.mattermost",
  MATTERMOST_ALLOWED_USERS: "platforms.mattermost",
  MATTERMOST_ALLOWED_CHANNELS: "platforms.mattermost",
  MATRIX_ALLOW_ALL_USERS: "platforms.matrix",
  MATRIX_ALLOWED_USERS: "platforms.matrix",
  MATRIX_ALLOWED_ROOMS: "platforms.matrix",
  DINGTALK_ALLOW_ALL_USERS: "platforms.dingtalk",
  DINGTALK_ALLOWED_USERS: "platforms.dingtalk",
  FEISHU_ALLOW_ALL_USERS: "platforms.feishu",
  FEISHU_ALLOWED_USERS: "platforms.feishu",
  WECOM_ALLOW_ALL_USERS: "platforms.wecom",
  WECOM_ALLOWED_USERS: "platforms.wecom",
  WECOM_CALLBACK_ALLOW_ALL_USERS: "platforms.wecomCallback",
  WECOM_CALLBACK_ALLOWED_USERS: "platforms.wecomCallback",
  WEIXIN_ALLOW_ALL_USERS: "platforms.weixin",
  WEIXIN_ALLOWED_USERS: "platforms.weixin",
  BLUEBUBBLES_ALLOW_ALL_USERS: "platforms.bluebubbles",
  BLUEBUBBLES_ALLOWED_USERS: "platforms.bluebubbles",
  QQ_ALLOW_ALL_USERS: "platforms.qq",
  QQ_ALLOWED_USERS: "platforms.qq",
  QQ_GROUP_ALLOWED_USERS: "platforms.qq",
  // Plugin platforms: the registry entry's allowed_users_env / allow_all_env (environment reference @00067189).
  GOOGLE_CHAT_ALLOW_ALL_USERS: "platforms.googleChat",
  GOOGLE_CHAT_ALLOWED_USERS: "platforms.googleChat",
  LINE_ALLOW_ALL_USERS: "platforms.line",
  LINE_ALLOWED_USERS: "platforms.line",
  LINE_ALLOWED_GROUPS: "platforms.line",
  LINE_ALLOWED_ROOMS: "platforms.line",
  NTFY_ALLOW_ALL_USERS: "platforms.ntfy",
  NTFY_ALLOWED_USERS: "platforms.ntfy",
  IRC_ALLOW_ALL_USERS: "platforms.irc",
  IRC_ALLOWED_USERS: "platforms.irc",
  SIMPLEX_ALLOW_ALL_USERS: "platforms.simplex",
  SIMPLEX_ALLOWED_USERS: "platforms.simplex",
  SIMPLEX_GROUP_ALLOWED: "platforms.simplex",
  PHOTON_ALLOW_ALL_USERS: "platforms.photon",
  PHOTON_ALLOWED_USERS: "platforms.photon",
  BUZZ_ALLOW_ALL_USERS: "platforms.buzz",
  BUZZ_ALLOWED_USERS: "platforms.buzz",
  TEAMS_ALLOW_ALL_USERS: "platforms.teams",
  TEAMS_ALLOWED_USERS: "platforms.teams",
  YUANBAO_ALLOW_ALL_USERS: "platforms.yuanbao",
  YUANBAO_ALLOWED_USERS: "platforms.yuanbao",
  YUANBAO_DM_POLICY: "platforms.yuanbao",
  YUANBAO_DM_ALLOW_FROM: "platforms.yuanbao",
  YUANBAO_GROUP_POLICY: "platforms.yuanbao",
  YUANBAO_GROUP_ALLOW_FROM: "platforms.yuanbao",
  // Who may post to the Graph listener (gateway/config.py _apply_env_overrides, empty = anyone).
  MSGRAPH_WEBHOOK_ALLOWED_SOURCE_CIDRS: "platforms.msgraphWebhook",
  // The relay adapter is authorization_is_upstream: _is_user_authorized admits whatever its connector delivers.
  GATEWAY_RELAY_URL: "platforms.<platform>",
  // The A2A plugin's allow-all and allow-list (plugins/platforms/a2a, its guide).
  A2A_ALLOW_ALL_USERS: "platforms.<platform>",
  A2A_TRUSTED_PEERS: "platforms.<platform>",
  // platform_allow_bots_map: other bots pass the human allow-list.
  DISCORD_ALLOW_BOTS: "platforms.discord.allowedUsers",
  FEISHU_ALLOW_BOTS: "platforms.feishu.allowedUsers",
  TELEGRAM_ALLOW_BOTS: "platforms.telegram.allowedUsers",
  SLACK_ALLOW_BOTS: "platforms.slack.allowedUsers",
  // The adapters that gate DMs and groups themselves (gateway/config.py _apply_env_overrides, the reference).
  WEIXIN_DM_POLICY: "platforms.weixin",
  WEIXIN_GROUP_POLICY: "platforms.weixin",
  WEIXIN_GROUP_ALLOWED_USERS: "platforms.weixin",
  WHATSAPP_DM_POLICY: "platforms.whatsapp",
  WHATSAPP_GROUP_POLICY: "platforms.whatsapp",
  WHATSAPP_CLOUD_DM_POLICY: "platforms.whatsappCloud",
  WHATSAPP_CLOUD_GROUP_POLICY: "platforms.whatsappCloud",
  WHATSAPP_CLOUD_ALLOW_FROM: "platforms.whatsappCloud",
  WHATSAPP_CLOUD_GROUP_ALLOW_FROM: "platforms.whatsappCloud",
  // A forged sender passes any allow-list once Twilio's signature is not checked.
  SMS_INSECURE_NO_SIGNATURE: "agentSecrets.<agent>.twilioAuthToken",
};

const opts = { readFile: readProjectFile };
type Raw = {
  agents: Record<string, Record<string, unknown>>;
  agentSecrets: Record<string, Record<string, unknown>>;
};

function problemsWith(edit: (raw: Raw) => void): string[] {
  const raw = homelabWithSecrets() as unknown as Raw;
  edit(raw);
  try {
    parseStackConfig(raw, opts);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\<>]/g, "\\$&");

describe("variables that widen who may talk to the agent", () => {
  it.each(Object.entries(UPSTREAM_ACCESS_VARIABLES))(
    "%s is refused in environment, naming the typed setting",
    (name, typed) => {
      const problems = problemsWith((raw) => (raw.agents.hermes.environment = { [name]: "true" }));
      expect(problems).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^agents\\.hermes\\.environment\\.${name}: .*${escape(typed.replace("<agent>", "hermes"))}`,
          ),
        ),
      );
    },
  );

  it.each(Object.entries(UPSTREAM_ACCESS_VARIABLES))(
    "%s is refused in agentSecrets.<a>.env, naming the typed setting",
    (name, typed) => {
      const problems = problemsWith((raw) => (raw.agentSecrets.hermes.env = { [name]: "true" }));
      expect(problems).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^agentSecrets\\.hermes\\.env\\.${name}: .*${escape(typed.replace("<agent>", "hermes"))}`,
          ),
        ),
      );
    },
  );

  // A platform variable that is not about access is refused as the program's own, not as an access variable.
  it.each([
    ["environment", "TELEGRAM_REQUIRE_MENTION", "agents.hermes.environment", "use the typed setting instead"],
    ["agentSecrets.<a>.env", "TELEGRAM_BOT_TOKEN", "agentSecrets.hermes.env", "use the typed secret instead"],
  ])("a platform's other variable in %s is refused as written by the program", (_w, name, at, advice) => {
    const edit = (raw: Raw) =>
      at.startsWith("agents")
        ? (raw.agents.hermes.environment = { [name]: "x-value-123" })
        : (raw.agentSecrets.hermes.env = { [name]: "x-value-123" });
    expect(problemsWith(edit)).toEqual([`${at}.${name}: is managed by the program; ${advice}`]);
  });

  it("every allow-list or allow-all variable a platform module writes is in hermes' list above", () => {
    const written = PLATFORMS.flatMap((p) => Object.keys(p.variables)).filter((n) =>
      /_ALLOW(ED)?_|_GROUP_ALLOWED|_POLICY$/.test(n),
    );
    expect(written.filter((n) => !(n in UPSTREAM_ACCESS_VARIABLES))).toEqual([]);
  });

  // No dead form: `_ALLOW_FROM` once stood here as a third form, shadowed by `_ALLOW(ED)?_`, which already matches
  // every name that contains it.
  it("each form of the access-name pattern is the only one some platform variable matches", () => {
    const forms = ACCESS_NAME.source.split("|");
    const names = PLATFORMS.flatMap((p) => Object.keys(p.variables));
    const onlyThis = forms.map((form) =>
      names.filter(
        (n) => new RegExp(form).test(n) && forms.every((f) => f === form || !new RegExp(f).test(n)),
      ),
    );
    expect(onlyThis.map((matched) => matched.length > 0)).toEqual(forms.map(() => true));
    expect(onlyThis[1]).toEqual(["SIMPLEX_GROUP_ALLOWED"]);
  });

  // The same keys in config.yaml (gateway/config.py load_gateway_config bridges them from every one of these places
  // into the adapter's extra, where _is_user_authorized reads allow_from, group_allow_from and group_allowed_chats).
  const SETTINGS_PATHS: Array<[string, Record<string, unknown>, string]> = [
    ["telegram.allow_from", { telegram: { allow_from: ["*"] } }, "platforms.telegram"],
    [
      "platforms.discord.extra.allow_from",
      { platforms: { discord: { extra: { allow_from: "*" } } } },
      "platforms.discord",
    ],
    ["platforms.weixin.dm_policy", { platforms: { weixin: { dm_policy: "open" } } }, "platforms.weixin"],
    [
      "gateway.platforms.slack.user_allowed_commands",
      { gateway: { platforms: { slack: { user_allowed_commands: ["*"] } } } },
      "platforms.slack",
    ],
    [
      "gateway.telegram.group_allowed_chats",
      { gateway: { telegram: { group_allowed_chats: "*" } } },
      "platforms.telegram",
    ],
    [
      "platforms.irc.extra.allowed_users",
      { platforms: { irc: { extra: { allowed_users: "alice" } } } },
      "platforms.irc",
    ],
    [
      "platforms.wecom.allow_admin_from",
      { platforms: { wecom: { allow_admin_from: ["x"] } } },
      "platforms.wecom",
    ],
  ];

  it.each(SETTINGS_PATHS)("settings.%s is refused, naming the typed block", (path, settings, typed) => {
    const problems = problemsWith((raw) => (raw.agents.hermes.settings = settings));
    expect(problems).toContainEqual(
      expect.stringMatching(new RegExp(`^agents\\.hermes\\.settings\\.${escape(path)}: .*${escape(typed)}`)),
    );
  });

  it("names the typed platform blocks for a platform hermes-lxc does not type", () => {
    const problems = problemsWith(
      (raw) => (raw.agents.hermes.settings = { platforms: { a2a: { allowed_users: ["peer"] } } }),
    );
    expect(problems).toEqual([
      "agents.hermes.settings.platforms.a2a.allowed_users: decides who may talk to the agent; set it with the typed fields of agents.hermes.platforms.<platform>",
    ]);
  });

  // YAML's `telegram:` with nothing after it is null.
  it.each([
    ["null", { telegram: null, platforms: { discord: null }, gateway: { telegram: null, platforms: null } }],
    [
      "a scalar or a list",
      { telegram: "off", platforms: { discord: "x", slack: ["a"] }, gateway: { telegram: 1 } },
    ],
    ["a scalar gateway", { gateway: "x" }],
    ["a null gateway", { gateway: null }],
  ])("is not thrown by %s where a platform block would be", (_what, settings) => {
    expect(problemsWith((raw) => (raw.agents.hermes.settings = settings))).toEqual([]);
  });

  it("leaves a platform's other settings alone", () => {
    const problems = problemsWith(
      (raw) =>
        (raw.agents.hermes.settings = {
          platforms: { webhook: { extra: { routes: {} } }, telegram: { require_mention: true } },
          model: { allowed_users: "not a platform section" },
        }),
    );
    expect(problems).toEqual([]);
  });
});
