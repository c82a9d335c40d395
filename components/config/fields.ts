/**
 * Field building blocks of the config model: the value kinds every part of the schema is made of, each with the
 * message that says what is allowed, and `doc`, the one place a field is documented (the README's configuration
 * table is generated from it: tests/unit/configDocs.test.ts).
 *
 * Bounds: every free-form string has a maximum length and every list a maximum count. Some values travel inside
 * remote command strings, and Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN); the bounds keep the
 * largest possible stack well below that (tests/program/commandSize.test.ts).
 */
import { z } from "zod";
import { envValueProblem } from "../lib/envFile";
import { DNS_LABEL, hostnameProblem, isIpv4, parseSshPublicKey } from "../lib/validators";
import { suggestion } from "./suggest";

/** How one field is documented: the README's "Type / allowed", "Default" and "Description" columns. */
export interface FieldDoc {
  allowed: string;
  default: string;
  description: string;
}

/** The documentation of a field, attached with `.meta(doc(...))`. */
export function doc(allowed: string, dflt: string, description: string): { doc: FieldDoc } {
  return { doc: { allowed, default: dflt, description } };
}

/** Longest single-line text value (names, commands, URLs). */
export const MAX_LINE = 2048;
/** Longest multi-line text value held inline in the stack (documents, descriptions). */
export const MAX_TEXT = 256 * 1024;
/** Most entries in one list. */
export const MAX_LIST = 64;

