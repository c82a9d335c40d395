/**
 * What a messaging platform is to this program: one module per platform declares its config block, its secrets,
 * the .env variables hermes reads for it, and its inbound port if it has one. Everything else (the schema of
 * `agents.<a>.platforms`, the secret rules, the reserved variable names, the .env rendering, the health gate's
 * platform list, the README rows) is derived from these declarations, so adding a platform is one new file and one
 * line in ./index.ts.
 *
 * The variable names come from hermes' own reference (website/docs/reference/environment-variables.md, "Messaging")
 * and its env-to-config bridge (gateway/config.py `_apply_env_overrides`); each module cites what it relies on.
 */
import { z } from "zod";
import { Findings } from "../errors";
import { FieldDoc, bindAddress, bool, doc, list, listEntry, port, strictObject } from "../fields";

/** A platform's block, as parsed: its own fields, plus nothing the program adds. */
export type PlatformBlock = Record<string, unknown>;

/** A credential of a platform, set under `agentSecrets.<agent>.<key>` and written to .env as `env`. */
export interface PlatformSecret<B> {
  /** Key under agentSecrets.<agent> (camelCase, e.g. telegramBotToken). */
  key: string;
  /** The .env variable hermes reads it from. */
  env: string;
  /** README row ("Type / allowed", "Default", "Description"), made with `doc(...)`. */
  doc: { doc: FieldDoc };
  /** Whether the platform cannot start without it, for this block; the string says why. */
  requiredBecause?: (block: B) => string | undefined;
  /** A format check that never repeats the value (it is a secret). */
  problem?: (value: string) => string | undefined;
}

/** A port hermes listens on inside the container, published on the Docker host when the stack asks for it. */
export interface InboundPort {
  /** Port inside the container. */
  containerPort: number;
  /** Port on the Docker host; undefined: not published. */
  hostPort?: number;
  /** Address on the Docker host. */
  bind: string;
}

/** One messaging platform. */
export interface MessagingPlatform<B extends PlatformBlock = PlatformBlock> {
  /** Key under agents.<agent>.platforms. */
  key: string;
  /** hermes' name for it (gateway/config.py `Platform`): the key of gateway_state.json's platforms. */
  hermesName: string;
  /** Human name for messages and the README. */
  title: string;
  /** The block's schema (its fields carry their `doc`). */
  schema: z.ZodType<B>;
  /** Credentials, each an agentSecrets key and a .env variable. */
  secrets: Array<PlatformSecret<B>>;
  /** Every non-secret .env variable the program writes for it; a variable whose function returns undefined is left
   * out. The names are reserved: `environment` and secret `env` may not set them. */
  variables: Record<string, (block: B) => string | undefined>;
  /** Who may talk to the agent: drives the warnings about open bots and about pairing. Undefined for platforms
   * that have no senders to allow (Home Assistant events, signed webhooks). */
  access?: (block: B) => { allowAll: boolean; allowListed: boolean };
  /** An inbound port, for platforms that receive connections. */
  inbound?: (block: B) => InboundPort | undefined;
  /** hermes reports it connected only after an interactive pairing (WhatsApp's QR code): the health gate does not
   * wait for it. */
  connectsAfterPairing?: boolean;
  /** What the published image (nousresearch/hermes-agent) lacks to run this platform, for this block: the image's
   * Python environment is sealed and it refuses to install anything at runtime (Dockerfile @00067189:
   * HERMES_DISABLE_LAZY_INSTALLS=1, built with the extras all, messaging, matrix, google-chat and a few providers).
   * Enabling the platform on that image is refused; on another image it is warned about. */
  imageLacks?: (block: B) => string | undefined;
  /** The README's platform table: how hermes reaches it, and a note on the block when it needs one. */
  readme: { inbound: string; note?: string };
  /** Rules across the block's fields and its secrets (secrets are plain strings here, validated, never echoed). */
  rules?: (
    block: B,
    secrets: Record<string, string | undefined>,
    where: { block: string; secrets: string },
    findings: Findings,
  ) => void;
}

