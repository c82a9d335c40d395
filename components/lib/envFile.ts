/**
 * Renders $HERMES_HOME/.env, which hermes loads with python-dotenv's `dotenv_values` (interpolation on).
 *
 * What the real parser does (python-dotenv 0.21 and 1.2, proven by tests/unit/envFile.test.ts):
 * - `${NAME}` / `${NAME:-default}` is expanded in EVERY value, single-quoted ones included, and there is no escape
 *   for it, so a value containing `${` cannot be written literally: it is rejected.
 * - Single-quoted values decode `\\` and `\'`; double-quoted values decode `\\`, `\"` and `\n`-style escapes. So
 *   backslashes are escaped in both styles.
 * - A backslash right before the closing quote is read as an escaped quote and swallows the following lines, so a
 *   value ending in a backslash cannot be quoted safely: it is rejected.
 * Errors name the variable, never its value (values are secrets).
 */

/** One variable of the .env file. */
export interface EnvFileVar {
  /** Variable name, `^[A-Z_][A-Z0-9_]*$`. */
  name: string;
  /** Value, written so that python-dotenv reads back exactly this string. */
  value: string;
}

/** First line of the rendered file. */
export const ENV_FILE_HEADER =
  "# Managed by hermes-lxc (pulumi): edits to this file are overwritten on the next deploy.";

const NAME = /^[A-Z_][A-Z0-9_]*$/;
// NUL and every character Python's str.splitlines() breaks on: a value must stay on its one line for every reader
// (python-dotenv, hermes' own line-based .env sanitiser, editors).
const LINE_BREAK_OR_NUL = /[\0\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** Quotes one value for python-dotenv; `name` is only used in error messages. */
function quoteValue(name: string, value: string): string {
  if (typeof value !== "string") {
    throw new Error(`.env variable ${name}: value must be a string`);
  }
  if (LINE_BREAK_OR_NUL.test(value)) {
    throw new Error(
      `.env variable ${name}: value contains a line break or NUL character, which .env cannot hold`,
    );
  }
  if (value.includes("${")) {
    throw new Error(
      `.env variable ${name}: value contains "\${", which python-dotenv expands as a variable reference in every quoting style`,
    );
  }
  if (value.endsWith("\\")) {
    throw new Error(
      `.env variable ${name}: value ends with a backslash, which python-dotenv reads as an escaped closing quote`,
    );
  }
  const escaped = value.replace(/\\/g, "\\\\");
  if (!value.includes("'")) {
    return `'${escaped}'`;
  }
  return `"${escaped.replace(/"/g, '\\"')}"`;
}

/** Renders the .env file: header comment, one `NAME='value'` line per variable sorted by name, trailing newline. */
export function renderEnvFile(vars: Array<{ name: string; value: string }>): string {
  const seen = new Set<string>();
  for (const { name } of vars) {
    if (typeof name !== "string" || !NAME.test(name)) {
      // The name is not secret, but it may be garbage: JSON.stringify keeps control characters out of the message.
      throw new Error(`.env variable name ${JSON.stringify(String(name))} must match ^[A-Z_][A-Z0-9_]*$`);
    }
    if (seen.has(name)) {
      throw new Error(`.env variable ${name} is set more than once`);
    }
    seen.add(name);
  }
  const lines = [...vars]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, value }) => `${name}=${quoteValue(name, value)}`);
  return `${[ENV_FILE_HEADER, ...lines].join("\n")}\n`;
}
