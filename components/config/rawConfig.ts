/**
 * From the engine's flat config map to the raw top-level values the schema parses, with the checks that only make
 * sense at this level: unknown keys in the project's namespace, and secrets that are not encrypted.
 *
 * Pure: loadStackConfig passes in what the Pulumi SDK reports, so every rule here is unit-tested without an engine.
 */
import { RawStackConfig, SECRET_TOP_LEVEL_KEYS, TOP_LEVEL_KEYS } from "./stack";
import { suggestion } from "./suggest";

/** What the engine hands the program. */
export interface EngineConfig {
  /** The project's name: its config namespace. */
  project: string;
  /** Every config value of the stack, `namespace:key` to its string (objects as JSON). */
  all: Record<string, string>;
  /** Whether the engine reports `namespace:key` as encrypted. */
  isSecret: (fullKey: string) => boolean;
  /** The stack file, when there is one: its name and parsed content, to point at plain-text leaves. */
  stackFile?: { name: string; doc: unknown };
}

/** Raw values by top-level key, or the problems that stop the deployment. */
export function readRawConfig(engine: EngineConfig): { raw: RawStackConfig; problems: string[] } {
  const prefix = `${engine.project}:`;
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [fullKey, text] of Object.entries(engine.all)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      problems.push(
        `${key}: is not a key of this program${suggestion(key, TOP_LEVEL_KEYS)}. Allowed: ${TOP_LEVEL_KEYS.join(", ")}.`,
      );
      continue;
    }
    const value = key === "proxmoxPassword" ? text : parseJson(text);
    // `{}` is what Pulumi.yaml's defaults give a key the stack does not set: the same as absent.
    if (isEmptyObject(value)) continue;
    raw[key] = value;
  }
  for (const key of SECRET_TOP_LEVEL_KEYS) {
    if (raw[key] === undefined) continue;
    const leaves = plainLeaves(engine, key);
    if (leaves.length > 0 || !engine.isSecret(`${prefix}${key}`)) {
      const where = leaves.length > 0 ? leaves.join(", ") : key;
      problems.push(
        `${where}: ${leaves.length > 1 ? "are" : "is"} not encrypted (set without --secret, in an ESC environment or as a ` +
          `default). Secrets are accepted only encrypted: remove it (pulumi config rm ${key === "proxmoxPassword" ? key : `--path '${leaves[0] ?? key}'`}) ` +
          `and set it again with: ${setCommand(key, leaves[0])}`,
      );
    }
  }
  return { raw, problems };
}

/** `pulumi config set --secret ...` for a secret key (the value is prompted for, so it stays out of shell history). */
function setCommand(key: string, leaf: string | undefined): string {
  if (key === "proxmoxPassword") return "pulumi config set --secret proxmoxPassword";
  return `pulumi config set --secret --path '${leaf ?? `${key}.<name>.<key>`}'`;
}

/** Paths below a secret key that the stack file holds in plain text (the engine reports the object as secret as
 * soon as one leaf is, so only the file can tell). */
function plainLeaves(engine: EngineConfig, key: string): string[] {
  const config = (engine.stackFile?.doc as { config?: Record<string, unknown> } | undefined)?.config;
  const value = config?.[`${engine.project}:${key}`];
  if (value === undefined) return [];
  const out: string[] = [];
  const walk = (v: unknown, at: string) => {
    if (isSecureLeaf(v)) return;
    if (v !== null && typeof v === "object") {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        walk(child, Array.isArray(v) ? `${at}[${k}]` : `${at}.${k}`);
      }
      return;
    }
    out.push(at);
  };
  walk(value, key);
  return out;
}

function isSecureLeaf(v: unknown): boolean {
  return (
    v !== null &&
    typeof v === "object" &&
    Object.keys(v).length === 1 &&
    typeof (v as { secure?: unknown }).secure === "string"
  );
}

function isEmptyObject(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
