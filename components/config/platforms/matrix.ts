/**
 * Matrix (client-server sync: no inbound port). Variables: hermes' environment reference, "Messaging":
 * MATRIX_HOMESERVER, MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD (with MATRIX_USER_ID), MATRIX_ALLOWED_USERS,
 * MATRIX_ALLOWED_ROOMS, MATRIX_ALLOW_ALL_USERS, MATRIX_HOME_ROOM, MATRIX_REQUIRE_MENTION, MATRIX_ENCRYPTION,
 * MATRIX_DEVICE_ID (a stable device keeps E2EE keys across restarts), MATRIX_RECOVERY_KEY. hermes enables the
 * platform on a token or a password (gateway/config.py `_apply_env_overrides`). Stricter than hermes, and kept
 * because hermes would fail at runtime: `homeserver` is required (`_apply_env_overrides` enables Matrix without it
 * and only logs "MATRIX_ACCESS_TOKEN/MATRIX_PASSWORD set but MATRIX_HOMESERVER is missing", leaving an empty
 * homeserver to connect to), and `userId` with a password (the reference: "required for password login").
 */
import { z } from "zod";
import { bool, doc, httpUrl, list, listEntry, strictObject } from "../fields";
import { allowAllUsers, definePlatform, flag, joined, text, tooShort } from "./platform";

const userId = /^@[a-z0-9._=\/+-]{1,255}:[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/;
const roomId = /^![A-Za-z0-9._=\/+-]{1,255}:[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/;

const schema = strictObject({
  homeserver: httpUrl("https://matrix.example.org").meta(
    doc("http(s) URL", "required with matrix", "`MATRIX_HOMESERVER`."),
  ),
  userId: z
    .string()
    .regex(userId, { error: "must be a Matrix user id such as @hermes:example.org" })
    .optional()
    .meta(doc("`@user:server`", "none", "`MATRIX_USER_ID`: the bot's account (required with a password).")),
  allowedUsers: list(listEntry(userId, "a Matrix user id such as @alice:example.org"))
    .default([])
    .meta(doc("user ids `@a:server`", "`[]`", "`MATRIX_ALLOWED_USERS`.")),
  allowedRooms: list(listEntry(roomId, "a Matrix room id such as !abc123:example.org"))
    .default([])
    .meta(doc("room ids `!r:server`", "`[]`", "`MATRIX_ALLOWED_ROOMS`: rooms that may trigger the bot.")),
  allowAllUsers: allowAllUsers(),
  homeRoom: z
    .string()
    .regex(roomId, { error: "must be a Matrix room id such as !abc123:example.org" })
    .optional()
    .meta(doc("room id", "none", "`MATRIX_HOME_ROOM`: where proactive messages (cron) go.")),
  requireMention: bool.optional().meta(doc("bool", "hermes' (`true`)", "`MATRIX_REQUIRE_MENTION` in rooms.")),
  encryption: bool
    .optional()
    .meta(doc("bool", "hermes' (`false`)", "`MATRIX_ENCRYPTION`: end-to-end encryption.")),
  deviceId: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,64}$/, { error: "must be a device id (letters, digits, _)" })
    .optional()
    .meta(
      doc(
        "device id",
        "none",
        "`MATRIX_DEVICE_ID`: keeps E2EE keys across restarts (set it with encryption).",
      ),
    ),
});

export const matrix = definePlatform({
  key: "matrix",
  hermesName: "matrix",
  title: "Matrix",
  readme: { inbound: "none" },
  schema,
  secrets: [
    {
      key: "matrixAccessToken",
      env: "MATRIX_ACCESS_TOKEN",
      doc: doc("secret", "one of token/password", "`MATRIX_ACCESS_TOKEN`."),
      problem: tooShort(),
    },
    {
      key: "matrixPassword",
      env: "MATRIX_PASSWORD",
      doc: doc("secret", "one of token/password", "`MATRIX_PASSWORD` (password login; needs `userId`)."),
    },
    {
      key: "matrixRecoveryKey",
      env: "MATRIX_RECOVERY_KEY",
      doc: doc("secret", "none", "`MATRIX_RECOVERY_KEY`: cross-signing recovery for E2EE."),
    },
  ],
  variables: {
    MATRIX_HOMESERVER: (b) => b.homeserver,
    MATRIX_USER_ID: (b) => b.userId,
    MATRIX_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    MATRIX_ALLOWED_ROOMS: (b) => joined(b.allowedRooms),
    MATRIX_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    MATRIX_HOME_ROOM: (b) => b.homeRoom,
    MATRIX_REQUIRE_MENTION: (b) => text(b.requireMention),
    MATRIX_ENCRYPTION: (b) => text(b.encryption),
    MATRIX_DEVICE_ID: (b) => b.deviceId,
  },
  access: (b) => ({
    allowAll: b.allowAllUsers,
    allowListed: b.allowedUsers.length + b.allowedRooms.length > 0,
  }),
  rules: (b, secrets, where, { problems, warnings }) => {
    // hermes enables Matrix on a token or a password, and takes both (gateway/config.py `_apply_env_overrides`:
    // `if matrix_token or getenv("MATRIX_PASSWORD")`); without either it is not enabled at all.
    const token = secrets.matrixAccessToken !== undefined;
    const password = secrets.matrixPassword !== undefined;
    if (!token && !password) {
      problems.push(
        `${where.secrets}: set matrixAccessToken or matrixPassword (${where.block} is enabled). ` +
          `Set it with: pulumi config set --secret --path '${where.secrets}.matrixAccessToken'`,
      );
    }
    if (password && b.userId === undefined)
      problems.push(`${where.block}.userId: is required with agentSecrets' matrixPassword (password login)`);
    if (b.encryption && b.deviceId === undefined)
      warnings.push(
        `${where.block}.deviceId is not set with encryption on: E2EE keys rotate on every restart and old rooms stop decrypting.`,
      );
  },
});
