/**
 * LINE, a plugin platform of the pinned release (plugins/platforms/line): LINE posts events to a webhook hermes
 * serves, so it listens. Variables (environment reference @00067189, "LINE Messaging API"):
 * LINE_CHANNEL_ACCESS_TOKEN and LINE_CHANNEL_SECRET (both required), LINE_HOST (default 0.0.0.0), LINE_PORT (default
 * 8646), LINE_PUBLIC_URL (needed to send media), LINE_ALLOWED_USERS (`U...`), LINE_ALLOWED_GROUPS (`C...`),
 * LINE_ALLOWED_ROOMS (`R...`), LINE_ALLOW_ALL_USERS, LINE_HOME_CHANNEL.
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
  tooShort,
} from "./platform";

/** The port the LINE webhook listens on inside the container (hermes' default). */
export const LINE_CONTAINER_PORT = 8646;

const lineId = (prefix: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`);

const schema = strictObject({
  publicUrl: httpUrl("https://line.example.org")
    .optional()
    .meta(
      doc("https URL", "none", "`LINE_PUBLIC_URL`: public base URL, needed to send images, audio and video."),
    ),
  allowedUsers: senderList(
    "LINE_ALLOWED_USERS",
    "user ids `U...`",
    "a LINE user id (U and 32 hex)",
    lineId("U"),
  ),
  allowedGroups: senderList(
    "LINE_ALLOWED_GROUPS",
    "group ids `C...`",
    "a LINE group id (C and 32 hex)",
    lineId("C"),
  ),
  allowedRooms: senderList(
    "LINE_ALLOWED_ROOMS",
    "room ids `R...`",
    "a LINE room id (R and 32 hex)",
    lineId("R"),
  ),
  allowAllUsers: allowAllUsers(),
  homeChannel: homeChannel("LINE_HOME_CHANNEL", "user/group/room id", "a LINE user, group or room id"),
  publish: publishBlock(LINE_CONTAINER_PORT, "LINE webhook"),
});

export const line = definePlatform({
  key: "line",
  hermesName: "line",
  title: "LINE",
  readme: { inbound: "8646, published only with `publish`", note: "LINE must reach the webhook" },
  schema,
  secrets: [
    {
      key: "lineChannelAccessToken",
      env: "LINE_CHANNEL_ACCESS_TOKEN",
      doc: doc("secret", "required with line", "`LINE_CHANNEL_ACCESS_TOKEN`."),
      requiredBecause: () => "platforms.line is enabled (hermes' reference marks it required)",
      problem: tooShort(),
    },
    {
      key: "lineChannelSecret",
      env: "LINE_CHANNEL_SECRET",
      doc: doc("secret", "required with line", "`LINE_CHANNEL_SECRET`: verifies LINE's signatures."),
      requiredBecause: () => "platforms.line is enabled (hermes' reference marks it required)",
      problem: tooShort(),
    },
  ],
  variables: {
    LINE_HOST: () => "0.0.0.0",
    LINE_PORT: () => String(LINE_CONTAINER_PORT),
    LINE_PUBLIC_URL: (b) => b.publicUrl,
    LINE_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    LINE_ALLOWED_GROUPS: (b) => joined(b.allowedGroups),
    LINE_ALLOWED_ROOMS: (b) => joined(b.allowedRooms),
    LINE_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    LINE_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf(
    (b: z.output<typeof schema>) => b.allowedUsers,
    (b) => b.allowedGroups,
    (b) => b.allowedRooms,
  ),
  inbound: publishedAt(LINE_CONTAINER_PORT),
});
