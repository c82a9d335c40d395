/**
 * QQ through the official Bot API v2 (outbound websocket: no inbound port). Enabled by QQ_APP_ID or
 * QQ_CLIENT_SECRET (gateway/config.py `_apply_env_overrides`). Variables (environment reference, "Messaging"):
 * QQ_ALLOWED_USERS (openIDs), QQ_GROUP_ALLOWED_USERS (group ids: every member may talk, gateway/run.py
 * `platform_group_chat_env_map`), QQ_ALLOW_ALL_USERS, QQBOT_HOME_CHANNEL.
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
  appId: requiredId("QQ_APP_ID", "digits", "the bot's numeric App ID from q.qq.com", "qq", /^\d{4,20}$/),
  allowedUsers: senderList("QQ_ALLOWED_USERS", "openIDs", "a QQ user openID"),
  groupAllowedUsers: senderList("QQ_GROUP_ALLOWED_USERS", "group ids", "a QQ group id"),
  allowAllUsers: allowAllUsers(),
  homeChannel: homeChannel("QQBOT_HOME_CHANNEL", "openID", "a QQ user or group openID"),
});

export const qq = definePlatform({
  key: "qq",
  hermesName: "qqbot",
  title: "QQ",
  readme: { inbound: "none (websocket)" },
  schema,
  secrets: [
    {
      key: "qqClientSecret",
      env: "QQ_CLIENT_SECRET",
      doc: doc("secret", "required with qq", "`QQ_CLIENT_SECRET` (the App Secret)."),
      requiredBecause: () => "platforms.qq is enabled (the bot signs in with its App ID and App Secret)",
      problem: tooShort(),
    },
  ],
  variables: {
    QQ_APP_ID: (b) => b.appId,
    QQ_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    QQ_GROUP_ALLOWED_USERS: (b) => joined(b.groupAllowedUsers),
    QQ_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    QQBOT_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf(
    (b: z.output<typeof schema>) => b.allowedUsers,
    (b) => b.groupAllowedUsers,
  ),
});
