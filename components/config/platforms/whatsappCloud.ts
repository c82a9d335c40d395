/**
 * WhatsApp through Meta's Business Cloud API: replies go out over HTTPS, Meta posts inbound messages to a webhook
 * hermes serves, so it listens. Enabled by WHATSAPP_CLOUD_PHONE_NUMBER_ID and WHATSAPP_CLOUD_ACCESS_TOKEN together
 * (gateway/config.py `_apply_env_overrides`). Variables (environment reference, "Messaging"):
 * WHATSAPP_CLOUD_APP_SECRET (verifies Meta's signatures), WHATSAPP_CLOUD_VERIFY_TOKEN (Meta's verification
 * handshake), WHATSAPP_CLOUD_WEBHOOK_HOST/PORT (default 0.0.0.0:8090), WHATSAPP_CLOUD_ALLOWED_USERS (wa_ids),
 * WHATSAPP_CLOUD_ALLOW_ALL_USERS, WHATSAPP_CLOUD_HOME_CHANNEL.
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
  publishBlock,
  publishedAt,
  requiredId,
  senderList,
  tooShort,
} from "./platform";

/** The port the Cloud API webhook listens on inside the container (hermes' default). */
export const WHATSAPP_CLOUD_CONTAINER_PORT = 8090;

const waId = /^[1-9]\d{6,14}$/;

const schema = strictObject({
  phoneNumberId: requiredId(
    "WHATSAPP_CLOUD_PHONE_NUMBER_ID",
    "15-17 digits",
    "Meta's Phone Number ID (15 to 17 digits, not the phone number)",
    "whatsappCloud",
    /^\d{15,17}$/,
  ),
  allowedUsers: senderList(
    "WHATSAPP_CLOUD_ALLOWED_USERS",
    "wa_ids (numbers, no `+`)",
    "a wa_id: a phone number with country code and no + (e.g. 15551234567)",
    waId,
  ),
  allowAllUsers: allowAllUsers("Anyone may message the number"),
  homeChannel: homeChannel("WHATSAPP_CLOUD_HOME_CHANNEL", "wa_id", "a wa_id (e.g. 15551234567)", waId),
  publish: publishBlock(WHATSAPP_CLOUD_CONTAINER_PORT, "Cloud API webhook"),
});

export const whatsappCloud = definePlatform({
  key: "whatsappCloud",
  hermesName: "whatsapp_cloud",
  title: "WhatsApp Cloud API",
  readme: { inbound: "8090, published only with `publish`", note: "Meta must reach the webhook" },
  schema,
  secrets: [
    {
      key: "whatsappCloudAccessToken",
      env: "WHATSAPP_CLOUD_ACCESS_TOKEN",
      doc: doc("secret, `EAA...`", "required with whatsappCloud", "`WHATSAPP_CLOUD_ACCESS_TOKEN`."),
      requiredBecause: () => "platforms.whatsappCloud is enabled (hermes enables it on the token)",
      problem: tooShort(20),
    },
    {
      key: "whatsappCloudAppSecret",
      env: "WHATSAPP_CLOUD_APP_SECRET",
      doc: doc("secret, 32 hex", "none (warned)", "`WHATSAPP_CLOUD_APP_SECRET`: verifies Meta's signatures."),
      problem: (v) => (/^[0-9a-f]{32}$/i.test(v) ? undefined : "must be the app secret: 32 hex characters"),
    },
    {
      key: "whatsappCloudVerifyToken",
      env: "WHATSAPP_CLOUD_VERIFY_TOKEN",
      doc: doc("secret", "none", "`WHATSAPP_CLOUD_VERIFY_TOKEN`: Meta's webhook verification handshake."),
      problem: tooShort(),
    },
  ],
  variables: {
    WHATSAPP_CLOUD_PHONE_NUMBER_ID: (b) => b.phoneNumberId,
    WHATSAPP_CLOUD_WEBHOOK_HOST: () => "0.0.0.0",
    WHATSAPP_CLOUD_WEBHOOK_PORT: () => String(WHATSAPP_CLOUD_CONTAINER_PORT),
    WHATSAPP_CLOUD_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    WHATSAPP_CLOUD_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    WHATSAPP_CLOUD_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
  inbound: publishedAt(WHATSAPP_CLOUD_CONTAINER_PORT),
  rules: (_b, secrets, where, { warnings }) => {
    if (secrets.whatsappCloudAppSecret === undefined)
      warnings.push(
        `${where.secrets}.whatsappCloudAppSecret is not set: hermes cannot verify that inbound webhooks come from Meta.`,
      );
  },
});
