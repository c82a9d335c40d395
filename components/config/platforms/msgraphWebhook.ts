/**
 * The Microsoft Graph change-notification listener (gateway/config.py `Platform.MSGRAPH_WEBHOOK`; the reference
 * @00067189, "Microsoft Graph Webhook Listener"): Graph posts notifications (Teams meetings, calendar, chats) to a
 * server hermes runs, so it listens. MSGRAPH_WEBHOOK_ENABLED turns it on (`_apply_env_overrides`);
 * MSGRAPH_WEBHOOK_CLIENT_STATE is the shared secret Graph echoes in every notification;
 * MSGRAPH_WEBHOOK_ACCEPTED_RESOURCES and MSGRAPH_WEBHOOK_ALLOWED_SOURCE_CIDRS narrow what it accepts (empty: all).
 * hermes' default port is 8646, LINE's too: the program runs it on 8649 in the container so one agent may run both.
 * No senders to allow: notifications are checked by their client state.
 */
import { z } from "zod";
import { doc, list, listEntry, strictObject } from "../fields";
import { definePlatform, joined, publishBlock, publishedAt } from "./platform";

/** The port the listener runs on inside the container (not hermes' 8646, which LINE also takes). */
export const MSGRAPH_WEBHOOK_CONTAINER_PORT = 8649;

const cidr = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([12]?\d|3[0-2])$/;

const schema = strictObject({
  acceptedResources: list(
    listEntry(/^[A-Za-z0-9_/{}.*'()-]{1,256}$/, "a Graph resource path such as chats/*/messages"),
  )
    .default([])
    .meta(
      doc(
        "resource paths",
        "`[]` (all)",
        "`MSGRAPH_WEBHOOK_ACCEPTED_RESOURCES` (a trailing `*` matches a prefix).",
      ),
    ),
  allowedSourceCidrs: list(listEntry(cidr, "an IPv4 CIDR such as 52.96.0.0/14"))
    .default([])
    .meta(doc("IPv4 CIDRs", "`[]` (all, warned)", "`MSGRAPH_WEBHOOK_ALLOWED_SOURCE_CIDRS`: who may post.")),
  publish: publishBlock(MSGRAPH_WEBHOOK_CONTAINER_PORT, "Graph listener"),
});

export const msgraphWebhook = definePlatform({
  key: "msgraphWebhook",
  hermesName: "msgraph_webhook",
  title: "Microsoft Graph webhook",
  readme: { inbound: "8649, published only with `publish`", note: "Graph must reach the listener" },
  schema,
  secrets: [
    {
      key: "msgraphWebhookClientState",
      env: "MSGRAPH_WEBHOOK_CLIENT_STATE",
      doc: doc(
        "secret, 16+ chars",
        "none (warned)",
        "`MSGRAPH_WEBHOOK_CLIENT_STATE`: the secret Graph echoes back.",
      ),
      problem: (v) => (v.length < 16 ? "must be at least 16 characters (openssl rand -hex 32)" : undefined),
    },
  ],
  variables: {
    MSGRAPH_WEBHOOK_ENABLED: () => "true",
    MSGRAPH_WEBHOOK_PORT: () => String(MSGRAPH_WEBHOOK_CONTAINER_PORT),
    MSGRAPH_WEBHOOK_ACCEPTED_RESOURCES: (b) => joined(b.acceptedResources),
    MSGRAPH_WEBHOOK_ALLOWED_SOURCE_CIDRS: (b) => joined(b.allowedSourceCidrs),
  },
  inbound: publishedAt(MSGRAPH_WEBHOOK_CONTAINER_PORT),
  rules: (b: z.output<typeof schema>, secrets, where, { warnings }) => {
    if (secrets.msgraphWebhookClientState === undefined)
      warnings.push(
        `${where.secrets}.msgraphWebhookClientState is not set: the listener cannot tell Graph's notifications from anyone else's.`,
      );
    if (b.publish && b.allowedSourceCidrs.length === 0)
      warnings.push(
        `${where.block}.allowedSourceCidrs is empty: anyone who reaches the published port may post notifications.`,
      );
  },
});
