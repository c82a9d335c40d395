/**
 * ntfy push notifications, a plugin platform of the pinned release (plugins/platforms/ntfy): hermes subscribes to a
 * topic (outbound: no inbound port). Variables (environment reference @00067189, "ntfy"): NTFY_TOPIC (required),
 * NTFY_SERVER_URL, NTFY_TOKEN, NTFY_PUBLISH_TOPIC, NTFY_ALLOWED_USERS (topic names), NTFY_ALLOW_ALL_USERS,
 * NTFY_HOME_CHANNEL. On ntfy anyone who knows a topic may publish to it: its "users" are topics.
 */
import { z } from "zod";
import { doc, httpUrl, strictObject } from "../fields";
import {
  accessOf,
  allowAllUsers,
  definePlatform,
  flag,
  homeChannel,
  joined,
  requiredId,
  senderList,
} from "./platform";

const topic = /^[-_A-Za-z0-9]{1,64}$/;

const schema = strictObject({
  topic: requiredId("NTFY_TOPIC", "topic", "an ntfy topic (letters, digits, - and _)", "ntfy", topic),
  serverUrl: httpUrl("https://ntfy.example.org")
    .optional()
    .meta(
      doc(
        "http(s) URL",
        "hermes' (`https://ntfy.sh`)",
        "`NTFY_SERVER_URL`: a self-hosted ntfy keeps topics private.",
      ),
    ),
  publishTopic: z
    .string()
    .regex(topic, { error: "must be an ntfy topic (letters, digits, - and _)" })
    .optional()
    .meta(doc("topic", "`topic`", "`NTFY_PUBLISH_TOPIC`: where replies go.")),
  allowedUsers: senderList("NTFY_ALLOWED_USERS", "topics", "an ntfy topic", topic),
  allowAllUsers: allowAllUsers("Anyone who can publish to the topic"),
  homeChannel: homeChannel("NTFY_HOME_CHANNEL", "topic", "an ntfy topic", topic),
});

export const ntfy = definePlatform({
  key: "ntfy",
  hermesName: "ntfy",
  title: "ntfy",
  readme: { inbound: "none (subscription)" },
  schema,
  secrets: [
    {
      key: "ntfyToken",
      env: "NTFY_TOKEN",
      doc: doc("secret", "none", "`NTFY_TOKEN`: bearer token `tk_...` or `user:pass`."),
    },
  ],
  variables: {
    NTFY_TOPIC: (b) => b.topic,
    NTFY_SERVER_URL: (b) => b.serverUrl,
    NTFY_PUBLISH_TOPIC: (b) => b.publishTopic,
    NTFY_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    NTFY_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    NTFY_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
});
