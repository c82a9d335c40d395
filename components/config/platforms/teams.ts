/**
 * Microsoft Teams through the Bot Framework, a plugin platform of the pinned release (plugins/platforms/teams): the
 * Bot Framework posts activities to a webhook hermes serves, so it listens. Variables (environment reference
 * @00067189, "Microsoft Teams (adapter)"): TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET, TEAMS_TENANT_ID, TEAMS_PORT (default
 * 3978; TEAMS_HOST unset binds every interface), TEAMS_ALLOWED_USERS, TEAMS_ALLOW_ALL_USERS, TEAMS_HOME_CHANNEL. The
 * published image lacks its SDK (pyproject.toml @00067189: the `teams` extra is not among the extras the Dockerfile
 * installs), so it needs an image built with it.
 */
import { z } from "zod";
import { doc, strictObject } from "../fields";
import {
  accessOf,
  allowAllUsers,
  definePlatform,
  flag,
  homeChannel,
  joined,
  publishBlock,
  publishedAt,
  requiredId,
  senderList,
  tooShort,
} from "./platform";

/** The port the Bot Framework webhook listens on inside the container (hermes' default). */
export const TEAMS_CONTAINER_PORT = 3978;

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const schema = strictObject({
  clientId: requiredId(
    "TEAMS_CLIENT_ID",
    "GUID",
    "the Azure AD application (client) id, a GUID",
    "teams",
    guid,
  ),
  tenantId: requiredId("TEAMS_TENANT_ID", "GUID", "the Azure AD tenant id, a GUID", "teams", guid),
  allowedUsers: senderList("TEAMS_ALLOWED_USERS", "user ids or UPNs", "a Teams user id or UPN"),
  allowAllUsers: allowAllUsers(),
  homeChannel: homeChannel("TEAMS_HOME_CHANNEL", "chat/channel id", "a Teams chat or channel id"),
  publish: publishBlock(TEAMS_CONTAINER_PORT, "Bot Framework webhook"),
});

export const teams = definePlatform({
  key: "teams",
  hermesName: "teams",
  title: "Microsoft Teams",
  readme: {
    inbound: "3978, published only with `publish`",
    note: "needs an image with the `teams` extra; the Bot Framework must reach the webhook",
  },
  schema,
  secrets: [
    {
      key: "teamsClientSecret",
      env: "TEAMS_CLIENT_SECRET",
      doc: doc("secret", "required with teams", "`TEAMS_CLIENT_SECRET`: the Azure AD client secret."),
      requiredBecause: () =>
        "platforms.teams is enabled (the bot authenticates to the Bot Framework with it)",
      problem: tooShort(),
    },
  ],
  variables: {
    TEAMS_CLIENT_ID: (b) => b.clientId,
    TEAMS_TENANT_ID: (b) => b.tenantId,
    TEAMS_PORT: () => String(TEAMS_CONTAINER_PORT),
    TEAMS_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    TEAMS_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    TEAMS_HOME_CHANNEL: (b) => b.homeChannel,
  },
  imageLacks: () => "the Teams SDK (pyproject extra `teams`: microsoft-teams-apps)",
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
  inbound: publishedAt(TEAMS_CONTAINER_PORT),
});
