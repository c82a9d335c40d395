/**
 * Renders $HERMES_HOME/.env, which two different parsers read, and both must read the same value:
 * - python-dotenv (hermes_cli/env_loader.py: load_dotenv, interpolation on) fills the gateway's environment;
 * - hermes' own reader (agent/secret_scope.py load_env_file + hermes_cli/config.py _parse_env_value) serves
 *   load_env(), cron jobs and the dashboard; it unescapes only \\ and \" inside double quotes, keeps single-quoted
 *   text literally, and expands nothing.
 * So values are written the way hermes' own writer writes them (hermes_cli/config.py _quote_env_value): bare when
 * they hold no whitespace, `#` or quote, else in double quotes with `\` -> `\\` and `"` -> `\"`; both parsers
 * read that back exactly (tests/unit/envFile.test.ts runs both). Refused, since the two would disagree or the line
 * would not survive: `${` (python-dotenv expands it in every quoting style, hermes never), line breaks and NUL, and
 * non-ASCII (hermes strips it from credential-like variables after loading). Bare lines with no surrounding
 * whitespace, LF and a final newline also leave hermes' start-up .env sanitiser nothing to rewrite.
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

/**
 * Why a value cannot go into .env, or undefined. Never contains the value (values are secrets). The config model
 * runs the same check on every value bound for .env, so a bad one stops the stack before any resource exists.
 */
export function envValueProblem(value: string): string | undefined {
  if (typeof value !== "string") return "must be a string";
  if (LINE_BREAK_OR_NUL.test(value)) return "contains a line break or NUL character, which .env cannot hold";
  if (value.includes("${")) {
    return 'contains "${", which python-dotenv expands as a variable reference (in every quoting style) and hermes\' own reader does not';
  }
  if (/[^\x20-\x7e\t]/.test(value)) {
    return "contains a non-ASCII or control character, which hermes strips from credentials when it loads .env";
  }
  if (needsQuotes(value) && value.endsWith("\\")) {
    return "needs quotes (it has blanks, # or a quote) and ends with a backslash, which python-dotenv reads as escaping the closing quote";
  }
  return undefined;
}

const needsQuotes = (value: string) => /[\s#"']/.test(value);

/** Quotes one value as hermes' writer does; `name` is only used in error messages. */
function quoteValue(name: string, value: string): string {
  const problem = envValueProblem(value);
  if (problem !== undefined) throw new Error(`.env variable ${name}: value ${problem}`);
  if (!needsQuotes(value)) return value;
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Renders the .env file: header comment, one `NAME=value` line per variable sorted by name, trailing newline. */
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
