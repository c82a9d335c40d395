/**
 * Mattermost (websocket: no inbound port). Variables: hermes' environment reference, "Messaging": MATTERMOST_URL,
 * MATTERMOST_TOKEN, MATTERMOST_ALLOWED_USERS, MATTERMOST_ALLOWED_CHANNELS, MATTERMOST_ALLOW_ALL_USERS,
 * MATTERMOST_HOME_CHANNEL, MATTERMOST_REQUIRE_MENTION. hermes enables it on MATTERMOST_TOKEN alone
 * (gateway/config.py `_apply_env_overrides`); `url` is required all the same because hermes would fail at runtime
 * without it: that block only logs "MATTERMOST_TOKEN set but MATTERMOST_URL is missing" and stores an empty URL.
 */
import { z } from "zod";
import { bool, doc, httpUrl, list, listEntry, strictObject } from "../fields";
import { allowAllUsers, definePlatform, flag, joined, text, tooShort } from "./platform";

// Mattermost ids are 26 lowercase base32 characters.
const mmId = /^[a-z0-9]{26}$/;

const schema = strictObject({
  url: httpUrl("https://mm.example.com").meta(
    doc("http(s) URL", "required with mattermost", "`MATTERMOST_URL`."),
  ),
  allowedUsers: list(listEntry(mmId, "a Mattermost user id (26 characters a-z, 0-9)"))
    .default([])
    .meta(doc("user ids", "`[]`", "`MATTERMOST_ALLOWED_USERS`.")),
  allowedChannels: list(listEntry(mmId, "a Mattermost channel id (26 characters a-z, 0-9)"))
    .default([])
    .meta(doc("channel ids", "`[]`", "`MATTERMOST_ALLOWED_CHANNELS`: the channels the bot answers in.")),
  allowAllUsers: allowAllUsers(),
  homeChannel: z
    .string()
    .regex(mmId, { error: "must be a Mattermost channel id (26 characters a-z, 0-9)" })
    .optional()
    .meta(doc("channel id", "none", "`MATTERMOST_HOME_CHANNEL`: where proactive messages (cron) go.")),
  requireMention: bool
    .optional()
    .meta(doc("bool", "hermes' (`true`)", "`MATTERMOST_REQUIRE_MENTION` in channels.")),
});

export const mattermost = definePlatform({
  key: "mattermost",
  hermesName: "mattermost",
  title: "Mattermost",
  readme: { inbound: "none" },
  schema,
  secrets: [
    {
      key: "mattermostToken",
      env: "MATTERMOST_TOKEN",
      doc: doc("secret", "required with mattermost", "`MATTERMOST_TOKEN` (bot or personal access token)."),
      requiredBecause: () => "platforms.mattermost is enabled",
      problem: tooShort(),
    },
  ],
  variables: {
    MATTERMOST_URL: (b) => b.url,
    MATTERMOST_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    MATTERMOST_ALLOWED_CHANNELS: (b) => joined(b.allowedChannels),
    MATTERMOST_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    MATTERMOST_HOME_CHANNEL: (b) => b.homeChannel,
    MATTERMOST_REQUIRE_MENTION: (b) => text(b.requireMention),
  },
  access: (b) => ({ allowAll: b.allowAllUsers, allowListed: b.allowedUsers.length > 0 }),
});