/** Declares a platform with its block type inferred from its schema. */
export function definePlatform<S extends z.ZodType<PlatformBlock>>(
  platform: Omit<MessagingPlatform<z.output<S>>, "schema"> & { schema: S },
): MessagingPlatform {
  return platform as unknown as MessagingPlatform;
}

/** Comma-joined list for an allow-list variable (hermes splits on commas), or undefined when empty. */
export const joined = (values: readonly string[] | undefined): string | undefined =>
  values && values.length > 0 ? values.join(",") : undefined;

/** "true" when set, else undefined (hermes treats an absent flag as false). */
export const flag = (on: boolean | undefined): string | undefined => (on ? "true" : undefined);

/** The value as text when set. */
export const text = (value: string | number | boolean | undefined): string | undefined =>
  value === undefined ? undefined : String(value);

/** Tokens shorter than this are placeholders, not credentials. */
export const tooShort =
  (min = 8) =>
  (value: string) =>
    value.length < min ? "is too short to be a real credential (placeholder?)" : undefined;

/** The `allowAllUsers` switch every platform with senders has: off by default, warned about when on. */
export const allowAllUsers = (who = "Anyone may talk to the bot") =>
  bool.default(false).meta(doc("bool", "`false`", `${who} (warned).`));

/** The optional `publish` block of a platform that listens in the container: nothing is published unless asked. */
export const publishBlock = (containerPort: number, what: string) =>
  strictObject({
    port: port().meta(doc("1-65535", "required with publish", "Port published on the Docker host.")),
    bind: bindAddress("0.0.0.0 or 10.1.10.30")
      .default("0.0.0.0")
      .meta(doc("IPv4", "`0.0.0.0`", "Address it is published on.")),
  })
    .optional()
    .meta(
      doc(
        "`{port, bind}`",
        "not published",
        `Publish the ${what} (port ${containerPort} in the container) on the host.`,
      ),
    );

/** An allow-list entry hermes can match: printable ASCII (what the .env writer accepts), no comma (hermes splits on
 * commas), no `*` (hermes reads `*` as everyone: that is `allowAllUsers`, which is warned about), and no `${`
 * (python-dotenv would expand it). Refused here, before any resource, rather than by the writer in the files step. */
export const ANY_ID = /^(?!.*\$\{)[\x21-\x29\x2b\x2d-\x7e]{1,256}$/;

/** An allow-list field written to `env` (comma-joined). */
export const senderList = (env: string, allowed: string, what: string, pattern: RegExp = ANY_ID) =>
  list(listEntry(pattern, what))
    .default([])
    .meta(doc(allowed, "`[]`", `\`${env}\`.`));

/** The optional home channel: where proactive messages (cron) go. */
export const homeChannel = (env: string, allowed: string, what: string, pattern: RegExp = ANY_ID) =>
  z
    .string()
    .regex(pattern, { error: `must be ${what}` })
    .optional()
    .meta(doc(allowed, "none", `\`${env}\`: where proactive messages (cron) go.`));

/** A required identifier that is not a secret (an app id, a project id). */
export const requiredId = (
  env: string,
  allowed: string,
  what: string,
  key: string,
  pattern: RegExp = ANY_ID,
) =>
  z
    .string()
    .regex(pattern, { error: `must be ${what}` })
    .meta(doc(allowed, `required with ${key}`, `\`${env}\`.`));

/** The inbound port of a platform block with a `publish` field: published only when asked. */
export const publishedAt =
  (containerPort: number) =>
  (b: { publish?: { port: number; bind: string } }): InboundPort | undefined =>
    b.publish && { containerPort, hostPort: b.publish.port, bind: b.publish.bind };

/** The usual `access` of a block with `allowAllUsers` and allow-lists. */
export const accessOf =
  <B extends { allowAllUsers: boolean }>(...lists: Array<(b: B) => readonly unknown[]>) =>
  (b: B) => ({ allowAll: b.allowAllUsers, allowListed: lists.some((l) => l(b).length > 0) });
