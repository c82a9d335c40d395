/**
 * Feishu / Lark over its websocket long connection (outbound: no inbound port; hermes' webhook mode, which listens,
 * is not offered). Enabled by FEISHU_APP_ID and FEISHU_APP_SECRET together (gateway/config.py
 * `_apply_env_overrides`, which defaults FEISHU_CONNECTION_MODE to websocket). Variables (environment reference,
 * "Messaging"): FEISHU_DOMAIN (`feishu` or `lark`), FEISHU_CONNECTION_MODE, FEISHU_ALLOWED_USERS,
 * FEISHU_ALLOW_ALL_USERS, FEISHU_HOME_CHANNEL, FEISHU_REQUIRE_MENTION. The published image lacks its SDK (pyproject.toml
 * @00067189: the `feishu` extra is not among the extras the Dockerfile installs), so it needs an image built with it.
 */
import { z } from "zod";
import { bool, doc, strictObject } from "../fields";
import {
  accessOf,
  allowAllUsers,
  definePlatform,
  flag,
  homeChannel,
  joined,
  requiredId,
  senderList,
  text,
  tooShort,
} from "./platform";

const schema = strictObject({
  appId: requiredId(
    "FEISHU_APP_ID",
    "`cli_...`",
    "a Feishu/Lark App ID such as cli_a1b2c3",
    "feishu",
    /^cli_\w{4,64}$/,
  ),
  domain: z
    .enum(["feishu", "lark"], { error: "must be 'feishu' (China) or 'lark' (international)" })
    .optional()
    .meta(doc("`feishu`, `lark`", "hermes' (`feishu`)", "`FEISHU_DOMAIN`.")),
  allowedUsers: senderList("FEISHU_ALLOWED_USERS", "user ids", "a Feishu user id"),
  allowAllUsers: allowAllUsers(),
  homeChannel: homeChannel("FEISHU_HOME_CHANNEL", "chat id", "a Feishu chat id"),
  requireMention: bool
    .optional()
    .meta(doc("bool", "hermes' (`true`)", "`FEISHU_REQUIRE_MENTION`: group messages must @mention the bot.")),
});

export const feishu = definePlatform({
  key: "feishu",
  hermesName: "feishu",
  title: "Feishu / Lark",
  readme: { inbound: "none (websocket)", note: "needs an image with the `feishu` extra" },
  schema,
  secrets: [
    {
      key: "feishuAppSecret",
      env: "FEISHU_APP_SECRET",
      doc: doc("secret", "required with feishu", "`FEISHU_APP_SECRET`."),
      requiredBecause: () =>
        "platforms.feishu is enabled (hermes enables it on the App ID and App Secret together)",
      problem: tooShort(),
    },
  ],
  variables: {
    FEISHU_APP_ID: (b) => b.appId,
    FEISHU_DOMAIN: (b) => b.domain,
    FEISHU_CONNECTION_MODE: () => "websocket",
    FEISHU_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    FEISHU_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    FEISHU_HOME_CHANNEL: (b) => b.homeChannel,
    FEISHU_REQUIRE_MENTION: (b) => text(b.requireMention),
  },
  imageLacks: () => "the Feishu/Lark SDK (pyproject extra `feishu`: lark-oapi)",
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
});
