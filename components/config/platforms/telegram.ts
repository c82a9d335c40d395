/**
 * Telegram (long polling: no inbound port). Variables: hermes' environment reference, "Messaging":
 * TELEGRAM_BOT_TOKEN, TELEGRAM_ALLOWED_USERS (DMs, groups and forums), TELEGRAM_GROUP_ALLOWED_USERS (senders in
 * groups only), TELEGRAM_GROUP_ALLOWED_CHATS (group/forum chat ids, any member), TELEGRAM_ALLOW_ALL_USERS,
 * TELEGRAM_HOME_CHANNEL, TELEGRAM_REQUIRE_MENTION.
 */
import { bool, doc, list, numericId, numericIds, strictObject } from "../fields";
import { allowAllUsers, definePlatform, flag, joined, text, tooShort } from "./platform";

const chatId = numericId(/^-?\d{1,20}$/, "a numeric chat id (groups are negative, e.g. -1001234567890)");

const schema = strictObject({
  allowedUsers: numericIds("Telegram user")
    .default([])
    .meta(doc("numeric ids", "`[]`", "`TELEGRAM_ALLOWED_USERS` (DMs and groups); empty = pair users.")),
  groupAllowedUsers: numericIds("Telegram user")
    .default([])
    .meta(
      doc("numeric ids", "`[]`", "`TELEGRAM_GROUP_ALLOWED_USERS`: senders allowed in groups only (no DMs)."),
    ),
  groupAllowedChats: list(chatId)
    .default([])
    .meta(
      doc(
        "chat ids",
        "`[]`",
        "`TELEGRAM_GROUP_ALLOWED_CHATS`: groups whose every member may talk to the bot.",
      ),
    ),
  allowAllUsers: allowAllUsers(),
  homeChannel: numericId(/^-?\d{1,20}$/, "a numeric chat id")
    .optional()
    .meta(doc("chat id", "none", "`TELEGRAM_HOME_CHANNEL`: where proactive messages (cron) go.")),
  requireMention: bool
    .optional()
    .meta(doc("bool", "hermes'", "`TELEGRAM_REQUIRE_MENTION`: answer in groups only when mentioned.")),
});

export const telegram = definePlatform({
  key: "telegram",
  hermesName: "telegram",
  title: "Telegram",
  readme: { inbound: "none (polling)" },
  schema,
  secrets: [
    {
      key: "telegramBotToken",
      env: "TELEGRAM_BOT_TOKEN",
      doc: doc("secret", "required with telegram", "`TELEGRAM_BOT_TOKEN` (from @BotFather)."),
      requiredBecause: () => "platforms.telegram is enabled",
      problem: tooShort(),
    },
  ],
  variables: {
    TELEGRAM_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    TELEGRAM_GROUP_ALLOWED_USERS: (b) => joined(b.groupAllowedUsers),
    TELEGRAM_GROUP_ALLOWED_CHATS: (b) => joined(b.groupAllowedChats),
    TELEGRAM_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    TELEGRAM_HOME_CHANNEL: (b) => b.homeChannel,
    TELEGRAM_REQUIRE_MENTION: (b) => text(b.requireMention),
  },
  access: (b) => ({
    allowAll: b.allowAllUsers,
    allowListed: b.allowedUsers.length + b.groupAllowedUsers.length + b.groupAllowedChats.length > 0,
  }),
});
