/**
 * IRC, a plugin platform of the pinned release (plugins/platforms/irc; outbound: no inbound port). Variables
 * (environment reference @00067189, "IRC"): IRC_SERVER, IRC_CHANNEL (comma-separated) and IRC_NICKNAME (required),
 * IRC_PORT, IRC_USE_TLS, IRC_SERVER_PASSWORD, IRC_NICKSERV_PASSWORD, IRC_ALLOWED_USERS (nicks),
 * IRC_ALLOW_ALL_USERS, IRC_HOME_CHANNEL.
 */
import { z } from "zod";
import { bool, doc, hostAddress, list, listEntry, port, strictObject } from "../fields";
import {
  accessOf,
  allowAllUsers,
  definePlatform,
  flag,
  homeChannel,
  joined,
  senderList,
  text,
} from "./platform";

const channel = /^[#&][^\s,\u0007]{1,49}$/;
const nick = /^[A-Za-z[\]\\`_^{|}][-A-Za-z0-9[\]\\`_^{|}]{0,31}$/;

const schema = strictObject({
  server: hostAddress.meta(doc("host name or IP", "required with irc", "`IRC_SERVER`.")),
  port: port()
    .optional()
    .meta(doc("1-65535", "hermes' (6697 with TLS)", "`IRC_PORT`.")),
  useTls: bool.optional().meta(doc("bool", "hermes' (`true` on 6697)", "`IRC_USE_TLS`.")),
  channels: list(listEntry(channel, "an IRC channel such as #hermes"))
    .min(1, { error: "must name at least one channel" })
    .meta(doc("channels `#...`", "required with irc", "`IRC_CHANNEL`: the channels to join.")),
  nickname: z
    .string()
    .regex(nick, { error: "must be an IRC nickname (letters, digits, -_[]\\`^{|})" })
    .meta(doc("nick", "required with irc", "`IRC_NICKNAME`.")),
  allowedUsers: senderList("IRC_ALLOWED_USERS", "nicks", "an IRC nickname", nick),
  allowAllUsers: allowAllUsers("Anyone in the channels"),
  homeChannel: homeChannel("IRC_HOME_CHANNEL", "channel", "an IRC channel such as #hermes", channel),
});

export const irc = definePlatform({
  key: "irc",
  hermesName: "irc",
  title: "IRC",
  readme: { inbound: "none" },
  schema,
  secrets: [
    {
      key: "ircServerPassword",
      env: "IRC_SERVER_PASSWORD",
      doc: doc("secret", "none", "`IRC_SERVER_PASSWORD`: the server's PASS."),
    },
    {
      key: "ircNickservPassword",
      env: "IRC_NICKSERV_PASSWORD",
      doc: doc("secret", "none", "`IRC_NICKSERV_PASSWORD`: IDENTIFY on connect."),
    },
  ],
  variables: {
    IRC_SERVER: (b) => b.server,
    IRC_PORT: (b) => text(b.port),
    IRC_USE_TLS: (b) => text(b.useTls),
    IRC_CHANNEL: (b) => joined(b.channels),
    IRC_NICKNAME: (b) => b.nickname,
    IRC_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    IRC_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    IRC_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
});
