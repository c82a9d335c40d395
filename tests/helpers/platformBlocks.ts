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
  homeAssistant: {
    block: { url: "http://10.1.10.40:8123" },
    secrets: { homeAssistantToken: "hass-token-abcdef" },
  },
  webhook: {
    block: { publish: { port: 8644, bind: "0.0.0.0" } },
    secrets: { webhookSecret: "0123456789abcdef0123" },
  },
};
