/**
 * Weixin (personal WeChat) through the iLink Bot API (outbound long polling: no inbound port). Enabled by
 * WEIXIN_TOKEN or WEIXIN_ACCOUNT_ID (gateway/config.py `_apply_env_overrides`); both come from a QR login, so the
 * health gate does not wait for it, as for WhatsApp. Variables (environment reference, "Messaging"):
 * WEIXIN_ALLOWED_USERS, WEIXIN_ALLOW_ALL_USERS, WEIXIN_HOME_CHANNEL. Its DM and group policies are hermes' defaults
 * (platforms/access.ts refuses setting them by hand): the gateway still allows only listed or paired senders.
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
  accountId: requiredId(
    "WEIXIN_ACCOUNT_ID",
    "account id",
    "the iLink account id from the QR login",
    "weixin",
  ),
  allowedUsers: senderList("WEIXIN_ALLOWED_USERS", "user ids", "a Weixin user id"),
  allowAllUsers: allowAllUsers(),
  homeChannel: homeChannel("WEIXIN_HOME_CHANNEL", "chat id", "a Weixin chat id"),
});

export const weixin = definePlatform({
  key: "weixin",
  hermesName: "weixin",
  title: "Weixin (WeChat)",
  readme: { inbound: "none", note: "logged in once with its QR code" },
  schema,
  secrets: [
    {
      key: "weixinToken",
      env: "WEIXIN_TOKEN",
      doc: doc("secret", "none (QR login)", "`WEIXIN_TOKEN`: the iLink token from the QR login."),
      problem: tooShort(),
    },
  ],
  variables: {
    WEIXIN_ACCOUNT_ID: (b) => b.accountId,
    WEIXIN_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    WEIXIN_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    WEIXIN_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
  connectsAfterPairing: true,
});
