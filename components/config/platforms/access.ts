/**
 * Who may talk to the agent, decided in one place: the typed platform blocks. hermes reads more variables that widen
 * who may use the bot, or what a sender may do, than the ones the platform modules write; each of those is refused
 * here, in `environment` and in `agentSecrets.<a>.env`, with the typed setting to use instead. A platform module's
 * own allow-list variables are refused the same way, naming its block.
 *
 * hermes' list (NousResearch/hermes-agent): gateway/run.py `_is_user_authorized` (the global GATEWAY_ALLOWED_USERS
 * and GATEWAY_ALLOW_ALL_USERS, `platform_allow_all_map`, `platform_env_map`, `platform_group_chat_env_map`,
 * `platform_allow_bots_map`), gateway/pairing.py `_PLATFORM_ALLOWLIST_ENV`, gateway/config.py `_apply_env_overrides`
 * (Weixin's and Yuanbao's policies and group allow-lists, the relay) and website/docs/reference/environment-variables.md
 * @00067189 (WhatsApp Cloud's policies, SMS_INSECURE_NO_SIGNATURE), website/docs/user-guide/messaging/a2a.md (A2A).
 */
import type { MessagingPlatform } from "./platform";

const ALLOW_BOTS = "lets other bots past the allow-list; allow the bot's own id in";

/** Variables no platform module writes, with why they are refused and the typed setting to use. */
export const REFUSED_ACCESS_ENV: Readonly<Record<string, string>> = {
  GATEWAY_ALLOWED_USERS:
    "allows these ids on every platform at once; list them per platform in agents.<agent>.platforms.<platform>.allowedUsers",
  GATEWAY_ALLOW_ALL_USERS:
    "opens every platform to anyone; set agents.<agent>.platforms.<platform>.allowAllUsers where that is meant",
  DISCORD_ALLOW_BOTS: `${ALLOW_BOTS} agents.<agent>.platforms.discord.allowedUsers`,
  FEISHU_ALLOW_BOTS: `${ALLOW_BOTS} agents.<agent>.platforms.feishu.allowedUsers`,
  TELEGRAM_ALLOW_BOTS: `${ALLOW_BOTS} agents.<agent>.platforms.telegram.allowedUsers`,
  SLACK_ALLOW_BOTS: `${ALLOW_BOTS} agents.<agent>.platforms.slack.allowedUsers`,
  WEIXIN_DM_POLICY: "decides who may DM the bot; use agents.<agent>.platforms.weixin",
  WEIXIN_GROUP_POLICY: "decides which groups the bot answers; use agents.<agent>.platforms.weixin",
  WEIXIN_GROUP_ALLOWED_USERS: "admits whole groups; use agents.<agent>.platforms.weixin",
  WHATSAPP_DM_POLICY: "decides who may DM the bot; use agents.<agent>.platforms.whatsapp",
  WHATSAPP_GROUP_POLICY: "decides which groups the bot answers; use agents.<agent>.platforms.whatsapp",
  WHATSAPP_CLOUD_DM_POLICY: "decides who may DM the bot; use agents.<agent>.platforms.whatsappCloud",
  WHATSAPP_CLOUD_GROUP_POLICY:
    "decides which groups the bot answers; use agents.<agent>.platforms.whatsappCloud",
  WHATSAPP_CLOUD_ALLOW_FROM:
    "is a second allow-list; use agents.<agent>.platforms.whatsappCloud.allowedUsers",
  WHATSAPP_CLOUD_GROUP_ALLOW_FROM: "admits whole groups; use agents.<agent>.platforms.whatsappCloud",
  SMS_INSECURE_NO_SIGNATURE:
    "lets anyone forge a sender past the allow-list; Twilio's signatures are checked with agentSecrets.<agent>.twilioAuthToken",
  YUANBAO_DM_POLICY: "decides who may DM the bot; use agents.<agent>.platforms.yuanbao",
  YUANBAO_DM_ALLOW_FROM: "is a second allow-list; use agents.<agent>.platforms.yuanbao.allowedUsers",
  YUANBAO_GROUP_POLICY: "decides which groups the bot answers; use agents.<agent>.platforms.yuanbao",
  YUANBAO_GROUP_ALLOW_FROM: "admits whole groups; use agents.<agent>.platforms.yuanbao",
  // The experimental relay (gateway/config.py: GATEWAY_RELAY_URL enables Platform.RELAY, whose adapter sets
  // authorization_is_upstream, so _is_user_authorized admits whatever the connector delivers).
  GATEWAY_RELAY_URL:
    "hands every allow-list to an outside relay connector; hermes-lxc does not offer the experimental relay, use agents.<agent>.platforms.<platform>",
  // The A2A plugin's inbound server (plugins/platforms/a2a; its guide lists these as its allow-list and allow-all).
  A2A_ALLOW_ALL_USERS:
    "opens the A2A server to any authenticated peer; hermes-lxc does not publish A2A, talk to the agent through agents.<agent>.platforms.<platform>",
  A2A_TRUSTED_PEERS:
    "is A2A's allow-list; hermes-lxc does not publish A2A, talk to the agent through agents.<agent>.platforms.<platform>",
};

