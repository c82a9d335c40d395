/**
 * DingTalk in Stream mode (an outbound connection: no inbound port). Enabled by DINGTALK_CLIENT_ID and
 * DINGTALK_CLIENT_SECRET together (gateway/config.py `_apply_env_overrides`). Variables (environment reference,
 * "Messaging"): DINGTALK_ALLOWED_USERS, DINGTALK_HOME_CHANNEL; DINGTALK_ALLOW_ALL_USERS from gateway/run.py
 * `_is_user_authorized` (`platform_allow_all_map`). The published image lacks its SDK (pyproject.toml @00067189: the
 * `dingtalk` extra is not among the extras the Dockerfile installs), so it needs an image built with it.
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
  clientId: requiredId("DINGTALK_CLIENT_ID", "AppKey", "the bot's AppKey (no blanks or commas)", "dingtalk"),
  allowedUsers: senderList("DINGTALK_ALLOWED_USERS", "user ids", "a DingTalk user id"),
  allowAllUsers: allowAllUsers(),
  homeChannel: homeChannel("DINGTALK_HOME_CHANNEL", "conversation id", "a DingTalk conversation id"),
});

export const dingtalk = definePlatform({
  key: "dingtalk",
  hermesName: "dingtalk",
  title: "DingTalk",
  readme: { inbound: "none (Stream mode)", note: "needs an image with the `dingtalk` extra" },
  schema,
  secrets: [
    {
      key: "dingtalkClientSecret",
      env: "DINGTALK_CLIENT_SECRET",
      doc: doc("secret", "required with dingtalk", "`DINGTALK_CLIENT_SECRET` (the AppSecret)."),
      requiredBecause: () =>
        "platforms.dingtalk is enabled (hermes enables it on the AppKey and AppSecret together)",
      problem: tooShort(),
    },
  ],
  variables: {
    DINGTALK_CLIENT_ID: (b) => b.clientId,
    DINGTALK_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    DINGTALK_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    DINGTALK_HOME_CHANNEL: (b) => b.homeChannel,
  },
  imageLacks: () => "DingTalk's SDK (pyproject extra `dingtalk`: dingtalk-stream)",
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
});
