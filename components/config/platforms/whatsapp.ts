/**
 * WhatsApp through hermes' bundled Baileys bridge (outbound: no inbound port). Variables: hermes' environment
 * reference, "Messaging": WHATSAPP_ENABLED, WHATSAPP_MODE (`bot`: a separate number; `self-chat`: message
 * yourself), WHATSAPP_ALLOWED_USERS (numbers with country code, no `+`), WHATSAPP_ALLOW_ALL_USERS. No credential:
 * the session is paired once by scanning a QR code (`hermes whatsapp` in the container) and lives in /opt/data, so
 * the health gate does not wait for it.
 */
import { z } from "zod";
import { doc, list, listEntry, strictObject } from "../fields";
import { allowAllUsers, definePlatform, flag, joined } from "./platform";

const schema = strictObject({
  mode: z
    .enum(["bot", "self-chat"], { error: "must be 'bot' or 'self-chat'" })
    .default("bot")
    .meta(doc("`bot`, `self-chat`", "`bot`", "`WHATSAPP_MODE`: a separate number, or messages to yourself.")),
  allowedUsers: list(
    listEntry(/^[1-9]\d{6,14}$/, "a phone number with country code and no + (e.g. 15551234567)"),
  )
    .default([])
    .meta(doc("phone numbers, no `+`", "`[]`", "`WHATSAPP_ALLOWED_USERS`.")),
  allowAllUsers: allowAllUsers("Anyone may message the bot"),
});

export const whatsapp = definePlatform({
  key: "whatsapp",
  hermesName: "whatsapp",
  title: "WhatsApp",
  readme: { inbound: "none", note: "paired once with its QR code" },
  schema,
  secrets: [],
  variables: {
    WHATSAPP_ENABLED: () => "true",
    WHATSAPP_MODE: (b) => b.mode,
    WHATSAPP_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    WHATSAPP_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
  },
  access: (b) => ({ allowAll: b.allowAllUsers, allowListed: b.allowedUsers.length > 0 }),
  connectsAfterPairing: true,
});
