/**
 * Discord (gateway websocket: no inbound port). Variables: hermes' environment reference, "Messaging":
 * DISCORD_BOT_TOKEN, DISCORD_ALLOWED_USERS, DISCORD_ALLOWED_ROLES (OR'ed with users), DISCORD_ALLOWED_CHANNELS,
 * DISCORD_ALLOW_ALL_USERS, DISCORD_REQUIRE_MENTION, DISCORD_HOME_CHANNEL.
 */
import { bool, doc, numericId, numericIds, strictObject } from "../fields";
import { allowAllUsers, definePlatform, flag, joined, text, tooShort } from "./platform";

const schema = strictObject({
  allowedUsers: numericIds("Discord user")
    .default([])
    .meta(doc("numeric ids", "`[]`", "`DISCORD_ALLOWED_USERS`.")),
  allowedRoles: numericIds("Discord role")
    .default([])
    .meta(doc("numeric ids", "`[]`", "`DISCORD_ALLOWED_ROLES` (OR'ed with users).")),
  allowedChannels: numericIds("Discord channel")
    .default([])
    .meta(doc("numeric ids", "`[]`", "`DISCORD_ALLOWED_CHANNELS`: the channels the bot answers in.")),
  requireMention: bool.optional().meta(doc("bool", "hermes'", "`DISCORD_REQUIRE_MENTION`.")),
  allowAllUsers: allowAllUsers(),
  homeChannel: numericId(/^\d{1,20}$/, "a numeric channel id")
    .optional()
    .meta(doc("channel id", "none", "`DISCORD_HOME_CHANNEL`: where proactive messages (cron) go.")),
});

export const discord = definePlatform({
  key: "discord",
  hermesName: "discord",
  title: "Discord",
  readme: { inbound: "none" },
  schema,
  secrets: [
    {
      key: "discordBotToken",
      env: "DISCORD_BOT_TOKEN",
      doc: doc("secret", "required with discord", "`DISCORD_BOT_TOKEN`."),
      requiredBecause: () => "platforms.discord is enabled",
      problem: tooShort(),
    },
  ],
  variables: {
    DISCORD_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    DISCORD_ALLOWED_ROLES: (b) => joined(b.allowedRoles),
    DISCORD_ALLOWED_CHANNELS: (b) => joined(b.allowedChannels),
    DISCORD_REQUIRE_MENTION: (b) => text(b.requireMention),
    DISCORD_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    DISCORD_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: (b) => ({
    allowAll: b.allowAllUsers,
    allowListed: b.allowedUsers.length + b.allowedRoles.length > 0,
  }),
});
