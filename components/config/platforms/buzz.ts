/**
 * Buzz (Nostr communities), a plugin platform of the pinned release (plugins/platforms/buzz; outbound websocket or
 * polling: no inbound port). Variables (environment reference @00067189, "Buzz"): BUZZ_RELAY_URL,
 * BUZZ_PRIVATE_KEY (the only Buzz secret), BUZZ_CHANNELS, BUZZ_ALLOWED_USERS (npubs or hex pubkeys),
 * BUZZ_ALLOW_ALL_USERS, BUZZ_HOME_CHANNEL, BUZZ_CLI_PATH. The adapter drives the `buzz` CLI (its registry entry: "Requires
 * the buzz CLI binary on PATH or at BUZZ_CLI_PATH"), which the published image does not ship (Dockerfile @00067189).
 */
import { z } from "zod";
import { doc, httpUrl, list, listEntry, strictObject } from "../fields";
import { accessOf, allowAllUsers, definePlatform, flag, homeChannel, joined, senderList } from "./platform";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const schema = strictObject({
  relayUrl: httpUrl("https://mycommunity.communities.buzz.xyz").meta(
    doc("http(s) URL", "required with buzz", "`BUZZ_RELAY_URL`: the community relay."),
  ),
  channels: list(listEntry(uuid, "a channel UUID"))
    .default([])
    .meta(doc("channel UUIDs", "all joined", "`BUZZ_CHANNELS`: the channels to watch.")),
  allowedUsers: senderList(
    "BUZZ_ALLOWED_USERS",
    "npubs or hex pubkeys",
    "an npub1... or a 64-hex public key",
    /^(npub1[02-9ac-hj-np-z]{58}|[0-9a-f]{64})$/,
  ),
  allowAllUsers: allowAllUsers("Any community member"),
  homeChannel: homeChannel("BUZZ_HOME_CHANNEL", "channel UUID", "a channel UUID", uuid),
  cliPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._\/-]{1,4095}$/, { error: "must be an absolute path in the container" })
    .optional()
    .meta(doc("absolute path", "none", "`BUZZ_CLI_PATH`: the buzz CLI, e.g. in a workspace mount.")),
});

export const buzz = definePlatform({
  key: "buzz",
  hermesName: "buzz",
  title: "Buzz (Nostr)",
  readme: { inbound: "none", note: "needs the buzz CLI: `cliPath`" },
  schema,
  secrets: [
    {
      key: "buzzPrivateKey",
      env: "BUZZ_PRIVATE_KEY",
      doc: doc(
        "secret, nsec or hex",
        "required with buzz",
        "`BUZZ_PRIVATE_KEY`: the agent's Nostr identity.",
      ),
      requiredBecause: () => "platforms.buzz is enabled (the container holds no credentials file)",
      problem: (v) =>
        /^(nsec1[02-9ac-hj-np-z]{58}|[0-9a-f]{64})$/.test(v)
          ? undefined
          : "must be an nsec1... or a 64-hex private key",
    },
  ],
  variables: {
    BUZZ_RELAY_URL: (b) => b.relayUrl,
    BUZZ_CHANNELS: (b) => joined(b.channels),
    BUZZ_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    BUZZ_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    BUZZ_HOME_CHANNEL: (b) => b.homeChannel,
    BUZZ_CLI_PATH: (b) => b.cliPath,
  },
  imageLacks: (b) => (b.cliPath ? undefined : "the buzz CLI (set cliPath to one in a workspace mount)"),
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
});
