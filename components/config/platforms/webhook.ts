/**
 * hermes' generic webhook receiver (gateway/platforms/webhook.py): an HTTP server in the container on
 * WEBHOOK_PORT (default 8644, all interfaces), validating HMAC-signed POSTs; WEBHOOK_ENABLED turns it on and
 * WEBHOOK_SECRET is the HMAC secret for routes that name none (hermes refuses a route without a secret). Routes are
 * hermes config (`settings.platforms.webhook.extra.routes`). The port is published on the Docker host only when
 * `publish` asks for it.
 */
import { z } from "zod";
import { doc, strictObject } from "../fields";
import { definePlatform, publishBlock } from "./platform";

/** The port the receiver listens on inside the container (hermes' default; published elsewhere if asked). */
export const WEBHOOK_CONTAINER_PORT = 8644;

const schema = strictObject({
  publish: publishBlock(WEBHOOK_CONTAINER_PORT, "receiver"),
});

export const webhook = definePlatform({
  key: "webhook",
  hermesName: "webhook",
  title: "Webhook",
  readme: {
    inbound: "8644, published only with `publish`",
    note: "routes in `settings.platforms.webhook.extra.routes`",
  },
  schema,
  secrets: [
    {
      key: "webhookSecret",
      env: "WEBHOOK_SECRET",
      doc: doc(
        "secret, 16+ chars",
        "required with webhook",
        "`WEBHOOK_SECRET`: HMAC secret for routes without their own.",
      ),
      requiredBecause: () => "platforms.webhook is enabled (hermes refuses routes without an HMAC secret)",
      problem: (v) => (v.length < 16 ? "must be at least 16 characters (openssl rand -hex 32)" : undefined),
    },
  ],
  variables: {
    WEBHOOK_ENABLED: () => "true",
    WEBHOOK_PORT: () => String(WEBHOOK_CONTAINER_PORT),
  },
  inbound: (b: z.output<typeof schema>) =>
    b.publish && { containerPort: WEBHOOK_CONTAINER_PORT, hostPort: b.publish.port, bind: b.publish.bind },
});