/** A strict object whose unknown-key message names the closest allowed key and lists them all. */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const allowedKeys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key ${issue.keys.map((k) => `'${k}'`).join(", ")}${suggestion(issue.keys[0], allowedKeys)}; ` +
          `allowed keys: ${allowedKeys.join(", ")}`
        : undefined,
  });
}

/** Integer in [min, max]; accepts digit strings too, since `pulumi config set --path` may store them as text. */
export function int(min: number, max: number, unit = "") {
  const suffix = unit ? ` ${unit}` : "";
  return z.preprocess(
    (v) => (typeof v === "string" && /^-?\d{1,16}$/.test(v) ? Number(v) : v),
    z
      .number({ error: `must be a whole number between ${min} and ${max}${suffix}` })
      .int({ error: `must be a whole number between ${min} and ${max}${suffix}` })
      .min(min, { error: `must be at least ${min}${suffix}` })
      .max(max, { error: `must be at most ${max}${suffix}` }),
  );
}

/** A TCP port. */
export const port = () => int(1, 65535);

/** Boolean; accepts "true"/"false" strings for the same reason as `int`. */
export const bool = z.preprocess(
  (v) => (v === "true" ? true : v === "false" ? false : v),
  z.boolean({ error: "must be true or false" }),
);

/** A string of at most `max` characters. */
export const str = (max = MAX_LINE) =>
  z.string({ error: "must be a string" }).max(max, { error: `must be at most ${max} characters` });

/** A single-line string with no control characters. */
export const line = str().refine((s) => !/[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(s), {
  error: "must be a single line without control characters",
});

/** Free text (may span lines), without NUL. */
export const text = (max = MAX_TEXT) =>
  str(max).refine((s) => !s.includes("\0"), { error: "must be text (contains a NUL character)" });

/** A list of at most MAX_LIST entries. */
export const list = <T extends z.ZodType>(item: T) =>
  z.array(item).max(MAX_LIST, { error: `must have at most ${MAX_LIST} entries` });

/** A string checked by one of the `*Problem` functions in lib/validators.ts. */
export function checked(problem: (s: string) => string | undefined) {
  return str().superRefine((s, ctx) => {
    const reason = problem(s);
    if (reason) ctx.addIssue({ code: "custom", message: reason });
  });
}

/** A lowercase DNS label: names of LXCs, hosts, agents and mounts (they become resource names, paths, hostnames). */
export const dnsLabel = z.string({ error: "must be a string" }).regex(DNS_LABEL, {
  error:
    "must be a lowercase DNS label: a-z, 0-9 and -, at most 63 characters, not starting or ending with -",
});

/** An OpenSSH public key line. */
export const sshPublicKey = str(16384).superRefine((s, ctx) => {
  const parsed = parseSshPublicKey(s);
  if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: `SSH public key ${parsed}` });
});

/** A host: IPv4 address or DNS name. */
export const hostAddress = str(253).superRefine((s, ctx) => {
  if (isIpv4(s)) return;
  if (/^[0-9.]+$/.test(s)) {
    ctx.addIssue({
      code: "custom",
      message:
        "is not a valid IPv4 address: four numbers 0-255 without leading zeros, such as 10.1.10.20 (or a DNS name)",
    });
    return;
  }
  const reason = hostnameProblem(s.toLowerCase());
  if (reason) ctx.addIssue({ code: "custom", message: `must be an IPv4 address or a DNS name: ${reason}` });
});

/** An IPv4 address to publish a port on. */
export const bindAddress = (example: string) =>
  z.string({ error: "must be a string" }).refine(isIpv4, {
    error: `must be an IPv4 address such as ${example}`,
  });

/** An environment variable name. */
export const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, { error: "environment variable names must match [A-Z_][A-Z0-9_]*" });

/** A value bound for the agent's .env: what both of hermes' .env parsers read back the same (lib/envFile.ts). */
export const envValue = str(16384).superRefine((s, ctx) => {
  const problem = envValueProblem(s);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/** Secret values bound for .env: the .env rules, and not empty. The messages never contain the value. */
export const envSecretValue = envValue.refine((s) => s.length > 0, { error: "must not be empty" });

/** Secret values that are not bound for .env (passwords): one line, not empty. */
export const secretValue = str(4096)
  .refine((s) => !/[\r\n\0\v\f\x1c-\x1e\x85\u2028\u2029]/.test(s), {
    error: "must be a single line (no line breaks or NUL)",
  })
  .refine((s) => s.length > 0, { error: "must not be empty" });

/** A comma-free list entry for an allow-list variable (hermes splits these variables on commas). */
export const listEntry = (pattern: RegExp, what: string) =>
  z.string({ error: "must be a string" }).regex(pattern, { error: `must be ${what}` });

/** Stands for the key path in a message; parseStackConfig puts the problem's own path there. */
export const KEY_PATH = "{keyPath}";

/**
 * A numeric id, typed either way: `pulumi config set --path '...allowedUsers[0]' 987654321` stores a YAML integer
 * (the CLI: "integers are treated as numbers"), which reaches the program as a JSON number. Integers up to
 * 2^53 - 1 are exact in JSON and kept as their digits (every Telegram id). A larger one (a Discord snowflake) was
 * already rounded when the program read it, so it is refused with the command that stores it as text.
 */
export const numericId = (pattern: RegExp, what: string) =>
  z.preprocess(
    (v, ctx) => {
      if (typeof v !== "number") return v;
      if (Number.isSafeInteger(v)) return String(v);
      if (Number.isInteger(v)) {
        ctx.addIssue({
          code: "custom",
          message:
            "is a number larger than 2^53 - 1, which JSON (and so the program) only reads rounded: the id it " +
            "received is already wrong. Store it as text: pulumi config set --type string --path " +
            `'${KEY_PATH}' <id> (or quote it in the stack file: "<id>")`,
        });
        // Any issue stops zod's pipe here: the rounded number never reaches the pattern (no second message).
        return z.NEVER;
      }
      return String(v); // 1.5: the pattern refuses it with what is allowed
    },
    listEntry(pattern, what),
  );

/** A numeric id list (Telegram and Discord ids). */
export const numericIds = (what: string) => list(numericId(/^\d{1,20}$/, `a numeric ${what} id`));

/** An http(s) URL without blanks, quotes, backslashes or a trailing slash. */
export const httpUrl = (example: string) =>
  z
    .string({ error: "must be a string" })
    .regex(/^https?:\/\/[^\s/'"\\`]{1,253}(\/[^\s'"\\`]{0,1024}[^\s/'"\\`])?$/, {
      error: `must be an http(s) URL without a trailing slash, e.g. ${example}`,
    });
