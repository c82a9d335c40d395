/**
 * A full block and its secrets for every platform: every optional field set, so every variable renders. What
 * platforms.test.ts checks against hermes' own variable list, and what the program tier's secrecy scan enables.
 */
export const FULL: Record<string, { block: Record<string, unknown>; secrets: Record<string, string> }> = {
  telegram: {
    block: {
      allowedUsers: ["111"],
      groupAllowedUsers: ["222"],
      groupAllowedChats: ["-1001234567890"],
      allowAllUsers: true,
      homeChannel: "-100999",
      requireMention: true,
    },
    secrets: { telegramBotToken: "123456:tg-token-abcdef" },
  },
  discord: {
    block: {
      allowedUsers: ["1"],
      allowedRoles: ["2"],
      allowedChannels: ["3"],
      requireMention: false,
      allowAllUsers: true,
      homeChannel: "4",
    },
    secrets: { discordBotToken: "discord-token-abcdef" },
  },
  slack: {
    block: { allowedUsers: ["U012ABCDEF"], allowAllUsers: true, homeChannel: "C012ABCDEF" },
    secrets: { slackBotToken: "xoxb-123-abcdef", slackAppToken: "xapp-1-abcdef" },
  },
  matrix: {
    block: {
      homeserver: "https://matrix.example.org",
      userId: "@hermes:example.org",
      allowedUsers: ["@alice:example.org"],
      allowedRooms: ["!room1:example.org"],
      allowAllUsers: true,
      homeRoom: "!home:example.org",
      requireMention: true,
      encryption: true,
      deviceId: "HERMES_BOT",
    },
    secrets: { matrixAccessToken: "syt_matrix_token_1", matrixRecoveryKey: "EsTc recovery key" },
  },
  mattermost: {
    block: {
      url: "https://mm.example.com",
      allowedUsers: ["abcdefghijklmnopqrstuvwxyz"],
      allowedChannels: ["zyxwvutsrqponmlkjihgfedcba"],
      allowAllUsers: true,
      homeChannel: "zyxwvutsrqponmlkjihgfedcba",
      requireMention: false,
    },
    secrets: { mattermostToken: "mm-token-abcdef" },
  },
  signal: {
    block: {
      httpUrl: "http://10.1.10.5:8080",
      account: "+15551234567",
      allowedUsers: ["+15557654321", "0b9f1c2e-1111-2222-3333-444455556666"],
      groupAllowedUsers: ["*"],
      allowAllUsers: true,
    },
    secrets: {},
  },
  whatsapp: { block: { mode: "self-chat", allowedUsers: ["15551234567"], allowAllUsers: true }, secrets: {} },
  email: {
    block: {
      address: "hermes@example.org",
      imapHost: "imap.example.org",
      imapPort: 993,
      smtpHost: "smtp.example.org",
      smtpPort: 587,
      allowedUsers: ["alice@example.org"],
      allowAllUsers: true,
      pollIntervalSeconds: 60,
      homeAddress: "alice@example.org",
    },
    secrets: { emailPassword: "app password" },
  },
  sms: {
    block: {
      accountSid: `AC${"0123456789abcdef".repeat(2)}`,
      phoneNumber: "+15551234567",
      webhookUrl: "https://sms.example.org/webhooks/twilio",
      allowedUsers: ["+15557654321"],
      allowAllUsers: true,
      homeChannel: "+15557654321",
      publish: { port: 8080 },
    },
    secrets: { twilioAuthToken: "0123456789abcdef0123456789abcdef" },
  },
  whatsappCloud: {
    block: {
      phoneNumberId: "123456789012345",
      allowedUsers: ["15551234567"],
      allowAllUsers: true,
      homeChannel: "15551234567",
      publish: { port: 8090 },
    },
    secrets: {
      whatsappCloudAccessToken: "EAAG-access-token-abcdef",
      whatsappCloudAppSecret: "0123456789abcdef0123456789abcdef",
      whatsappCloudVerifyToken: "verify-token-1",
    },
  },
  dingtalk: {
    block: { clientId: "dingabc123", allowedUsers: ["manager1"], allowAllUsers: true, homeChannel: "cid123" },
    secrets: { dingtalkClientSecret: "dingtalk-secret-1" },
  },
  feishu: {
    block: {
      appId: "cli_a1b2c3d4",
      domain: "lark",
      allowedUsers: ["ou_123"],
      allowAllUsers: true,
      homeChannel: "oc_123",
      requireMention: true,
    },
    secrets: { feishuAppSecret: "feishu-secret-1" },
  },
  wecom: {
    block: { botId: "bot123", allowedUsers: ["zhangsan"], allowAllUsers: true, homeChannel: "chat1" },
    secrets: { wecomSecret: "wecom-secret-1" },
  },
  wecomCallback: {
    block: {
      corpId: "ww0123456789",
      agentId: "1000002",
      allowedUsers: ["zhangsan"],
      allowAllUsers: true,
      publish: { port: 8645 },
    },
    secrets: {
      wecomCallbackCorpSecret: "corp-secret-1",
      wecomCallbackToken: "callback-token",
      wecomCallbackEncodingAesKey: "a".repeat(43),
    },
  },
  weixin: {
    block: {
      accountId: "wxid_abc@im.bot",
      allowedUsers: ["wxid_friend"],
      allowAllUsers: true,
      homeChannel: "wxid_friend",
    },
    secrets: { weixinToken: "weixin-token-1" },
  },
  bluebubbles: {
    block: {
      serverUrl: "http://10.1.10.60:1234",
      allowedUsers: ["+15557654321", "alice@example.org"],
      allowAllUsers: true,
      homeChannel: "+15557654321",
      publish: { port: 8647 },
    },
    secrets: { bluebubblesPassword: "bb-password" },
  },
  qq: {
    block: {
      appId: "102000000",
      allowedUsers: ["OPENID1"],
      groupAllowedUsers: ["GROUP1"],
      allowAllUsers: true,
      homeChannel: "OPENID1",
    },
    secrets: { qqClientSecret: "qq-secret-123" },
  },
  yuanbao: {
    block: { appId: "ybapp1", allowedUsers: ["user1"], allowAllUsers: true, homeChannel: "direct:user1" },
    secrets: { yuanbaoAppSecret: "yuanbao-secret-1" },
  },
  msgraphWebhook: {
    block: {
      acceptedResources: ["communications/onlineMeetings", "chats/*/messages"],
      allowedSourceCidrs: ["52.96.0.0/14"],
      publish: { port: 8649 },
    },
    secrets: { msgraphWebhookClientState: "0123456789abcdef0123" },
  },
  googleChat: {
    block: {
      projectId: "my-project",
      subscriptionName: "projects/my-project/subscriptions/hermes-chat",
      allowedUsers: ["alice@example.org"],
      allowAllUsers: true,
      homeChannel: "spaces/AAAA1234",
    },
    secrets: { googleChatServiceAccountJson: '{"type":"service_account","project_id":"my-project"}' },
  },
  teams: {
    block: {
      clientId: "00000000-0000-0000-0000-000000000001",
      tenantId: "00000000-0000-0000-0000-000000000002",
      allowedUsers: ["alice@example.org"],
      allowAllUsers: true,
      homeChannel: "19:abc@thread.tacv2",
      publish: { port: 3978 },
    },
    secrets: { teamsClientSecret: "teams-secret-1" },
  },
  line: {
    block: {
      publicUrl: "https://line.example.org",
      allowedUsers: [`U${"0".repeat(32)}`],
      allowedGroups: [`C${"1".repeat(32)}`],
      allowedRooms: [`R${"2".repeat(32)}`],
      allowAllUsers: true,
      homeChannel: `U${"0".repeat(32)}`,
      publish: { port: 8646 },
    },
    secrets: { lineChannelAccessToken: "line-token-1", lineChannelSecret: "line-secret-1" },
  },
  ntfy: {
    block: {
      topic: "hermes-in",
      serverUrl: "https://ntfy.example.org",
      publishTopic: "hermes-out",
      allowedUsers: ["hermes-in"],
      allowAllUsers: true,
      homeChannel: "hermes-out",
    },
    secrets: { ntfyToken: "tk_abcdef" },
  },
  irc: {
    block: {
      server: "irc.libera.chat",
      port: 6697,
      useTls: true,
      channels: ["#hermes"],
      nickname: "hermes-bot",
      allowedUsers: ["alice"],
      allowAllUsers: true,
      homeChannel: "#hermes",
    },
    secrets: { ircServerPassword: "server-pass", ircNickservPassword: "nickserv-pass" },
  },
  simplex: {
    block: {
      wsUrl: "ws://10.1.10.7:5225",
      allowedUsers: ["2"],
      allowAllUsers: true,
      autoAccept: false,
      groupAllowed: ["5"],
      homeChannel: "2",
    },
    secrets: {},
  },
  photon: {
    block: {
      projectId: "proj_123",
      allowedUsers: ["+15557654321"],
      allowAllUsers: true,
      requireMention: true,
      homeChannel: "+15557654321",
    },
    secrets: { photonProjectSecret: "photon-secret-1" },
  },
  buzz: {
    block: {
      relayUrl: "https://mycommunity.communities.buzz.xyz",
      channels: ["0b9f1c2e-1111-2222-3333-444455556666"],
      allowedUsers: ["a".repeat(64)],
      allowAllUsers: true,
      homeChannel: "0b9f1c2e-1111-2222-3333-444455556666",
      cliPath: "/workspace/bin/buzz",
    },
    secrets: { buzzPrivateKey: "b".repeat(64) },
  },
  homeAssistant: {
    block: { url: "http://10.1.10.40:8123" },
    secrets: { homeAssistantToken: "hass-token-abcdef" },
  },
  webhook: {
    block: { publish: { port: 8644, bind: "0.0.0.0" } },
    secrets: { webhookSecret: "0123456789abcdef0123" },
  },
};
