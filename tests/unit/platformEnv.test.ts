/**
 * What each platform module writes to .env, value by value, and what its secrets and rules refuse or warn about.
 * platforms.test.ts checks the names against hermes' own list; here the exact values for a full block (FULL) and for
 * a block with only its required fields (nothing optional may leak in: an unset allow-list, flag or home channel
 * writes no variable, since hermes reads an empty or "false" value differently from an absent one for some of them),
 * which variables come from agentSecrets (the .env values the program holds as secrets), each credential's format
 * check by its key path, and the warnings the modules' own rules give.
 */
import { PLATFORMS } from "../../components/config/platforms";
import { ConfigError } from "../../components/config/errors";
import { parseStackConfig } from "../../components/config/stack";
import { agentEnvVars } from "../../components/gateway/agentPayload";
import { FULL } from "../helpers/platformBlocks";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

type Raw = {
  agents: Record<string, Record<string, unknown>>;
  agentSecrets: Record<string, Record<string, unknown>>;
};

/** Parses the homelab stack with `platforms` as the agent's only platforms and `secrets` as its only platform
 * secrets; the rest of the stack (its LLM key, its own environment) is dropped so .env holds the platform alone. */
function parse(
  platforms: Record<string, Record<string, unknown>>,
  secrets: Record<string, unknown>,
  edit: (raw: Raw) => void = () => {},
) {
  const raw = homelabWithSecrets() as unknown as Raw;
  const agent = raw.agents.hermes;
  const agentSecrets = raw.agentSecrets.hermes;
  agent.platforms = structuredClone(platforms);
  delete agent.llm;
  delete agent.environment;
  for (const k of ["telegramBotToken", "llmApiKey", "env"]) delete agentSecrets[k];
  Object.assign(agentSecrets, secrets);
  // dingtalk, feishu, teams and buzz need an image that ships their SDK or CLI (platforms.test.ts).
  agent.image = "registry.example.org/hermes-agent-full";
  edit(raw);
  return parseStackConfig(raw, { readFile: readProjectFile });
}

