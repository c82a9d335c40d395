/**
 * WeCom in callback mode (a self-built app): WeCom posts encrypted callbacks to a server hermes runs, so it listens.
 * Enabled by WECOM_CALLBACK_CORP_ID and WECOM_CALLBACK_CORP_SECRET together (gateway/config.py
 * `_apply_env_overrides`, which also reads WECOM_CALLBACK_AGENT_ID, _TOKEN, _ENCODING_AES_KEY, _HOST and _PORT,
 * default 8645). Variables (environment reference, "Messaging"): WECOM_CALLBACK_ALLOWED_USERS,
 * WECOM_CALLBACK_ALLOW_ALL_USERS.
 */
import { z } from "zod";
import { doc, strictObject } from "../fields";
import {
  accessOf,
  allowAllUsers,
  definePlatform,
  flag,
  joined,
  publishBlock,
  publishedAt,
  requiredId,
  senderList,
  tooShort,
} from "./platform";

/** The port the callback server listens on inside the container (hermes' default). */
export const WECOM_CALLBACK_CONTAINER_PORT = 8645;

const schema = strictObject({
  corpId: requiredId("WECOM_CALLBACK_CORP_ID", "`ww...`", "a WeCom Corp ID", "wecomCallback"),
  agentId: requiredId(
    "WECOM_CALLBACK_AGENT_ID",
    "digits",
    "the app's numeric Agent ID",
    "wecomCallback",
    /^\d{1,20}$/,
  ),
  allowedUsers: senderList("WECOM_CALLBACK_ALLOWED_USERS", "user ids", "a WeCom user id"),
  allowAllUsers: allowAllUsers(),
  publish: publishBlock(WECOM_CALLBACK_CONTAINER_PORT, "callback server"),
});

export const wecomCallback = definePlatform({
  key: "wecomCallback",
  hermesName: "wecom_callback",
  title: "WeCom (callback app)",
  readme: { inbound: "8645, published only with `publish`", note: "WeCom must reach the callback URL" },
  schema,
  secrets: [
    {
      key: "wecomCallbackCorpSecret",
      env: "WECOM_CALLBACK_CORP_SECRET",
      doc: doc("secret", "required with wecomCallback", "`WECOM_CALLBACK_CORP_SECRET`."),
      requiredBecause: () =>
        "platforms.wecomCallback is enabled (hermes enables it on the Corp ID and Corp secret together)",
      problem: tooShort(),
    },
    {
      key: "wecomCallbackToken",
      env: "WECOM_CALLBACK_TOKEN",
      doc: doc("secret", "none", "`WECOM_CALLBACK_TOKEN`: the callback verification token."),
    },
    {
      key: "wecomCallbackEncodingAesKey",
      env: "WECOM_CALLBACK_ENCODING_AES_KEY",
      doc: doc("secret, 43 chars", "none", "`WECOM_CALLBACK_ENCODING_AES_KEY`: decrypts the callbacks."),
      problem: (v) =>
        /^[A-Za-z0-9]{43}$/.test(v) ? undefined : "must be WeCom's EncodingAESKey: 43 letters and digits",
    },
  ],
  variables: {
    WECOM_CALLBACK_CORP_ID: (b) => b.corpId,
    WECOM_CALLBACK_AGENT_ID: (b) => b.agentId,
    WECOM_CALLBACK_HOST: () => "0.0.0.0",
    WECOM_CALLBACK_PORT: () => String(WECOM_CALLBACK_CONTAINER_PORT),
    WECOM_CALLBACK_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    WECOM_CALLBACK_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
  inbound: publishedAt(WECOM_CALLBACK_CONTAINER_PORT),
});
