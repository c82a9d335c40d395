/**
 * How the config model reports: every problem is one line that starts with its key path, and nothing is
 * registered while there is one. Messages name paths and allowed values; they never repeat a value the user typed
 * (a secret pasted into the wrong key would be printed back).
 */

/** Invalid configuration: every problem, one per line, each prefixed with its key path. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid stack configuration (nothing was deployed):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** Where the rules of one resolution step put what they find. */
export interface Findings {
  /** Problems stop the deployment. */
  problems: string[];
  /** Warnings are shown at preview and do not stop it. */
  warnings: string[];
}

/** Renders a zod issue path as `lxcs.hermes.mounts[1].hostPath`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out || "(root)";
}

/** Reports every entry whose key was already taken by an earlier one: `<where>: <verb> <first where>`. */
export function checkUnique(entries: Array<[string, string]>, verb: string, problems: string[]): void {
  const seen = new Map<string, string>();
  for (const [key, where] of entries) {
    const first = seen.get(key);
    if (first) problems.push(`${where}: ${verb} ${first}`);
    else seen.set(key, where);
  }
}

/**
 * Names the stack in every pulumi command a message hands the user to paste (`pulumi config set ...` becomes
 * `pulumi config set -s <stack> ...`): `pulumi stack init` selects the newest stack, so a command without `-s`
 * would land on whichever stack happens to be selected.
 */
export function namingStack(message: string, stack: string): string {
  return message.replace(
    /\bpulumi (config set|config rm|config get|up|preview|refresh|destroy|stack output)(?= )(?! -s )/g,
    `pulumi $1 -s ${stack}`,
  );
}
