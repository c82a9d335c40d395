/**
 * `agentSecrets.<agent>`: the LLM key, every registered platform's credentials, the API server key, the dashboard
 * password, auth.json and further secret variables. Values are validated as plain strings here (so a bad one stops
 * the stack before any resource), wrapped as Pulumi secrets by loadStackConfig, and never repeated in a message.
 */
import { z } from "zod";
import { doc, envName, envSecretValue, secretValue, strictObject, text } from "./fields";
import { PLATFORMS } from "./platforms";

export const agentSecretsSchema = strictObject({
  llmApiKey: envSecretValue.optional().meta(doc("secret", "none", "Key for the LLM endpoint.")),
  ...Object.fromEntries(
    PLATFORMS.flatMap((p) => p.secrets.map((s) => [s.key, envSecretValue.optional().meta(s.doc)])),
  ),
  apiServerKey: envSecretValue
    .optional()
    .meta(doc("secret, 16+ chars", "required with apiServer", "`API_SERVER_KEY`.")),
  dashboardPassword: envSecretValue
    .optional()
    .meta(doc("secret", "required with dashboard", "Basic-auth password.")),
  authJson: text(1024 * 1024)
    .optional()
    .meta(doc("secret JSON", "none", "Seed for `/opt/data/auth.json` (0600).")),
  env: z
    .record(envName, envSecretValue)
    .default({})
    .meta(doc("secret", "`{}`", "Further secret `.env` variables.")),
});

/** Secret values of one agent, validated. Kept apart from the config model so they are never logged with it. */
export interface AgentSecretValues {
  llmApiKey?: string;
  apiServerKey?: string;
  dashboardPassword?: string;
  authJson?: string;
  env: Record<string, string>;
  /** Platform credentials, by their agentSecrets key (telegramBotToken, matrixAccessToken, ...). */
  [platformSecret: string]: string | Record<string, string> | undefined;
}

/** A platform credential of an agent, or undefined. */
export const platformSecret = (secrets: AgentSecretValues, key: string): string | undefined =>
  typeof secrets[key] === "string" ? secrets[key] : undefined;

export const lxcSecretsSchema = strictObject({
  rootPassword: secretValue
    .refine((s) => s.length >= 8, { error: "must be at least 8 characters" })
    .optional()
    .meta(
      doc(
        "secret, 8+ chars",
        "none (SSH keys only)",
        "Container root password for console logins; a change re-creates the LXC (Proxmox sets it only at creation).",
      ),
    ),
});