function envOf(parsed: ReturnType<typeof parse>): Record<string, string> {
  return Object.fromEntries(
    agentEnvVars(parsed.config.agents[0], parsed.secrets.agents.hermes).map((v) => [v.name, v.value]),
  );
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

/** Per platform: each .env variable it takes from agentSecrets, and the agentSecrets key it comes from. */
const SECRET_ENV: Record<string, Record<string, string>> = {
  telegram: { TELEGRAM_BOT_TOKEN: "telegramBotToken" },
  discord: { DISCORD_BOT_TOKEN: "discordBotToken" },
  slack: { SLACK_BOT_TOKEN: "slackBotToken", SLACK_APP_TOKEN: "slackAppToken" },
  matrix: {
    MATRIX_ACCESS_TOKEN: "matrixAccessToken",
    MATRIX_PASSWORD: "matrixPassword",
    MATRIX_RECOVERY_KEY: "matrixRecoveryKey",
  },
  mattermost: { MATTERMOST_TOKEN: "mattermostToken" },
  signal: {},
  whatsapp: {},
  whatsappCloud: {
    WHATSAPP_CLOUD_ACCESS_TOKEN: "whatsappCloudAccessToken",
    WHATSAPP_CLOUD_APP_SECRET: "whatsappCloudAppSecret",
    WHATSAPP_CLOUD_VERIFY_TOKEN: "whatsappCloudVerifyToken",
  },
  email: { EMAIL_PASSWORD: "emailPassword" },
  sms: { TWILIO_AUTH_TOKEN: "twilioAuthToken" },
  bluebubbles: { BLUEBUBBLES_PASSWORD: "bluebubblesPassword" },
  dingtalk: { DINGTALK_CLIENT_SECRET: "dingtalkClientSecret" },
  feishu: { FEISHU_APP_SECRET: "feishuAppSecret" },
  wecom: { WECOM_SECRET: "wecomSecret" },
  wecomCallback: {
    WECOM_CALLBACK_CORP_SECRET: "wecomCallbackCorpSecret",
    WECOM_CALLBACK_TOKEN: "wecomCallbackToken",
    WECOM_CALLBACK_ENCODING_AES_KEY: "wecomCallbackEncodingAesKey",
  },
  weixin: { WEIXIN_TOKEN: "weixinToken" },
  qq: { QQ_CLIENT_SECRET: "qqClientSecret" },
  yuanbao: { YUANBAO_APP_SECRET: "yuanbaoAppSecret" },
  googleChat: { GOOGLE_CHAT_SERVICE_ACCOUNT_JSON: "googleChatServiceAccountJson" },
  teams: { TEAMS_CLIENT_SECRET: "teamsClientSecret" },
  msgraphWebhook: { MSGRAPH_WEBHOOK_CLIENT_STATE: "msgraphWebhookClientState" },
  line: { LINE_CHANNEL_ACCESS_TOKEN: "lineChannelAccessToken", LINE_CHANNEL_SECRET: "lineChannelSecret" },
  ntfy: { NTFY_TOKEN: "ntfyToken" },
  irc: { IRC_SERVER_PASSWORD: "ircServerPassword", IRC_NICKSERV_PASSWORD: "ircNickservPassword" },
  simplex: {},
  photon: { PHOTON_PROJECT_SECRET: "photonProjectSecret" },
  buzz: { BUZZ_PRIVATE_KEY: "buzzPrivateKey" },
  homeAssistant: { HASS_TOKEN: "homeAssistantToken" },
  webhook: { WEBHOOK_SECRET: "webhookSecret" },
};

/** With every field of FULL set: each variable and its exact value. */
const FULL_ENV: Record<string, Record<string, string>> = {
  telegram: {
    TELEGRAM_BOT_TOKEN: "123456:tg-token-abcdef",
    TELEGRAM_ALLOWED_USERS: "111",
    TELEGRAM_GROUP_ALLOWED_USERS: "222",
    TELEGRAM_GROUP_ALLOWED_CHATS: "-1001234567890",
    TELEGRAM_ALLOW_ALL_USERS: "true",
    TELEGRAM_HOME_CHANNEL: "-100999",
    TELEGRAM_REQUIRE_MENTION: "true",
  },
  discord: {
    DISCORD_BOT_TOKEN: "discord-token-abcdef",
    DISCORD_ALLOWED_USERS: "1",
    DISCORD_ALLOWED_ROLES: "2",
    DISCORD_ALLOWED_CHANNELS: "3",
    DISCORD_REQUIRE_MENTION: "false",
    DISCORD_ALLOW_ALL_USERS: "true",
    DISCORD_HOME_CHANNEL: "4",
  },
  slack: {
    SLACK_BOT_TOKEN: "xoxb-123-abcdef",
    SLACK_APP_TOKEN: "xapp-1-abcdef",
    SLACK_ALLOWED_USERS: "U012ABCDEF",
    SLACK_ALLOW_ALL_USERS: "true",
    SLACK_HOME_CHANNEL: "C012ABCDEF",
  },
  matrix: {
    MATRIX_ACCESS_TOKEN: "syt_matrix_token_1",
    MATRIX_RECOVERY_KEY: "EsTc recovery key",
    MATRIX_HOMESERVER: "https://matrix.example.org",
    MATRIX_USER_ID: "@hermes:example.org",
    MATRIX_ALLOWED_USERS: "@alice:example.org",
    MATRIX_ALLOWED_ROOMS: "!room1:example.org",
    MATRIX_ALLOW_ALL_USERS: "true",
    MATRIX_HOME_ROOM: "!home:example.org",
    MATRIX_REQUIRE_MENTION: "true",
    MATRIX_ENCRYPTION: "true",
    MATRIX_DEVICE_ID: "HERMES_BOT",
  },
  mattermost: {
    MATTERMOST_TOKEN: "mm-token-abcdef",
    MATTERMOST_URL: "https://mm.example.com",
    MATTERMOST_ALLOWED_USERS: "abcdefghijklmnopqrstuvwxyz",
    MATTERMOST_ALLOWED_CHANNELS: "zyxwvutsrqponmlkjihgfedcba",
    MATTERMOST_ALLOW_ALL_USERS: "true",
    MATTERMOST_HOME_CHANNEL: "zyxwvutsrqponmlkjihgfedcba",
    MATTERMOST_REQUIRE_MENTION: "false",
  },
  signal: {
    SIGNAL_HTTP_URL: "http://10.1.10.5:8080",
    SIGNAL_ACCOUNT: "+15551234567",
    SIGNAL_ALLOWED_USERS: "+15557654321,0b9f1c2e-1111-2222-3333-444455556666",
    SIGNAL_GROUP_ALLOWED_USERS: "*",
    SIGNAL_ALLOW_ALL_USERS: "true",
  },
  whatsapp: {
    WHATSAPP_ENABLED: "true",
    WHATSAPP_MODE: "self-chat",
    WHATSAPP_ALLOWED_USERS: "15551234567",
    WHATSAPP_ALLOW_ALL_USERS: "true",
  },
  whatsappCloud: {
    WHATSAPP_CLOUD_ACCESS_TOKEN: "EAAG-access-token-abcdef",
    WHATSAPP_CLOUD_APP_SECRET: "0123456789abcdef0123456789abcdef",
    WHATSAPP_CLOUD_VERIFY_TOKEN: "verify-token-1",
    WHATSAPP_CLOUD_PHONE_NUMBER_ID: "123456789012345",
    WHATSAPP_CLOUD_WEBHOOK_HOST: "0.0.0.0",
    WHATSAPP_CLOUD_WEBHOOK_PORT: "8090",
    WHATSAPP_CLOUD_ALLOWED_USERS: "15551234567",
    WHATSAPP_CLOUD_ALLOW_ALL_USERS: "true",
    WHATSAPP_CLOUD_HOME_CHANNEL: "15551234567",
  },
  email: {
    EMAIL_PASSWORD: "app password",
    EMAIL_ADDRESS: "hermes@example.org",
    EMAIL_IMAP_HOST: "imap.example.org",
    EMAIL_IMAP_PORT: "993",
    EMAIL_SMTP_HOST: "smtp.example.org",
    EMAIL_SMTP_PORT: "587",
    EMAIL_ALLOWED_USERS: "alice@example.org",
    EMAIL_ALLOW_ALL_USERS: "true",
    EMAIL_POLL_INTERVAL: "60",
    EMAIL_HOME_ADDRESS: "alice@example.org",
  },
  sms: {
    TWILIO_AUTH_TOKEN: "0123456789abcdef0123456789abcdef",
    TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
    TWILIO_PHONE_NUMBER: "+15551234567",
    SMS_WEBHOOK_URL: "https://sms.example.org/webhooks/twilio",
    SMS_WEBHOOK_HOST: "0.0.0.0",
    SMS_WEBHOOK_PORT: "8080",
    SMS_ALLOWED_USERS: "+15557654321",
    SMS_ALLOW_ALL_USERS: "true",
    SMS_HOME_CHANNEL: "+15557654321",
  },
  bluebubbles: {
    BLUEBUBBLES_PASSWORD: "bb-password",
    BLUEBUBBLES_SERVER_URL: "http://10.1.10.60:1234",
    BLUEBUBBLES_WEBHOOK_HOST: "0.0.0.0",
    BLUEBUBBLES_WEBHOOK_PORT: "8647",
    BLUEBUBBLES_ALLOWED_USERS: "+15557654321,alice@example.org",
    BLUEBUBBLES_ALLOW_ALL_USERS: "true",
    BLUEBUBBLES_HOME_CHANNEL: "+15557654321",
  },
  dingtalk: {
    DINGTALK_CLIENT_SECRET: "dingtalk-secret-1",
    DINGTALK_CLIENT_ID: "dingabc123",
    DINGTALK_ALLOWED_USERS: "manager1",
    DINGTALK_ALLOW_ALL_USERS: "true",
    DINGTALK_HOME_CHANNEL: "cid123",
  },
  feishu: {
    FEISHU_APP_SECRET: "feishu-secret-1",
    FEISHU_APP_ID: "cli_a1b2c3d4",
    FEISHU_DOMAIN: "lark",
    FEISHU_CONNECTION_MODE: "websocket",
    FEISHU_ALLOWED_USERS: "ou_123",
    FEISHU_ALLOW_ALL_USERS: "true",
    FEISHU_HOME_CHANNEL: "oc_123",
    FEISHU_REQUIRE_MENTION: "true",
  },
  wecom: {
    WECOM_SECRET: "wecom-secret-1",
    WECOM_BOT_ID: "bot123",
    WECOM_ALLOWED_USERS: "zhangsan",
    WECOM_ALLOW_ALL_USERS: "true",
    WECOM_HOME_CHANNEL: "chat1",
  },
  wecomCallback: {
    WECOM_CALLBACK_CORP_SECRET: "corp-secret-1",
    WECOM_CALLBACK_TOKEN: "callback-token",
    WECOM_CALLBACK_ENCODING_AES_KEY: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    WECOM_CALLBACK_CORP_ID: "ww0123456789",
    WECOM_CALLBACK_AGENT_ID: "1000002",
    WECOM_CALLBACK_HOST: "0.0.0.0",
    WECOM_CALLBACK_PORT: "8645",
    WECOM_CALLBACK_ALLOWED_USERS: "zhangsan",
    WECOM_CALLBACK_ALLOW_ALL_USERS: "true",
  },
  weixin: {
    WEIXIN_TOKEN: "weixin-token-1",
    WEIXIN_ACCOUNT_ID: "wxid_abc@im.bot",
    WEIXIN_ALLOWED_USERS: "wxid_friend",
    WEIXIN_ALLOW_ALL_USERS: "true",
    WEIXIN_HOME_CHANNEL: "wxid_friend",
  },
  qq: {
    QQ_CLIENT_SECRET: "qq-secret-123",
    QQ_APP_ID: "102000000",
    QQ_ALLOWED_USERS: "OPENID1",
    QQ_GROUP_ALLOWED_USERS: "GROUP1",
    QQ_ALLOW_ALL_USERS: "true",
    QQBOT_HOME_CHANNEL: "OPENID1",
  },
  yuanbao: {
    YUANBAO_APP_SECRET: "yuanbao-secret-1",
    YUANBAO_APP_ID: "ybapp1",
    YUANBAO_ALLOWED_USERS: "user1",
    YUANBAO_ALLOW_ALL_USERS: "true",
    YUANBAO_HOME_CHANNEL: "direct:user1",
  },
  googleChat: {
    GOOGLE_CHAT_SERVICE_ACCOUNT_JSON: '{"type":"service_account","project_id":"my-project"}',
    GOOGLE_CHAT_PROJECT_ID: "my-project",
    GOOGLE_CHAT_SUBSCRIPTION_NAME: "projects/my-project/subscriptions/hermes-chat",
    GOOGLE_CHAT_ALLOWED_USERS: "alice@example.org",
    GOOGLE_CHAT_ALLOW_ALL_USERS: "true",
    GOOGLE_CHAT_HOME_CHANNEL: "spaces/AAAA1234",
  },
  teams: {
    TEAMS_CLIENT_SECRET: "teams-secret-1",
    TEAMS_CLIENT_ID: "00000000-0000-0000-0000-000000000001",
    TEAMS_TENANT_ID: "00000000-0000-0000-0000-000000000002",
    TEAMS_PORT: "3978",
    TEAMS_ALLOWED_USERS: "alice@example.org",
    TEAMS_ALLOW_ALL_USERS: "true",
    TEAMS_HOME_CHANNEL: "19:abc@thread.tacv2",
  },
  msgraphWebhook: {
    MSGRAPH_WEBHOOK_CLIENT_STATE: "0123456789abcdef0123",
    MSGRAPH_WEBHOOK_ENABLED: "true",
    MSGRAPH_WEBHOOK_PORT: "8649",
    MSGRAPH_WEBHOOK_ACCEPTED_RESOURCES: "communications/onlineMeetings,chats/*/messages",
    MSGRAPH_WEBHOOK_ALLOWED_SOURCE_CIDRS: "52.96.0.0/14",
  },
  line: {
    LINE_CHANNEL_ACCESS_TOKEN: "line-token-1",
    LINE_CHANNEL_SECRET: "line-secret-1",
    LINE_HOST: "0.0.0.0",
    LINE_PORT: "8646",
    LINE_PUBLIC_URL: "https://line.example.org",
    LINE_ALLOWED_USERS: "U00000000000000000000000000000000",
    LINE_ALLOWED_GROUPS: "C11111111111111111111111111111111",
    LINE_ALLOWED_ROOMS: "R22222222222222222222222222222222",
    LINE_ALLOW_ALL_USERS: "true",
    LINE_HOME_CHANNEL: "U00000000000000000000000000000000",
  },
  ntfy: {
    NTFY_TOKEN: "tk_abcdef",
    NTFY_TOPIC: "hermes-in",
    NTFY_SERVER_URL: "https://ntfy.example.org",
    NTFY_PUBLISH_TOPIC: "hermes-out",
    NTFY_ALLOWED_USERS: "hermes-in",
    NTFY_ALLOW_ALL_USERS: "true",
    NTFY_HOME_CHANNEL: "hermes-out",
  },
  irc: {
    IRC_SERVER_PASSWORD: "server-pass",
    IRC_NICKSERV_PASSWORD: "nickserv-pass",
    IRC_SERVER: "irc.libera.chat",
    IRC_PORT: "6697",
    IRC_USE_TLS: "true",
    IRC_CHANNEL: "#hermes",
    IRC_NICKNAME: "hermes-bot",
    IRC_ALLOWED_USERS: "alice",
    IRC_ALLOW_ALL_USERS: "true",
    IRC_HOME_CHANNEL: "#hermes",
  },
  simplex: {
    SIMPLEX_WS_URL: "ws://10.1.10.7:5225",
    SIMPLEX_ALLOWED_USERS: "2",
    SIMPLEX_ALLOW_ALL_USERS: "true",
    SIMPLEX_AUTO_ACCEPT: "false",
    SIMPLEX_GROUP_ALLOWED: "5",
    SIMPLEX_HOME_CHANNEL: "2",
  },
  photon: {
    PHOTON_PROJECT_SECRET: "photon-secret-1",
    PHOTON_PROJECT_ID: "proj_123",
    PHOTON_ALLOWED_USERS: "+15557654321",
    PHOTON_ALLOW_ALL_USERS: "true",
    PHOTON_REQUIRE_MENTION: "true",
    PHOTON_HOME_CHANNEL: "+15557654321",
  },
  buzz: {
    BUZZ_PRIVATE_KEY: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    BUZZ_RELAY_URL: "https://mycommunity.communities.buzz.xyz",
    BUZZ_CHANNELS: "0b9f1c2e-1111-2222-3333-444455556666",
    BUZZ_ALLOWED_USERS: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    BUZZ_ALLOW_ALL_USERS: "true",
    BUZZ_HOME_CHANNEL: "0b9f1c2e-1111-2222-3333-444455556666",
    BUZZ_CLI_PATH: "/workspace/bin/buzz",
  },
  homeAssistant: {
    HASS_TOKEN: "hass-token-abcdef",
    HASS_URL: "http://10.1.10.40:8123",
  },
  webhook: {
    WEBHOOK_SECRET: "0123456789abcdef0123",
    WEBHOOK_ENABLED: "true",
    WEBHOOK_PORT: "8644",
  },
};

/** With only the required fields (and the required secrets): the variables hermes needs and the program's fixed
 * ones, nothing else. */
const MINIMAL: Record<string, { block: Record<string, unknown>; env: Record<string, string> }> = {
  telegram: {
    block: {},
    env: {
      TELEGRAM_BOT_TOKEN: "123456:tg-token-abcdef",
    },
  },
  discord: {
    block: {},
    env: {
      DISCORD_BOT_TOKEN: "discord-token-abcdef",
    },
  },
  slack: {
    block: {},
    env: {
      SLACK_BOT_TOKEN: "xoxb-123-abcdef",
      SLACK_APP_TOKEN: "xapp-1-abcdef",
    },
  },
  matrix: {
    block: { homeserver: "https://matrix.example.org" },
    env: {
      MATRIX_ACCESS_TOKEN: "syt_matrix_token_1",
      MATRIX_HOMESERVER: "https://matrix.example.org",
    },
  },
  mattermost: {
    block: { url: "https://mm.example.com" },
    env: {
      MATTERMOST_TOKEN: "mm-token-abcdef",
      MATTERMOST_URL: "https://mm.example.com",
    },
  },
  signal: {
    block: { httpUrl: "http://10.1.10.5:8080", account: "+15551234567" },
    env: {
      SIGNAL_HTTP_URL: "http://10.1.10.5:8080",
      SIGNAL_ACCOUNT: "+15551234567",
    },
  },
  whatsapp: {
    block: {},
    env: {
      WHATSAPP_ENABLED: "true",
      WHATSAPP_MODE: "bot",
    },
  },
  whatsappCloud: {
    block: { phoneNumberId: "123456789012345" },
    env: {
      WHATSAPP_CLOUD_ACCESS_TOKEN: "EAAG-access-token-abcdef",
      WHATSAPP_CLOUD_PHONE_NUMBER_ID: "123456789012345",
      WHATSAPP_CLOUD_WEBHOOK_HOST: "0.0.0.0",
      WHATSAPP_CLOUD_WEBHOOK_PORT: "8090",
    },
  },
  email: {
    block: { address: "hermes@example.org", imapHost: "imap.example.org", smtpHost: "smtp.example.org" },
    env: {
      EMAIL_PASSWORD: "app password",
      EMAIL_ADDRESS: "hermes@example.org",
      EMAIL_IMAP_HOST: "imap.example.org",
      EMAIL_SMTP_HOST: "smtp.example.org",
    },
  },
  sms: {
    block: {
      accountSid: "AC0123456789abcdef0123456789abcdef",
      phoneNumber: "+15551234567",
      webhookUrl: "https://sms.example.org/webhooks/twilio",
    },
    env: {
      TWILIO_AUTH_TOKEN: "0123456789abcdef0123456789abcdef",
      TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
      TWILIO_PHONE_NUMBER: "+15551234567",
      SMS_WEBHOOK_URL: "https://sms.example.org/webhooks/twilio",
      SMS_WEBHOOK_HOST: "0.0.0.0",
      SMS_WEBHOOK_PORT: "8080",
    },
  },
  bluebubbles: {
    block: { serverUrl: "http://10.1.10.60:1234" },
    env: {
      BLUEBUBBLES_PASSWORD: "bb-password",
      BLUEBUBBLES_SERVER_URL: "http://10.1.10.60:1234",
      BLUEBUBBLES_WEBHOOK_HOST: "0.0.0.0",
      BLUEBUBBLES_WEBHOOK_PORT: "8647",
    },
  },
  dingtalk: {
    block: { clientId: "dingabc123" },
    env: {
      DINGTALK_CLIENT_SECRET: "dingtalk-secret-1",
      DINGTALK_CLIENT_ID: "dingabc123",
    },
  },
  feishu: {
    block: { appId: "cli_a1b2c3d4" },
    env: {
      FEISHU_APP_SECRET: "feishu-secret-1",
      FEISHU_APP_ID: "cli_a1b2c3d4",
      FEISHU_CONNECTION_MODE: "websocket",
    },
  },
  wecom: {
    block: { botId: "bot123" },
    env: {
      WECOM_SECRET: "wecom-secret-1",
      WECOM_BOT_ID: "bot123",
    },
  },
  wecomCallback: {
    block: { corpId: "ww0123456789", agentId: "1000002" },
    env: {
      WECOM_CALLBACK_CORP_SECRET: "corp-secret-1",
      WECOM_CALLBACK_CORP_ID: "ww0123456789",
      WECOM_CALLBACK_AGENT_ID: "1000002",
      WECOM_CALLBACK_HOST: "0.0.0.0",
      WECOM_CALLBACK_PORT: "8645",
    },
  },
  weixin: {
    block: { accountId: "wxid_abc@im.bot" },
    env: {
      WEIXIN_ACCOUNT_ID: "wxid_abc@im.bot",
    },
  },
  qq: {
    block: { appId: "102000000" },
    env: {
      QQ_CLIENT_SECRET: "qq-secret-123",
      QQ_APP_ID: "102000000",
    },
  },
  yuanbao: {
    block: { appId: "ybapp1" },
    env: {
      YUANBAO_APP_SECRET: "yuanbao-secret-1",
      YUANBAO_APP_ID: "ybapp1",
    },
  },
  googleChat: {
    block: { projectId: "my-project", subscriptionName: "projects/my-project/subscriptions/hermes-chat" },
    env: {
      GOOGLE_CHAT_SERVICE_ACCOUNT_JSON: '{"type":"service_account","project_id":"my-project"}',
      GOOGLE_CHAT_PROJECT_ID: "my-project",
      GOOGLE_CHAT_SUBSCRIPTION_NAME: "projects/my-project/subscriptions/hermes-chat",
    },
  },
  teams: {
    block: {
      clientId: "00000000-0000-0000-0000-000000000001",
      tenantId: "00000000-0000-0000-0000-000000000002",
    },
    env: {
      TEAMS_CLIENT_SECRET: "teams-secret-1",
      TEAMS_CLIENT_ID: "00000000-0000-0000-0000-000000000001",
      TEAMS_TENANT_ID: "00000000-0000-0000-0000-000000000002",
      TEAMS_PORT: "3978",
    },
  },
  msgraphWebhook: {
    block: {},
    env: {
      MSGRAPH_WEBHOOK_ENABLED: "true",
      MSGRAPH_WEBHOOK_PORT: "8649",
    },
  },
  line: {
    block: {},
    env: {
      LINE_CHANNEL_ACCESS_TOKEN: "line-token-1",
      LINE_CHANNEL_SECRET: "line-secret-1",
      LINE_HOST: "0.0.0.0",
      LINE_PORT: "8646",
    },
  },
  ntfy: {
    block: { topic: "hermes-in" },
    env: {
      NTFY_TOPIC: "hermes-in",
    },
  },
  irc: {
    block: { server: "irc.libera.chat", channels: ["#hermes"], nickname: "hermes-bot" },
    env: {
      IRC_SERVER: "irc.libera.chat",
      IRC_CHANNEL: "#hermes",
      IRC_NICKNAME: "hermes-bot",
    },
  },
  simplex: {
    block: { wsUrl: "ws://10.1.10.7:5225" },
    env: {
      SIMPLEX_WS_URL: "ws://10.1.10.7:5225",
    },
  },
  photon: {
    block: { projectId: "proj_123" },
    env: {
      PHOTON_PROJECT_SECRET: "photon-secret-1",
      PHOTON_PROJECT_ID: "proj_123",
    },
  },
  buzz: {
    block: { relayUrl: "https://mycommunity.communities.buzz.xyz" },
    env: {
      BUZZ_PRIVATE_KEY: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
      BUZZ_RELAY_URL: "https://mycommunity.communities.buzz.xyz",
    },
  },
  homeAssistant: {
    block: { url: "http://10.1.10.40:8123" },
    env: {
      HASS_TOKEN: "hass-token-abcdef",
      HASS_URL: "http://10.1.10.40:8123",
    },
  },
  webhook: {
    block: {},
    env: {
      WEBHOOK_SECRET: "0123456789abcdef0123",
      WEBHOOK_ENABLED: "true",
      WEBHOOK_PORT: "8644",
    },
  },
};

/** The secrets each MINIMAL block needs: the required ones, and Matrix's access token (one of token/password). */
const requiredSecrets = (key: string) =>
  Object.fromEntries(
    PLATFORMS.find((p) => p.key === key)!
      .secrets.filter((s) => s.requiredBecause || s.key === "matrixAccessToken")
      .map((s) => [s.key, FULL[key].secrets[s.key]]),
  );

describe("what each platform writes to .env", () => {
  it("has a row for every platform in each table", () => {
    const keys = PLATFORMS.map((p) => p.key).sort();
    expect(Object.keys(FULL_ENV).sort()).toEqual(keys);
    expect(Object.keys(MINIMAL).sort()).toEqual(keys);
    expect(Object.keys(SECRET_ENV).sort()).toEqual(keys);
  });

  it.each(PLATFORMS.map((p) => [p.key] as const))(
    "%s, every field set: exactly these names and values",
    (key) => {
      expect(envOf(parse({ [key]: FULL[key].block }, FULL[key].secrets))).toEqual(FULL_ENV[key]);
    },
  );

  it.each(PLATFORMS.map((p) => [p.key] as const))(
    "%s, required fields only: no allow-list, flag or optional value is written",
    (key) => {
      expect(envOf(parse({ [key]: MINIMAL[key].block }, requiredSecrets(key)))).toEqual(MINIMAL[key].env);
    },
  );

  it.each(PLATFORMS.map((p) => [p.key] as const))(
    "%s: each list field is written whole, comma-joined, to its one variable",
    (key) => {
      const full = FULL[key].block;
      const lists = Object.keys(full).filter((k) => Array.isArray(full[k]));
      for (const list of lists) {
        const entries = full[list] as string[];
        const doubled = envOf(
          parse({ [key]: { ...full, [list]: [...entries, ...entries] } }, FULL[key].secrets),
        );
        const changed = Object.keys(doubled).filter((n) => doubled[n] !== FULL_ENV[key][n]);
        expect([list, changed.length]).toEqual([list, 1]);
        expect([list, doubled[changed[0]]]).toEqual([list, [...entries, ...entries].join(",")]);
        expect([list, FULL_ENV[key][changed[0]]]).toEqual([list, entries.join(",")]);
      }
    },
  );

  it.each(PLATFORMS.map((p) => [p.key, p] as const))(
    "%s: its credentials come from agentSecrets, under these variables, and only those",
    (key, platform) => {
      expect(Object.fromEntries(platform.secrets.map((s) => [s.env, s.key]))).toEqual(SECRET_ENV[key]);
      // No non-secret variable of the module carries a credential's name.
      expect(Object.keys(platform.variables).filter((n) => n in SECRET_ENV[key])).toEqual([]);
      // The value in .env is the secret as set, under its variable.
      const env = envOf(parse({ [key]: FULL[key].block }, FULL[key].secrets));
      for (const [name, secretKey] of Object.entries(SECRET_ENV[key]))
        if (FULL[key].secrets[secretKey] !== undefined)
          expect([name, env[name]]).toEqual([name, FULL[key].secrets[secretKey]]);
    },
  );
});

/** The problems of FULL[key] with one secret replaced (or removed, for undefined). */
const withSecret = (key: string, secret: string, value: string | undefined) =>
  problemsOf(() =>
    parse({ [key]: FULL[key].block }, { ...FULL[key].secrets, [secret]: value }, (raw) => {
      if (value === undefined) delete raw.agentSecrets.hermes[secret];
    }),
  );

const nsec = `nsec1${"qpzry9x8gf2tvdw0s3jn54khce6mua7l".repeat(2).slice(0, 58)}`;

describe("a platform credential's format, refused by its key path without echoing it", () => {
  // [platform, secret, value, the refusal after "agentSecrets.hermes.<secret>: ", or undefined when it is taken]
  const CASES: Array<[string, string, string, string | undefined]> = [
    // Slack: the bot token is xoxb-, the app-level token xapp- (Socket Mode); a short one is a placeholder first.
    ["slack", "slackBotToken", "xoxb-123-abcdef", undefined],
    ["slack", "slackBotToken", "xoxp-123-abcdef", "must be the bot token starting with xoxb-"],
    ["slack", "slackBotToken", "xapp-1-abcdef", "must be the bot token starting with xoxb-"],
    ["slack", "slackBotToken", "xoxb-1", "is too short to be a real credential (placeholder?)"],
    ["slack", "slackAppToken", "xapp-1-abcdef", undefined],
    ["slack", "slackAppToken", "xoxb-123-abcdef", "must be the app-level token starting with xapp-"],
    ["slack", "slackAppToken", "xapp-1", "is too short to be a real credential (placeholder?)"],
    // Buzz: a bech32 nsec (58 data characters, no 1/b/i/o) or 64 lowercase hex.
    ["buzz", "buzzPrivateKey", nsec, undefined],
    ["buzz", "buzzPrivateKey", "0123456789abcdef".repeat(4), undefined],
    ["buzz", "buzzPrivateKey", `${nsec.slice(0, -1)}b`, "must be an nsec1... or a 64-hex private key"],
    ["buzz", "buzzPrivateKey", nsec.slice(0, -1), "must be an nsec1... or a 64-hex private key"],
    ["buzz", "buzzPrivateKey", `${nsec}q`, "must be an nsec1... or a 64-hex private key"],
    ["buzz", "buzzPrivateKey", "nsec1qpzry9x8", "must be an nsec1... or a 64-hex private key"],
    ["buzz", "buzzPrivateKey", `x${"a".repeat(64)}`, "must be an nsec1... or a 64-hex private key"],
    ["buzz", "buzzPrivateKey", `${"a".repeat(64)}x`, "must be an nsec1... or a 64-hex private key"],
    ["buzz", "buzzPrivateKey", "a".repeat(63), "must be an nsec1... or a 64-hex private key"],
    ["buzz", "buzzPrivateKey", "A".repeat(64), "must be an nsec1... or a 64-hex private key"],
    // WeCom's EncodingAESKey: exactly 43 letters and digits.
    ["wecomCallback", "wecomCallbackEncodingAesKey", "aZ09".repeat(10) + "abc", undefined],
    [
      "wecomCallback",
      "wecomCallbackEncodingAesKey",
      "a".repeat(42),
      "must be WeCom's EncodingAESKey: 43 letters and digits",
    ],
    [
      "wecomCallback",
      "wecomCallbackEncodingAesKey",
      "a".repeat(44),
      "must be WeCom's EncodingAESKey: 43 letters and digits",
    ],
    [
      "wecomCallback",
      "wecomCallbackEncodingAesKey",
      `-${"a".repeat(43)}`,
      "must be WeCom's EncodingAESKey: 43 letters and digits",
    ],
    [
      "wecomCallback",
      "wecomCallbackEncodingAesKey",
      `${"a".repeat(42)}=`,
      "must be WeCom's EncodingAESKey: 43 letters and digits",
    ],
    [
      "wecomCallback",
      "wecomCallbackCorpSecret",
      "x".repeat(7),
      "is too short to be a real credential (placeholder?)",
    ],
    // Meta's app secret: 32 hex characters, either case.
    ["whatsappCloud", "whatsappCloudAppSecret", "0123456789ABCDEF0123456789abcdef", undefined],
    ["whatsappCloud", "whatsappCloudAppSecret", "0".repeat(31), "must be the app secret: 32 hex characters"],
    ["whatsappCloud", "whatsappCloudAppSecret", "0".repeat(33), "must be the app secret: 32 hex characters"],
    [
      "whatsappCloud",
      "whatsappCloudAppSecret",
      `g${"0".repeat(31)}`,
      "must be the app secret: 32 hex characters",
    ],
    [
      "whatsappCloud",
      "whatsappCloudAppSecret",
      `x${"0".repeat(32)}`,
      "must be the app secret: 32 hex characters",
    ],
    [
      "whatsappCloud",
      "whatsappCloudAccessToken",
      "x".repeat(19),
      "is too short to be a real credential (placeholder?)",
    ],
    ["whatsappCloud", "whatsappCloudAccessToken", "x".repeat(20), undefined],
    [
      "whatsappCloud",
      "whatsappCloudVerifyToken",
      "x".repeat(7),
      "is too short to be a real credential (placeholder?)",
    ],
    // Shared secrets checked by hermes: at least 16 characters.
    [
      "msgraphWebhook",
      "msgraphWebhookClientState",
      "x".repeat(15),
      "must be at least 16 characters (openssl rand -hex 32)",
    ],
    ["msgraphWebhook", "msgraphWebhookClientState", "x".repeat(16), undefined],
    ["webhook", "webhookSecret", "x".repeat(15), "must be at least 16 characters (openssl rand -hex 32)"],
    ["webhook", "webhookSecret", "x".repeat(16), undefined],
    // Google Chat's service account key: one line of JSON whose type is service_account.
    ["googleChat", "googleChatServiceAccountJson", '{"type":"service_account"}', undefined],
    [
      "googleChat",
      "googleChatServiceAccountJson",
      '{"type":"authorized_user"}',
      "must be a service account key (its type is service_account)",
    ],
    [
      "googleChat",
      "googleChatServiceAccountJson",
      "[]",
      "must be a service account key (its type is service_account)",
    ],
    [
      "googleChat",
      "googleChatServiceAccountJson",
      "/secrets/key.json",
      "must be the service account key file's JSON",
    ],
    [
      "googleChat",
      "googleChatServiceAccountJson",
      '{"type":"service_account"',
      "must be the service account key file's JSON",
    ],
    // Other formats' floors.
    ["telegram", "telegramBotToken", "x".repeat(7), "is too short to be a real credential (placeholder?)"],
    ["matrix", "matrixAccessToken", "x".repeat(7), "is too short to be a real credential (placeholder?)"],
    ["mattermost", "mattermostToken", "x".repeat(7), "is too short to be a real credential (placeholder?)"],
    ["discord", "discordBotToken", "x".repeat(7), "is too short to be a real credential (placeholder?)"],
  ];

  it.each(CASES)("%s: %s = %j", (key, secret, value, refusal) => {
    const problems = withSecret(key, secret, value);
    expect(problems).toEqual(refusal === undefined ? [] : [`agentSecrets.hermes.${secret}: ${refusal}`]);
  });

  it("a key spread over lines is refused, and the module says how to put it on one", () => {
    const problem = PLATFORMS.find((p) => p.key === "googleChat")!.secrets[0].problem!;
    for (const value of ['{\n"type":"service_account"}', '{"type":\r"service_account"}']) {
      // Through the stack, the .env rule for every secret refuses it first (by its key path, without the value)...
      const problems = withSecret("googleChat", "googleChatServiceAccountJson", value);
      expect(problems).toEqual([
        "agentSecrets.hermes.googleChatServiceAccountJson: contains a line break or NUL character, which .env cannot hold",
      ]);
      // ...and the module's own check, the one that says how, holds on its own.
      expect(problem(value)).toBe("must be the key file's JSON on one line (jq -c . key.json)");
    }
  });
});

describe("the platform modules' own rules", () => {
  const block = (key: string, edit: Record<string, unknown>) => {
    const b: Record<string, unknown> = { ...structuredClone(FULL[key].block), ...edit };
    for (const [k, v] of Object.entries(edit)) if (v === undefined) delete b[k];
    return b;
  };
  const warningsOf = (key: string, edit: Record<string, unknown>, secrets = FULL[key].secrets) =>
    parse({ [key]: block(key, edit) }, secrets).warnings.filter(
      (w) => w.includes(key) || w.includes("agentSecrets"),
    );

  it("SimpleX: a * among the groups answers any group, and says so; listed groups do not", () => {
    const warned =
      "agents.hermes.platforms.simplex.groupAllowed has *: the bot answers every member of any group it is added to.";
    expect(warningsOf("simplex", { groupAllowed: ["5", "*"] })).toContain(warned);
    expect(warningsOf("simplex", { groupAllowed: ["*"] })).toContain(warned);
    expect(warningsOf("simplex", { groupAllowed: ["5"] })).not.toContain(warned);
    expect(warningsOf("simplex", { groupAllowed: [] })).not.toContain(warned);
    // SIMPLEX_GROUP_ALLOWED=* is what hermes reads as any group.
    expect(
      envOf(parse({ simplex: block("simplex", { groupAllowed: ["*"] }) }, {})).SIMPLEX_GROUP_ALLOWED,
    ).toBe("*");
  });

  it("Microsoft Graph: no client state, or a published listener open to every source, is warned about", () => {
    const noState =
      "agentSecrets.hermes.msgraphWebhookClientState is not set: the listener cannot tell Graph's notifications from anyone else's.";
    const open =
      "agents.hermes.platforms.msgraphWebhook.allowedSourceCidrs is empty: anyone who reaches the published port may post notifications.";
    expect(warningsOf("msgraphWebhook", {})).toEqual([]);
    expect(warningsOf("msgraphWebhook", {}, {})).toEqual([noState]);
    expect(warningsOf("msgraphWebhook", { allowedSourceCidrs: [] })).toEqual([open]);
    // Not published: only what reaches the container's network may post, so no warning about sources.
    expect(warningsOf("msgraphWebhook", { allowedSourceCidrs: [], publish: undefined })).toEqual([]);
    expect(warningsOf("msgraphWebhook", { publish: undefined }, {})).toEqual([noState]);
  });

  it("WhatsApp Cloud: no app secret means Meta's signatures go unchecked, which is warned about", () => {
    const warned =
      "agentSecrets.hermes.whatsappCloudAppSecret is not set: hermes cannot verify that inbound webhooks come from Meta.";
    const { whatsappCloudAppSecret: _omitted, ...rest } = FULL.whatsappCloud.secrets;
    expect(warningsOf("whatsappCloud", { allowAllUsers: false })).toEqual([]);
    expect(warningsOf("whatsappCloud", { allowAllUsers: false }, rest)).toEqual([warned]);
  });

  it("Matrix: encryption without a device id is warned about (keys rotate on every restart)", () => {
    const warned =
      "agents.hermes.platforms.matrix.deviceId is not set with encryption on: E2EE keys rotate on every restart and old rooms stop decrypting.";
    expect(warningsOf("matrix", { allowAllUsers: false })).toEqual([]);
    expect(warningsOf("matrix", { allowAllUsers: false, deviceId: undefined })).toEqual([warned]);
    expect(warningsOf("matrix", { allowAllUsers: false, deviceId: undefined, encryption: false })).toEqual(
      [],
    );
    expect(
      warningsOf("matrix", { allowAllUsers: false, deviceId: undefined, encryption: undefined }),
    ).toEqual([]);
  });

  it("Matrix: neither an access token nor a password names both keys and the command to set one", () => {
    const problems = problemsOf(() =>
      parse({ matrix: FULL.matrix.block }, { matrixRecoveryKey: "EsTc recovery key" }),
    );
    expect(problems).toEqual([
      "agentSecrets.hermes: set matrixAccessToken or matrixPassword (agents.hermes.platforms.matrix is enabled). " +
        "Set it with: pulumi config set --secret --path 'agentSecrets.hermes.matrixAccessToken'",
    ]);
  });

  it("an open bot is warned about by its allowAllUsers key path, for every platform with senders", () => {
    for (const p of PLATFORMS.filter((x) => x.access)) {
      const open = `agents.hermes.platforms.${p.key}.allowAllUsers is on: anyone who finds the bot can use the agent and its tools.`;
      expect([p.key, parse({ [p.key]: FULL[p.key].block }, FULL[p.key].secrets).warnings]).toEqual([
        p.key,
        expect.arrayContaining([open]),
      ]);
      expect([p.key, warningsOf(p.key, { allowAllUsers: false })]).toEqual([
        p.key,
        expect.not.arrayContaining([open]),
      ]);
    }
  });
});
