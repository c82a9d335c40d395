/**
 * SimpleX Chat, a plugin platform of the pinned release (plugins/platforms/simplex): hermes talks to a
 * `simplex-chat` daemon the user runs, over its websocket (outbound: no inbound port). Variables (environment
 * reference @00067189, "SimpleX"): SIMPLEX_WS_URL, SIMPLEX_ALLOWED_USERS (contact ids), SIMPLEX_ALLOW_ALL_USERS,
 * SIMPLEX_AUTO_ACCEPT, SIMPLEX_GROUP_ALLOWED (group ids, or `*` for any group: warned), SIMPLEX_HOME_CHANNEL.
 */
import { z } from "zod";
import { bool, doc, list, listEntry, strictObject } from "../fields";
import {
  ANY_ID,
  accessOf,
  allowAllUsers,
  definePlatform,
  flag,
  homeChannel,
  joined,
  senderList,
  text,
} from "./platform";

const schema = strictObject({
  wsUrl: z
    .string()
    .regex(/^wss?:\/\/[^\s/'"\\`]{1,253}(\/[^\s'"\\`]{0,1024})?$/, {
      error: "must be the daemon's websocket URL, e.g. ws://10.1.10.7:5225",
    })
    .meta(doc("ws(s) URL", "required with simplex", "`SIMPLEX_WS_URL`: the simplex-chat daemon.")),
  allowedUsers: senderList("SIMPLEX_ALLOWED_USERS", "contact ids", "a SimpleX contact id"),
  allowAllUsers: allowAllUsers("Any contact"),
  autoAccept: bool
    .optional()
    .meta(doc("bool", "hermes' (`true`)", "`SIMPLEX_AUTO_ACCEPT`: accept incoming contact requests.")),
  groupAllowed: list(
    listEntry(new RegExp(`^(\\*|${ANY_ID.source.slice(1, -1)})$`), "a SimpleX group id, or * for any group"),
  )
    .default([])
    .meta(doc("group ids or `*`", "`[]` (groups ignored)", "`SIMPLEX_GROUP_ALLOWED` (`*` is warned about).")),
  homeChannel: homeChannel("SIMPLEX_HOME_CHANNEL", "contact/group id", "a SimpleX contact or group id"),
});

export const simplex = definePlatform({
  key: "simplex",
  hermesName: "simplex",
  title: "SimpleX",
  readme: { inbound: "none", note: "needs a simplex-chat daemon" },
  schema,
  secrets: [],
  variables: {
    SIMPLEX_WS_URL: (b) => b.wsUrl,
    SIMPLEX_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    SIMPLEX_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    SIMPLEX_AUTO_ACCEPT: (b) => text(b.autoAccept),
    SIMPLEX_GROUP_ALLOWED: (b) => joined(b.groupAllowed),
    SIMPLEX_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf(
    (b: z.output<typeof schema>) => b.allowedUsers,
    (b) => b.groupAllowed,
  ),
  rules: (b, _secrets, where, { warnings }) => {
    if (b.groupAllowed.includes("*"))
      warnings.push(
        `${where.block}.groupAllowed has *: the bot answers every member of any group it is added to.`,
      );
  },
});
