/**
 * WeCom (Enterprise WeChat) AI Bot over its websocket (outbound: no inbound port). Enabled by WECOM_BOT_ID and
 * WECOM_SECRET together (gateway/config.py `_apply_env_overrides`). Variables (environment reference, "Messaging"):
 * WECOM_ALLOWED_USERS, WECOM_HOME_CHANNEL; WECOM_ALLOW_ALL_USERS from gateway/run.py `_is_user_authorized`.
 */
import { z } from "zod";
import { doc, strictObject } from "../fields";
import {
  accessOf,
  allowAllUsers,
  definePlatform,
  flag,
  homeChannel,
  joined,
  requiredId,
  senderList,
  tooShort,
} from "./platform";

const schema = strictObject({
  botId: requiredId("WECOM_BOT_ID", "bot id", "the WeCom AI Bot ID (no blanks or commas)", "wecom"),
  allowedUsers: senderList("WECOM_ALLOWED_USERS", "user ids", "a WeCom user id"),
  allowAllUsers: allowAllUsers(),
  homeChannel: homeChannel("WECOM_HOME_CHANNEL", "chat id", "a WeCom chat id"),
});

export const wecom = definePlatform({
  key: "wecom",
  hermesName: "wecom",
  title: "WeCom (AI Bot)",
  readme: { inbound: "none (websocket)" },
  schema,
  secrets: [
    {
      key: "wecomSecret",
      env: "WECOM_SECRET",
      doc: doc("secret", "required with wecom", "`WECOM_SECRET`: the AI Bot's secret."),
      requiredBecause: () =>
        "platforms.wecom is enabled (hermes enables it on the bot id and secret together)",
      problem: tooShort(),
    },
  ],
  variables: {
    WECOM_BOT_ID: (b) => b.botId,
    WECOM_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    WECOM_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    WECOM_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
});
