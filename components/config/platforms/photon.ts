/**
 * Photon / Spectrum (iMessage and other Spectrum platforms), a plugin platform of the pinned release
 * (plugins/platforms/photon): a Node sidecar in the container dials Spectrum (its own port is loopback only: no
 * inbound port). Variables (environment reference @00067189, "Photon"): PHOTON_PROJECT_ID, PHOTON_PROJECT_SECRET,
 * PHOTON_ALLOWED_USERS (E.164 numbers), PHOTON_ALLOW_ALL_USERS, PHOTON_REQUIRE_MENTION, PHOTON_HOME_CHANNEL.
 */
import { z } from "zod";
import { bool, doc, strictObject } from "../fields";
import {
  accessOf,
  allowAllUsers,
  definePlatform,
  flag,
  homeChannel,
  joined,
  requiredId,
  senderList,
  text,
  tooShort,
} from "./platform";

const schema = strictObject({
  projectId: requiredId("PHOTON_PROJECT_ID", "project id", "the Spectrum project id", "photon"),
  allowedUsers: senderList(
    "PHOTON_ALLOWED_USERS",
    "E.164 numbers",
    "a phone number in E.164 form, e.g. +15551234567",
    /^\+[1-9]\d{6,14}$/,
  ),
  allowAllUsers: allowAllUsers(),
  requireMention: bool
    .optional()
    .meta(
      doc("bool", "hermes' (`false`)", "`PHOTON_REQUIRE_MENTION`: in group chats, answer only wake words."),
    ),
  homeChannel: homeChannel(
    "PHOTON_HOME_CHANNEL",
    "space/DM id or E.164",
    "a Spectrum space id, DM GUID or E.164 number",
  ),
});

export const photon = definePlatform({
  key: "photon",
  hermesName: "photon",
  title: "Photon (Spectrum)",
  readme: { inbound: "none" },
  schema,
  secrets: [
    {
      key: "photonProjectSecret",
      env: "PHOTON_PROJECT_SECRET",
      doc: doc("secret", "required with photon", "`PHOTON_PROJECT_SECRET`."),
      requiredBecause: () => "platforms.photon is enabled (the project secret pairs with the project id)",
      problem: tooShort(),
    },
  ],
  variables: {
    PHOTON_PROJECT_ID: (b) => b.projectId,
    PHOTON_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    PHOTON_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    PHOTON_REQUIRE_MENTION: (b) => text(b.requireMention),
    PHOTON_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
});
