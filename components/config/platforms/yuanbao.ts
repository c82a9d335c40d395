/**
 * Yuanbao (Tencent), a built-in platform of the pinned release (website/docs/user-guide/messaging/yuanbao.md
 * @00067189): an outbound WebSocket gateway, no inbound port. Enabled by YUANBAO_APP_ID (or its alias
 * YUANBAO_APP_KEY) and YUANBAO_APP_SECRET together (gateway/config.py `_apply_env_overrides`), which also reads
 * YUANBAO_WS_URL, YUANBAO_API_DOMAIN (built-in defaults), YUANBAO_BOT_ID and YUANBAO_HOME_CHANNEL
 * (`direct:<account>` or `group:<code>`). Who may talk: YUANBAO_ALLOWED_USERS and YUANBAO_ALLOW_ALL_USERS
 * (gateway/run.py `_is_user_authorized`); its DM and group policies stay hermes' defaults (platforms/access.ts).
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
  appId: requiredId("YUANBAO_APP_ID", "APP_ID", "the bot's APP_ID (no blanks or commas)", "yuanbao"),
  allowedUsers: senderList("YUANBAO_ALLOWED_USERS", "account ids", "a Yuanbao account id"),
  allowAllUsers: allowAllUsers(),
  homeChannel: homeChannel(
    "YUANBAO_HOME_CHANNEL",
    "`direct:<account>`, `group:<code>`",
    "direct:<account> or group:<group_code>",
    /^(direct|group):[^\s,]{1,256}$/,
  ),
});

export const yuanbao = definePlatform({
  key: "yuanbao",
  hermesName: "yuanbao",
  title: "Yuanbao",
  readme: { inbound: "none (websocket)" },
  schema,
  secrets: [
    {
      key: "yuanbaoAppSecret",
      env: "YUANBAO_APP_SECRET",
      doc: doc("secret", "required with yuanbao", "`YUANBAO_APP_SECRET`."),
      requiredBecause: () =>
        "platforms.yuanbao is enabled (hermes enables it on the APP_ID and APP_SECRET together)",
      problem: tooShort(),
    },
  ],
  variables: {
    YUANBAO_APP_ID: (b) => b.appId,
    YUANBAO_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    YUANBAO_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    YUANBAO_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
});
