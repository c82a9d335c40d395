/**
 * Slack in Socket Mode (outbound websocket: no inbound port). Variables: hermes' environment reference,
 * "Messaging": SLACK_BOT_TOKEN (xoxb-), SLACK_APP_TOKEN (xapp-, Socket Mode), SLACK_ALLOWED_USERS,
 * SLACK_ALLOW_ALL_USERS, SLACK_HOME_CHANNEL. hermes enables Slack on SLACK_BOT_TOKEN alone (gateway/config.py
 * `_apply_env_overrides`); the app token is required all the same because hermes fails at runtime without it:
 * gateway/platforms/slack.py `SlackAdapter.connect` (Socket Mode only) logs "[Slack] SLACK_APP_TOKEN not set" and
 * returns False (read at 01dd0a19; the reference @00067189: "required for Socket Mode").
 */
import { z } from "zod";
import { doc, list, listEntry, strictObject } from "../fields";
import { allowAllUsers, definePlatform, flag, joined, tooShort } from "./platform";

const schema = strictObject({
  allowedUsers: list(listEntry(/^[UW][A-Z0-9]{2,20}$/, "a Slack member id such as U012ABCDEF"))
    .default([])
    .meta(doc("member ids `U...`", "`[]`", "`SLACK_ALLOWED_USERS`.")),
  allowAllUsers: allowAllUsers("Anyone in the workspace"),
  homeChannel: z
    .string()
    .regex(/^[CDG][A-Z0-9]{2,20}$/, { error: "must be a Slack channel id such as C012ABCDEF" })
    .optional()
    .meta(doc("channel id `C...`", "none", "`SLACK_HOME_CHANNEL`: where proactive messages (cron) go.")),
});

const prefixed = (prefix: string, what: string) => (value: string) =>
  tooShort()(value) ?? (value.startsWith(prefix) ? undefined : `must be the ${what} starting with ${prefix}`);

export const slack = definePlatform({
  key: "slack",
  hermesName: "slack",
  title: "Slack",
  readme: { inbound: "none (Socket Mode)" },
  schema,
  secrets: [
    {
      key: "slackBotToken",
      env: "SLACK_BOT_TOKEN",
      doc: doc("secret, `xoxb-...`", "required with slack", "`SLACK_BOT_TOKEN`."),
      requiredBecause: () => "platforms.slack is enabled (Socket Mode needs the xoxb- bot token)",
      problem: prefixed("xoxb-", "bot token"),
    },
    {
      key: "slackAppToken",
      env: "SLACK_APP_TOKEN",
      doc: doc("secret, `xapp-...`", "required with slack", "`SLACK_APP_TOKEN` (Socket Mode)."),
      requiredBecause: () => "platforms.slack is enabled (Socket Mode needs the xapp- app token)",
      problem: prefixed("xapp-", "app-level token"),
    },
  ],
  variables: {
    SLACK_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    SLACK_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    SLACK_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: (b) => ({ allowAll: b.allowAllUsers, allowListed: b.allowedUsers.length > 0 }),
});
