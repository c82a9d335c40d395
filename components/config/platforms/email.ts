/**
 * Email over IMAP polling and SMTP (outbound: no inbound port). Variables: hermes' environment reference,
 * "Messaging": EMAIL_ADDRESS, EMAIL_PASSWORD, EMAIL_IMAP_HOST, EMAIL_SMTP_HOST (all four enable it), EMAIL_IMAP_PORT,
 * EMAIL_SMTP_PORT, EMAIL_ALLOWED_USERS, EMAIL_ALLOW_ALL_USERS, EMAIL_POLL_INTERVAL, EMAIL_HOME_ADDRESS.
 */
import { z } from "zod";
import { doc, hostAddress, int, list, listEntry, port, strictObject } from "../fields";
import { allowAllUsers, definePlatform, flag, joined, text } from "./platform";

const address = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;
const addressError = "must be an email address such as hermes@example.org";

const schema = strictObject({
  address: z
    .string()
    .regex(address, { error: addressError })
    .meta(doc("email address", "required with email", "`EMAIL_ADDRESS`: the agent's mailbox.")),
  imapHost: hostAddress.meta(doc("host name or IPv4", "required with email", "`EMAIL_IMAP_HOST`.")),
  imapPort: port()
    .optional()
    .meta(doc("1-65535", "hermes'", "`EMAIL_IMAP_PORT`.")),
  smtpHost: hostAddress.meta(doc("host name or IPv4", "required with email", "`EMAIL_SMTP_HOST`.")),
  smtpPort: port()
    .optional()
    .meta(doc("1-65535", "hermes'", "`EMAIL_SMTP_PORT`.")),
  allowedUsers: list(listEntry(address, "an email address such as alice@example.org"))
    .default([])
    .meta(doc("email addresses", "`[]`", "`EMAIL_ALLOWED_USERS`: senders the agent answers.")),
  allowAllUsers: allowAllUsers("Answer every sender"),
  pollIntervalSeconds: int(10, 86400)
    .optional()
    .meta(doc("10-86400", "hermes'", "`EMAIL_POLL_INTERVAL`: seconds between IMAP polls.")),
  homeAddress: z
    .string()
    .regex(address, { error: addressError })
    .optional()
    .meta(doc("email address", "none", "`EMAIL_HOME_ADDRESS`: where proactive mail (cron) goes.")),
});

export const email = definePlatform({
  key: "email",
  hermesName: "email",
  title: "Email",
  readme: { inbound: "none (IMAP polling)" },
  schema,
  secrets: [
    {
      key: "emailPassword",
      env: "EMAIL_PASSWORD",
      doc: doc(
        "secret",
        "required with email",
        "`EMAIL_PASSWORD` (an app password where the provider has them).",
      ),
      requiredBecause: () => "platforms.email is enabled (hermes enables email only with a password)",
    },
  ],
  variables: {
    EMAIL_ADDRESS: (b) => b.address,
    EMAIL_IMAP_HOST: (b) => b.imapHost,
    EMAIL_IMAP_PORT: (b) => text(b.imapPort),
    EMAIL_SMTP_HOST: (b) => b.smtpHost,
    EMAIL_SMTP_PORT: (b) => text(b.smtpPort),
    EMAIL_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    EMAIL_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    EMAIL_POLL_INTERVAL: (b) => text(b.pollIntervalSeconds),
    EMAIL_HOME_ADDRESS: (b) => b.homeAddress,
  },
  access: (b) => ({ allowAll: b.allowAllUsers, allowListed: b.allowedUsers.length > 0 }),
});
