/**
 * iMessage through a BlueBubbles server the user runs on a Mac: hermes calls its REST API and the server posts new
 * messages to a webhook hermes serves, so it listens. Enabled by BLUEBUBBLES_SERVER_URL and BLUEBUBBLES_PASSWORD
 * together (gateway/config.py `_apply_env_overrides`, which reads BLUEBUBBLES_WEBHOOK_HOST, default 127.0.0.1 that
 * Docker cannot publish, and BLUEBUBBLES_WEBHOOK_PORT, default 8645). The program moves the listener to 8647 in the
 * container: 8645 is also WeCom callback's default, and one agent may run both. hermes registers its webhook with
 * the server itself, at an address a container cannot offer (see `rules`): the user adds the published one. Variables (environment reference,
 * "Messaging"): BLUEBUBBLES_ALLOWED_USERS, BLUEBUBBLES_ALLOW_ALL_USERS, BLUEBUBBLES_HOME_CHANNEL.
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
  publishBlock,
  publishedAt,
  senderList,
} from "./platform";

/** The port the webhook listens on inside the container (not hermes' 8645, which WeCom callback also takes). */
export const BLUEBUBBLES_CONTAINER_PORT = 8647;

const schema = strictObject({
  serverUrl: httpUrl("http://10.1.10.60:1234").meta(
    doc("http(s) URL", "required with bluebubbles", "`BLUEBUBBLES_SERVER_URL`: the BlueBubbles server."),
  ),
  allowedUsers: senderList(
    "BLUEBUBBLES_ALLOWED_USERS",
    "phone numbers or emails",
    "a phone number or an email",
  ),
  allowAllUsers: allowAllUsers("Anyone who messages the Mac's iMessage account"),
  homeChannel: homeChannel("BLUEBUBBLES_HOME_CHANNEL", "phone or email", "a phone number or an email"),
  publish: publishBlock(BLUEBUBBLES_CONTAINER_PORT, "BlueBubbles webhook"),
});

export const bluebubbles = definePlatform({
  key: "bluebubbles",
  hermesName: "bluebubbles",
  title: "iMessage (BlueBubbles)",
  readme: {
    inbound: "8647, published only with `publish`",
    note: "add the published webhook in the BlueBubbles server",
  },
  schema,
  secrets: [
    {
      key: "bluebubblesPassword",
      env: "BLUEBUBBLES_PASSWORD",
      doc: doc("secret", "required with bluebubbles", "`BLUEBUBBLES_PASSWORD`: the server's password."),
      requiredBecause: () =>
        "platforms.bluebubbles is enabled (hermes enables it on the server URL and password)",
    },
  ],
  variables: {
    BLUEBUBBLES_SERVER_URL: (b) => b.serverUrl,
    BLUEBUBBLES_WEBHOOK_HOST: () => "0.0.0.0",
    BLUEBUBBLES_WEBHOOK_PORT: () => String(BLUEBUBBLES_CONTAINER_PORT),
    BLUEBUBBLES_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    BLUEBUBBLES_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    BLUEBUBBLES_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
  inbound: publishedAt(BLUEBUBBLES_CONTAINER_PORT),
  // hermes registers its webhook with the BlueBubbles server itself, as http://<webhook host>:<port>/bluebubbles-webhook
  // with 0.0.0.0 turned into localhost (gateway/platforms/bluebubbles.py `_webhook_url`): from a container that is an
  // address the Mac cannot reach, so the user adds the published address in the server's webhook settings.
  rules: (b, _secrets, where, { warnings }) => {
    warnings.push(
      b.publish
        ? `${where.block}: hermes registers its webhook with the BlueBubbles server as http://localhost:${BLUEBUBBLES_CONTAINER_PORT}/bluebubbles-webhook, ` +
            `which the Mac cannot reach; add http://<this host>:${b.publish.port}/bluebubbles-webhook?password=<the server password> in the server's webhook settings.`
        : `${where.block}.publish is not set: the BlueBubbles server cannot reach hermes' webhook, so no message arrives.`,
    );
  },
});
