/**
 * MCP servers and the agent's secrets: `${VAR}` references, and credentials written in plain text.
 *
 * hermes expands references in every string of an MCP server's config, twice: hermes_cli/config.py
 * `_expand_env_vars` (inside `load_config`; `${VAR}` and `${env:VAR}`) and tools/mcp_tool_config.py
 * `_interpolate_env_vars` (inside `_load_mcp_config`; the same, plus Cursor's context variables such as
 * `${workspaceFolder}`). Both keep an unresolved reference as its literal text, so hermes would hand a server the
 * string `${X}`. A stdio server's environment is `_build_safe_env`: a few safe variables plus the server's own `env`,
 * so a reference is the only way to give it a secret of the agent's .env. Read at NousResearch/hermes-agent@00067189.
 */
import type { McpServer } from "../lib/hermesConfig";

/** Cursor-style context variables tools/mcp_tool_config.py resolves itself (`_CONTEXT_VAR_RESOLVERS`). */
const CONTEXT_VARIABLES = new Set([
  "userHome",
  "workspaceFolder",
  "workspaceFolderBasename",
  "pathSeparator",
  "/",
]);
/** hermes' reference pattern (`_ENV_VAR_PATTERN`, `_ENV_REF_RE`): anything but `}` between the braces. */
const REFERENCE = /\$\{([^}]+)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Variable names whose values are credentials, for env keys and header names. */
const CREDENTIAL_NAME =
  /(^|[_-])(TOKEN|SECRET|PASSWORD|PASSWD|PASS|API[_-]?KEY|ACCESS[_-]?KEY|PRIVATE[_-]?KEY|AUTH|AUTHORIZATION|CREDENTIALS?|COOKIE|PAT)($|[_-])/i;
/** Values shaped like well-known credentials (provider prefixes, JWTs, bearer tokens). */
const CREDENTIAL_VALUE = [
  /\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}/,
  /\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/,
  /\bglpat-[A-Za-z0-9_-]{16,}/,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/,
  /\bAKIA[0-9A-Z]{16}\b/,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./,
  /^(Bearer|Basic|Token)\s+\S{8,}$/i,
];
/** Command-line flags and URL query parameters that carry credentials. */
const CREDENTIAL_FLAG = /^--?(api[-_]?key|token|access[-_]?token|secret|password|auth)(=|$)/i;
const CREDENTIAL_QUERY = /[?&](api[-_]?key|key|token|access[-_]?token|secret|password|auth|sig)=([^&#]+)/i;

/** The references in a string: `{ name }` for an environment variable, `{ unresolvable }` for a form hermes keeps. */
function references(value: string): Array<{ name?: string; unresolvable?: boolean }> {
  const found: Array<{ name?: string; unresolvable?: boolean }> = [];
  for (const m of value.matchAll(REFERENCE)) {
    const inner = m[1].trim();
    if (CONTEXT_VARIABLES.has(inner)) continue;
    const name = inner.startsWith("env:") ? inner.slice(4).trim() : inner;
    found.push(ENV_NAME.test(name) ? { name } : { unresolvable: true });
  }
  return found;
}

/**
 * Every string of a server with the key path hermes would expand it at; `key` is the name of an env variable or a
 * header, `previous` the argument before an argument (a flag whose value this one may be).
 */
function strings(server: McpServer): Array<{ path: string; value: string; key?: string; previous?: string }> {
  const out: Array<{ path: string; value: string; key?: string; previous?: string }> = [];
  if (server.command !== undefined) out.push({ path: "command", value: server.command });
  (server.args ?? []).forEach((a, i, all) =>
    out.push({ path: `args[${i}]`, value: a, previous: all[i - 1] }),
  );
  for (const [k, v] of Object.entries(server.env ?? {})) out.push({ path: `env.${k}`, value: v, key: k });
  if (server.url !== undefined) out.push({ path: "url", value: server.url });
  for (const [k, v] of Object.entries(server.headers ?? {}))
    out.push({ path: `headers.${k}`, value: v, key: k });
  return out;
}

/** Whether a plain-text value (no reference in it) looks like a credential. */
function looksLikeCredential(value: string, key: string | undefined, previous: string | undefined): boolean {
  if (value === "" || REFERENCE.test(value)) {
    REFERENCE.lastIndex = 0;
    return false;
  }
  REFERENCE.lastIndex = 0;
  if (CREDENTIAL_VALUE.some((re) => re.test(value))) return true;
  // By name only when the value could be one: numbers and switches (TOKEN_LIMIT=4000, AUTH_ENABLED=true) are not.
  const plainSetting = /^(\d+|true|false|yes|no|on|off)$/i.test(value);
  if (key !== undefined && !plainSetting && CREDENTIAL_NAME.test(key)) return true;
  // A credential flag with its value, glued (`--token=...`, in an argument or in an env value that holds arguments)
  // or as the next argument (`--token`, `...`).
  const eq = value.indexOf("=");
  if (CREDENTIAL_FLAG.test(value) && eq > 0 && eq < value.length - 1) return true;
  if (previous !== undefined && CREDENTIAL_FLAG.test(previous) && !previous.includes("=")) return true;
  // In any string, not only `url`: a stdio server is often a bridge given its endpoint as an argument
  // (`npx mcp-remote https://host/mcp?api_key=...`).
  const q = CREDENTIAL_QUERY.exec(value);
  return q !== null && !q[2].includes("${");
}

/**
 * Checks one agent's MCP servers. `envNames` are the variables its .env will hold (never none: API_SERVER_KEY is always
 * there, agentRules.ts). A reference to any other variable is a problem (hermes would pass its literal text to the
 * server); a credential-shaped plain value, the command's included, is a warning (it would sit in config.yaml).
 * Messages name the key path and the variable, never the value.
 */
export function checkMcpReferences(
  at: string,
  secretsAt: string,
  servers: Record<string, McpServer>,
  envNames: ReadonlySet<string>,
  findings: { problems: string[]; warnings: string[] },
): void {
  for (const [server, def] of Object.entries(servers)) {
    for (const { path, value, key, previous } of strings(def)) {
      const where = `${at}.mcpServers.${server}.${path}`;
      for (const ref of references(value)) {
        if (ref.unresolvable) {
          findings.problems.push(
            `${where}: has a \${...} reference that is not an environment variable; hermes resolves only ` +
              "${VAR}, ${env:VAR} and its context variables (${workspaceFolder}, ${userHome}, ...) here",
          );
        } else if (ref.name !== undefined && !envNames.has(ref.name)) {
          findings.problems.push(
            `${where}: references \${${ref.name}}, which the agent's .env will not hold, so hermes would pass the ` +
              `text \${${ref.name}} on. Set it with: pulumi config set --secret --path '${secretsAt}.env.${ref.name}' ` +
              `(or reference a variable the stack already writes: ${[...envNames].sort().join(", ")})`,
          );
        }
      }
      if (looksLikeCredential(value, key, previous)) {
        findings.warnings.push(
          `${where}: looks like a credential in plain text, which would be written into config.yaml. Keep it in ` +
            `the agent's .env instead (pulumi config set --secret --path '${secretsAt}.env.<NAME>') and write \${VAR} ` +
            "here with that name: hermes expands it when it loads the server.",
        );
      }
    }
  }
}
