/**
 * Google Chat, a plugin platform of the pinned release (plugins/platforms/google_chat): hermes pulls events from a
 * Pub/Sub subscription (outbound: no inbound port). Variables (environment reference @00067189, "Messaging"):
 * GOOGLE_CHAT_PROJECT_ID, GOOGLE_CHAT_SUBSCRIPTION_NAME, GOOGLE_CHAT_SERVICE_ACCOUNT_JSON (a path or the JSON
 * inline; it falls back to GOOGLE_APPLICATION_CREDENTIALS, which the container does not have, so the program asks for
 * the key), GOOGLE_CHAT_ALLOWED_USERS (emails), GOOGLE_CHAT_ALLOW_ALL_USERS, GOOGLE_CHAT_HOME_CHANNEL.
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
  requiredId,
  senderList,
} from "./platform";

const email = /^[^\s,*@]{1,64}@[A-Za-z0-9.-]{1,253}$/;

const schema = strictObject({
  projectId: requiredId(
    "GOOGLE_CHAT_PROJECT_ID",
    "GCP project id",
    "a GCP project id (6-30 lowercase letters, digits, -)",
    "googleChat",
    /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
  ),
  subscriptionName: requiredId(
    "GOOGLE_CHAT_SUBSCRIPTION_NAME",
    "`projects/{p}/subscriptions/{s}`",
    "a full Pub/Sub subscription path: projects/{project}/subscriptions/{name}",
    "googleChat",
    /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/subscriptions\/[A-Za-z][\w.~+%-]{2,254}$/,
  ),
  allowedUsers: senderList("GOOGLE_CHAT_ALLOWED_USERS", "emails", "an email address", email),
  allowAllUsers: allowAllUsers(),
  homeChannel: homeChannel(
    "GOOGLE_CHAT_HOME_CHANNEL",
    "`spaces/...`",
    "a space such as spaces/AAAA1234",
    /^spaces\/[\w-]{1,128}$/,
  ),
});

/** The service account key, inline: one line of JSON (the .env file holds one value per line). */
function serviceAccountProblem(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return "must be the key file's JSON on one line (jq -c . key.json)";
  try {
    const key = JSON.parse(value) as Record<string, unknown>;
    return key.type === "service_account"
      ? undefined
      : "must be a service account key (its type is service_account)";
  } catch {
    return "must be the service account key file's JSON";
  }
}

export const googleChat = definePlatform({
  key: "googleChat",
  hermesName: "google_chat",
  title: "Google Chat",
  readme: { inbound: "none (Pub/Sub pull)" },
  schema,
  secrets: [
    {
      key: "googleChatServiceAccountJson",
      env: "GOOGLE_CHAT_SERVICE_ACCOUNT_JSON",
      doc: doc(
        "secret, one-line JSON",
        "required with googleChat",
        "`GOOGLE_CHAT_SERVICE_ACCOUNT_JSON`: the key, inline.",
      ),
      requiredBecause: () =>
        "platforms.googleChat is enabled (the container has no other Google credentials)",
      problem: serviceAccountProblem,
    },
  ],
  variables: {
    GOOGLE_CHAT_PROJECT_ID: (b) => b.projectId,
    GOOGLE_CHAT_SUBSCRIPTION_NAME: (b) => b.subscriptionName,
    GOOGLE_CHAT_ALLOWED_USERS: (b) => joined(b.allowedUsers),
    GOOGLE_CHAT_ALLOW_ALL_USERS: (b) => flag(b.allowAllUsers),
    GOOGLE_CHAT_HOME_CHANNEL: (b) => b.homeChannel,
  },
  access: accessOf((b: z.output<typeof schema>) => b.allowedUsers),
});