/**
 * A platform variable that decides who may talk to the agent (allow-lists, allow-all, rooms and channels). The first
 * form covers `_ALLOW_FROM` too (YUANBAO_DM_ALLOW_FROM); the second for one that does not go on with `_`
 * (SIMPLEX_GROUP_ALLOWED). tests/unit/accessEnv.test.ts checks that each form is the only one some variable matches.
 */
export const ACCESS_NAME = /_ALLOW(ED)?_|_GROUP_ALLOWED/;

/** Why `name` may not be set by hand, naming the typed setting, or undefined when it is not an access variable. */
export function accessEnvProblem(
  name: string,
  agent: string,
  platforms: readonly MessagingPlatform[],
): string | undefined {
  const refused = REFUSED_ACCESS_ENV[name];
  if (refused) return `decides who may talk to the agent: it ${refused.replaceAll("<agent>", agent)}`;
  if (!ACCESS_NAME.test(name)) return undefined;
  const owner = platforms.find((p) => name in p.variables);
  return owner
    ? `decides who may talk to the agent: set it with the typed fields of agents.${agent}.platforms.${owner.key}`
    : undefined;
}

/**
 * config.yaml keys of a platform that decide who may talk to the agent or what a sender may do. hermes reads them
 * from `<platform>:`, `platforms.<platform>:` and `gateway.platforms.<platform>:` (and their `extra:`), then
 * `_is_user_authorized` admits a sender found in the adapter's `allow_from`, `group_allow_from` or
 * `group_allowed_chats` (`*` admits everyone) or in a plugin's `allowed_users` (gateway/config.py
 * `load_gateway_config`, the shared-key loop; gateway/run.py `_is_user_authorized`).
 */
export const ACCESS_CONFIG_KEYS: readonly string[] = [
  "allow_from",
  "group_allow_from",
  "dm_policy",
  "group_policy",
  "allow_admin_from",
  "group_allow_admin_from",
  "user_allowed_commands",
  "group_user_allowed_commands",
  "allowed_chats",
  "group_allowed_chats",
  "allowed_users",
];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Problems for access keys set through the free-form `settings` (config.yaml), each naming the typed block. */
export function settingsAccessProblems(
  settings: Record<string, unknown>,
  at: string,
  platforms: readonly MessagingPlatform[],
): string[] {
  const problems: string[] = [];
  const check = (block: unknown, path: string, hermesName: string) => {
    if (!isObject(block)) return;
    for (const scope of [block, block.extra]) {
      if (!isObject(scope)) continue;
      for (const key of ACCESS_CONFIG_KEYS.filter((k) => k in scope)) {
        const owner = platforms.find((p) => p.hermesName === hermesName);
        const typed = owner ? `${at}.platforms.${owner.key}` : `${at}.platforms.<platform>`;
        const where = scope === block ? `${path}.${key}` : `${path}.extra.${key}`;
        problems.push(
          `${at}.settings.${where}: decides who may talk to the agent; set it with the typed fields of ${typed}`,
        );
      }
    }
  };
  const gateway = isObject(settings.gateway) ? settings.gateway : {};
  // Under `platforms:` every key is a platform; at the top level and under `gateway:` only platform names are.
  const named = new Set(platforms.map((p) => p.hermesName));
  for (const [source, path] of [
    [settings.platforms, "platforms."],
    [gateway.platforms, "gateway.platforms."],
  ] as const)
    if (isObject(source))
      for (const [name, block] of Object.entries(source)) check(block, `${path}${name}`, name);
  for (const [source, path] of [
    [settings, ""],
    [gateway, "gateway."],
  ] as const)
    for (const [name, block] of Object.entries(source))
      if (named.has(name)) check(block, `${path}${name}`, name);
  return problems;
}
