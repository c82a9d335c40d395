/**
 * Signal through a signal-cli daemon the user runs (outbound HTTP to it: no inbound port). Variables: hermes'
 * environment reference, "Messaging": SIGNAL_HTTP_URL and SIGNAL_ACCOUNT (both enable it), SIGNAL_ALLOWED_USERS
 * (E.164 numbers or UUIDs), SIGNAL_GROUP_ALLOWED_USERS (group ids, or `*` for all groups), SIGNAL_ALLOW_ALL_USERS.
 * No credential: signal-cli holds the account.
 */
import { z } from "zod";
import { doc, httpUrl, list, listEntry, strictObject } from "../fields";
import { allowAllUsers, definePlatform, flag, joined } from "./platform";

const e164 = /^\+[1-9]\d{6,14}$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const schema = strictObject({
  httpUrl: httpUrl("http://10.1.10.5:8080").meta(
    doc(
      "http(s) URL",
      "required with signal",
      "`SIGNAL_HTTP_URL`: the signal-cli daemon, reachable from the container.",
    ),
  ),
  account: z
    .string()
    .regex(e164, { error: "must be a phone number in E.164 form, e.g. +15551234567" })
    .meta(doc("E.164 number", "required with signal", "`SIGNAL_ACCOUNT`: the bot's number.")),
  allowedUsers: list(
    z.string().refine((s) => e164.test(s) || uuid.test(s), {
      error: "must be an E.164 phone number (+15551234567) or a Signal UUID",
    }),
  )
    .default([])
    .meta(doc("E.164 numbers or UUIDs", "`[]`", "`SIGNAL_ALLOWED_USERS`.")),
  groupAllowedUsers: list(
    listEntry(/^(\*|[A-Za-z0-9+/=_-]{1,128})$/, "a Signal group id, or * for every group"),
  )
    .default([])
    .meta(doc("group ids or `*`", "`[]`", "`SIGNAL_GROUP_ALLOWED_USERS`: groups the bot answers in.")),
  allowAllUsers: allowAllUsers(),
});

export const signal = definePlatform({
  key: "signal",
  hermesName: "signal",
  title: "Signal",
  readme: { inbound: "none", note: "a signal-cli daemon you run" },
  schema,
  secrets: [],
  variables: {
    SIGNAL_HTTP_URL: (b) => b.httpUrl,
    SIGNAL_ACCOUNT: (b) => b.account,
    SIGNAL_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    SIGNAL_GROUP_ALLOWED_USERS: (b) => joined(b.groupAllowedUsers),
    SIGNAL_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
  },
  access: (b) => ({
    allowAll: b.allowAllUsers,
    allowListed: b.allowedUsers.length + b.groupAllowedUsers.length > 0,
  }),
});
