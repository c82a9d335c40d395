/**
 * Renders hermes' config.yaml (the declared part; templates/merge-config.py merges it with the file on disk).
 *
 * Layers, lowest first: program defaults, then the typed config (llm, MCP servers, platform toolsets), then the
 * free-form `settings` object, which wins. The LLM key is never written into config.yaml: `model.api_key` is always a
 * `${VAR}` reference that hermes expands from $HERMES_HOME/.env at load time.
 */
import * as yaml from "js-yaml";
import { deepMerge, isPlainObject } from "./deepMerge";

/** One MCP server, in the typed config's camelCase; rendered with hermes' snake_case keys. */
export interface McpServer {
  /** Executable for the stdio transport (exclusive with `url`). */
  command?: string;
  /** Arguments for `command`. */
  args?: string[];
  /** Environment of the server process; use `${VAR}` references into .env for secrets. */
  env?: Record<string, string>;
  /** Endpoint for the HTTP/StreamableHTTP transport (exclusive with `command`). */
  url?: string;
  /** HTTP headers; use `${VAR}` references into .env for secrets. */
  headers?: Record<string, string>;
  /** "oauth" for the OAuth 2.1 PKCE flow (tokens live in $HERMES_HOME/mcp-tokens/). */
  auth?: "oauth";
  /** Whether hermes connects to this server at all. */
  enabled: boolean;
  /** Tool call timeout in seconds. */
  timeout?: number;
  /** Initial connection timeout in seconds. */
  connectTimeout?: number;
  /** Tool allow/deny lists. */
  tools?: { include?: string[]; exclude?: string[] };
}

/** The OpenAI-compatible endpoint the agent talks to (e.g. a LiteLLM proxy). */
export interface HermesLlm {
  /** hermes provider id; `custom` for any OpenAI-compatible proxy. */
  provider: string;
  /** Base URL of the endpoint, e.g. http://10.1.10.22:4000/v1. */
  baseUrl: string;
  /** Model id as the endpoint names it. */
  model: string;
  /** Name of the .env variable that holds the key; config.yaml gets `${<apiKeyEnv>}`. Unset: no key at all (an
   * endpoint without authentication): hermes would send an unexpanded `${VAR}` as the key. */
  apiKeyEnv?: string;
  /** Context window override, in tokens. */
  contextLength?: number;
}

/** Everything config.yaml is rendered from. */
export interface HermesSettingsInput {
  /** The LLM endpoint; omitted means hermes keeps whatever model config it has. */
  llm?: HermesLlm;
  /** MCP servers by name. */
  mcpServers: Record<string, McpServer>;
  /** Toolsets per platform, e.g. `{ telegram: ["hermes-telegram"] }`. */
  platformToolsets: Record<string, string[]>;
  /** Free-form hermes settings, deep-merged last (they win over the typed fields). */
  settings: Record<string, unknown>;
}

/**
 * The program's own defaults, kept deliberately small: everything else is hermes' default or the operator's choice.
 * - terminal.backend "local": the design spec runs the agent's commands inside its own container ("we start with
 *   sandbox=local"); the docker backend would need the Docker socket (root-equivalent) mounted into the agent.
 */
export const PROGRAM_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  terminal: Object.freeze({ backend: "local" }),
});

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const ENV_REFERENCE = /^\$\{[A-Z_][A-Z0-9_]*\}$/;

/** True when `value` is exactly one `${VAR}` reference (the only form a key may take in config.yaml). */
export function isEnvReference(value: unknown): value is string {
  return typeof value === "string" && ENV_REFERENCE.test(value);
}

