/**
 * SMS through Twilio: Twilio posts inbound messages to a webhook hermes serves. Variables: hermes' environment
 * reference, "Messaging": TWILIO_ACCOUNT_SID (enables it), TWILIO_AUTH_TOKEN (also validates Twilio's signatures),
 * TWILIO_PHONE_NUMBER, SMS_WEBHOOK_URL (the public URL configured in Twilio's console, required for the signature
 * check), SMS_WEBHOOK_PORT (default 8080) and SMS_WEBHOOK_HOST (default 127.0.0.1, which Docker cannot publish: the
 * program binds the container's interface), SMS_ALLOWED_USERS, SMS_ALLOW_ALL_USERS, SMS_HOME_CHANNEL.
 */
import { z } from "zod";
import { doc, httpUrl, list, listEntry, strictObject } from "../fields";
import { allowAllUsers, definePlatform, publishBlock, flag, joined, tooShort } from "./platform";

/** The port the SMS webhook listens on inside the container (hermes' default). */
export const SMS_CONTAINER_PORT = 8080;

const e164 = /^\+[1-9]\d{6,14}$/;

const schema = strictObject({
  accountSid: z
    .string()
    .regex(/^AC[0-9a-f]{32}$/, { error: "must be a Twilio Account SID (AC followed by 32 hex digits)" })
    .meta(doc("`AC...`", "required with sms", "`TWILIO_ACCOUNT_SID`.")),
  phoneNumber: z
    .string()
    .regex(e164, { error: "must be a phone number in E.164 form, e.g. +15551234567" })
    .meta(doc("E.164 number", "required with sms", "`TWILIO_PHONE_NUMBER`: the bot's number.")),
  webhookUrl: httpUrl("https://sms.example.org/webhooks/twilio").meta(
    doc("http(s) URL", "required with sms", "`SMS_WEBHOOK_URL`: the public URL set in Twilio's console."),
  ),
  allowedUsers: list(listEntry(e164, "a phone number in E.164 form"))
    .default([])
    .meta(doc("E.164 numbers", "`[]`", "`SMS_ALLOWED_USERS`.")),
  allowAllUsers: allowAllUsers("Anyone who texts the number"),
  homeChannel: z
    .string()
    .regex(e164, { error: "must be a phone number in E.164 form" })
    .optional()
    .meta(doc("E.164 number", "none", "`SMS_HOME_CHANNEL`: where proactive messages (cron) go.")),
  publish: publishBlock(SMS_CONTAINER_PORT, "webhook"),
});

export const sms = definePlatform({
  key: "sms",
  hermesName: "sms",
  title: "SMS (Twilio)",
  readme: { inbound: "8080, published only with `publish`", note: "Twilio must reach `webhookUrl`" },
  schema,
  secrets: [
    {
      key: "twilioAuthToken",
      env: "TWILIO_AUTH_TOKEN",
      doc: doc("secret", "required with sms", "`TWILIO_AUTH_TOKEN` (also checks Twilio's signatures)."),
      requiredBecause: () => "platforms.sms is enabled (Twilio's signatures are checked with it)",
      problem: tooShort(16),
    },
  ],
  variables: {
    TWILIO_ACCOUNT_SID: (b) => b.accountSid,
    TWILIO_PHONE_NUMBER: (b) => b.phoneNumber,
    SMS_WEBHOOK_URL: (b) => b.webhookUrl,
    SMS_WEBHOOK_HOST: () => "0.0.0.0",
    SMS_WEBHOOK_PORT: () => String(SMS_CONTAINER_PORT),
    SMS_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    SMS_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    SMS_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: (b) => ({ allowAll: b.allowAllUsers, allowListed: b.allowedUsers.length > 0 }),
  inbound: (b: z.output<typeof schema>) =>
    b.publish && { containerPort: SMS_CONTAINER_PORT, hostPort: b.publish.port, bind: b.publish.bind },
});