/** Throws unless `value` is a positive integer; `path` names the offending field. */
function requirePositiveInteger(value: number, path: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${path} must be a positive integer`);
  }
}

/** Renders one MCP server the way the NixOS module does: unset and empty fields are left out, `enabled` always kept. */
function renderMcpServer(name: string, server: McpServer): Record<string, unknown> {
  const where = `mcpServers.${name}`;
  const hasCommand = server.command !== undefined && server.command !== "";
  const hasUrl = server.url !== undefined && server.url !== "";
  if (hasCommand === hasUrl) {
    throw new Error(`${where}: set exactly one of command (stdio) or url (HTTP)`);
  }
  const out: Record<string, unknown> = {};
  if (hasCommand) {
    // The module always pairs command with args (default []), so hermes never sees a half-specified stdio server.
    out.command = server.command;
    out.args = [...(server.args ?? [])];
  }
  if (server.env !== undefined && Object.keys(server.env).length > 0) {
    out.env = { ...server.env };
  }
  if (hasUrl) {
    out.url = server.url;
  }
  if (server.headers !== undefined && Object.keys(server.headers).length > 0) {
    out.headers = { ...server.headers };
  }
  if (server.auth !== undefined) {
    out.auth = server.auth;
  }
  out.enabled = server.enabled;
  if (server.timeout !== undefined) {
    requirePositiveInteger(server.timeout, `${where}.timeout`);
    out.timeout = server.timeout;
  }
  if (server.connectTimeout !== undefined) {
    requirePositiveInteger(server.connectTimeout, `${where}.connectTimeout`);
    out.connect_timeout = server.connectTimeout;
  }
  const tools: Record<string, string[]> = {};
  if (server.tools?.include !== undefined && server.tools.include.length > 0) {
    tools.include = [...server.tools.include];
  }
  if (server.tools?.exclude !== undefined && server.tools.exclude.length > 0) {
    tools.exclude = [...server.tools.exclude];
  }
  if (Object.keys(tools).length > 0) {
    out.tools = tools;
  }
  return out;
}

/** Renders the typed part of the config (model, mcp_servers, platform_toolsets) with hermes' key names. */
function renderTypedConfig(input: HermesSettingsInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (input.llm !== undefined) {
    const { provider, baseUrl, model, apiKeyEnv, contextLength } = input.llm;
    for (const [field, value] of Object.entries({ provider, baseUrl, model })) {
      if (typeof value !== "string" || value.trim() === "") {
        throw new Error(`llm.${field} must be a non-empty string`);
      }
    }
    if (apiKeyEnv !== undefined && (typeof apiKeyEnv !== "string" || !ENV_NAME.test(apiKeyEnv))) {
      throw new Error("llm.apiKeyEnv must be an environment variable name matching ^[A-Z_][A-Z0-9_]*$");
    }
    const rendered: Record<string, unknown> = { provider, default: model, base_url: baseUrl };
    if (apiKeyEnv !== undefined) rendered.api_key = `\${${apiKeyEnv}}`;
    if (contextLength !== undefined) {
      requirePositiveInteger(contextLength, "llm.contextLength");
      rendered.context_length = contextLength;
    }
    out.model = rendered;
  }
  const serverNames = Object.keys(input.mcpServers).sort();
  if (serverNames.length > 0) {
    const servers: Record<string, unknown> = {};
    for (const name of serverNames) {
      if (name.trim() === "") {
        throw new Error("mcpServers: server names must be non-empty");
      }
      servers[name] = renderMcpServer(name, input.mcpServers[name]);
    }
    out.mcp_servers = servers;
  }
  const platforms = Object.keys(input.platformToolsets).sort();
  if (platforms.length > 0) {
    const toolsets: Record<string, string[]> = {};
    for (const platform of platforms) {
      toolsets[platform] = [...input.platformToolsets[platform]];
    }
    out.platform_toolsets = toolsets;
  }
  return out;
}

/**
 * Problems with `settings.model.api_key` (and its alias `model.api`): anything but absent or a `${VAR}` reference
 * into .env would put a key into config.yaml. Named by key, never echoing the value. The config model reports them
 * before any resource; rendering refuses them again.
 */
export function literalApiKeyProblems(settings: Record<string, unknown>): string[] {
  const model = settings.model;
  if (!isPlainObject(model)) return [];
  return ["api_key", "api"]
    .filter((key) => Object.prototype.hasOwnProperty.call(model, key) && !isEnvReference(model[key]))
    .map(
      (key) =>
        `settings.model.${key} must be a \${VAR} reference into .env (e.g. "\${LITELLM_API_KEY}"), not a literal value`,
    );
}

/** Builds the declared config.yaml object: deepMerge(PROGRAM_DEFAULTS, typed config, settings). */
export function renderHermesSettings(input: HermesSettingsInput): Record<string, unknown> {
  if (!isPlainObject(input.settings)) {
    throw new Error("settings must be a plain object");
  }
  const [literal] = literalApiKeyProblems(input.settings);
  if (literal !== undefined) throw new Error(literal);
  const typed = renderTypedConfig(input);
  return deepMerge(deepMerge(PROGRAM_DEFAULTS, typed), input.settings);
}

// hermes and templates/merge-config.py read config.yaml with PyYAML, which implements YAML 1.1. js-yaml writes YAML 1.2
// and leaves some strings unquoted that YAML 1.1 reads as something else ("1_000" is an int there, "2024-01-01" a date)
// and writes numbers YAML 1.1 reads as strings (1e-7, 1e+21). The schema below closes both gaps: a string that could
// be read as anything but a string is quoted (quoting too much is harmless; too little changes the value's type), and
// numbers are written in a form both versions agree on.
const YAML_AMBIGUOUS_STRING = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|y|Y|n|N)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:<<|=)$/,
  /^[-+]?\.?[0-9]/, // every YAML 1.1/1.2 int, float, sexagesimal and timestamp starts like this
  /^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$/,
];

/** True for strings that some YAML version would not read back as the same string. */
function isAmbiguousString(data: unknown): boolean {
  return typeof data === "string" && YAML_AMBIGUOUS_STRING.some((re) => re.test(data));
}

/** Writes a number so YAML 1.1 and 1.2 both read it back as the same number (YAML 1.1 floats need a "." before "e"). */
function representNumber(value: unknown): string {
  const n = value as number;
  if (Number.isNaN(n)) return ".nan";
  if (n === Infinity) return ".inf";
  if (n === -Infinity) return "-.inf";
  if (Object.is(n, -0)) return "-0.0";
  // String() gives the shortest text that reads back as the same double; only its exponent form needs fixing.
  const [mantissa, exponent] = String(n).split("e");
  if (exponent === undefined) return mantissa;
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}e${exponent}`;
}

// Only dumping uses this schema, so `construct` is never called; `resolve` decides which strings get quoted.
// Same tag and kind as js-yaml's own int/float types, so they replace them in place rather than being added.
const DUMP_SCHEMA = yaml.DEFAULT_SCHEMA.extend({
  implicit: [
    new yaml.Type("tag:yaml.org,2002:int", {
      kind: "scalar",
      resolve: isAmbiguousString,
      construct: Number,
      predicate: (data: object) => typeof data === "number" && Number.isInteger(data) && !Object.is(data, -0),
      represent: representNumber,
    }),
    new yaml.Type("tag:yaml.org,2002:float", {
      kind: "scalar",
      resolve: isAmbiguousString,
      construct: Number,
      predicate: (data: object) =>
        typeof data === "number" && (!Number.isInteger(data) || Object.is(data, -0)),
      represent: representNumber,
    }),
  ],
});

/** Serialises config data as YAML: sorted keys, no line wrapping, no anchors; the same input always gives the same bytes. */
export function toYaml(obj: unknown): string {
  return yaml.dump(obj, {
    schema: DUMP_SCHEMA,
    sortKeys: true,
    lineWidth: -1,
    noRefs: true,
  });
}
