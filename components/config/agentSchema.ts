/** One agent: where it runs, which image, its LLM, platforms, hermes settings, documents, mounts and limits. */
import { z } from "zod";
import { absolutePathProblem } from "../lib/validators";
import { dockerCpus } from "../lib/dockerCpus";
import { DEFAULT_HERMES_IMAGE } from "./hermesImage";
import {
  MAX_LIST,
  bindAddress,
  bool,
  checked,
  dnsLabel,
  doc,
  envName,
  envValue,
  httpUrl,
  int,
  line,
  list,
  port,
  str,
  strictObject,
  text,
} from "./fields";
import { PLATFORMS } from "./platforms";

/** `agents.<a>.platforms`: one optional block per registered platform; a platform is on when its block is set. */
const platformsSchema = strictObject(
  Object.fromEntries(PLATFORMS.map((p) => [p.key, p.schema.optional()])) as Record<
    string,
    z.ZodOptional<z.ZodType<Record<string, unknown>>>
  >,
);

/**
 * A value of an MCP server's env or headers. It goes into config.yaml, not .env: `${VAR}` is hermes' own reference
 * syntax there (checked against the .env in mcpRules.ts), so only what YAML and an HTTP header cannot carry is refused.
 */
const mcpValue = str(16384).refine((s) => !/[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(s), {
  error: "must be a single line without control characters",
});

const mcpServerSchema = strictObject({
  command: line.optional().meta(doc("text", "one of command/url", "stdio transport command.")),
  args: list(line)
    .default([])
    .meta(doc("list", "`[]`", "Its arguments.")),
  env: z
    .record(envName, mcpValue)
    .default({})
    .meta(
      doc(
        "text",
        "`{}`",
        "Its environment. Secrets: `${VAR}` naming a variable of the agent's `.env` (e.g. `agentSecrets.<agent>.env.VAR`); hermes expands it.",
      ),
    ),
  url: httpUrl("https://mcp.example.org/mcp")
    .optional()
    .meta(doc("http(s) URL", "one of command/url", "HTTP transport endpoint.")),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]{1,128}$/, { error: "must be an HTTP header name" }), mcpValue)
    .default({})
    .meta(
      doc("text", "`{}`", "HTTP headers. Secrets: `${VAR}` as in `env` (`Authorization: Bearer ${VAR}`)."),
    ),
  auth: z
    .literal("oauth")
    .optional()
    .meta(doc("`oauth`", "none", "OAuth 2.1 (tokens persist in `/opt/data/mcp-tokens`).")),
  enabled: bool.default(true).meta(doc("bool", "`true`", "Enable/disable.")),
  timeout: int(1, 86400)
    .optional()
    .meta(doc("seconds", "hermes'", "Tool call timeout.")),
  connectTimeout: int(1, 86400)
    .optional()
    .meta(doc("seconds", "hermes'", "Connect timeout (`connect_timeout`).")),
  tools: strictObject({
    include: list(line)
      .default([])
      .meta(doc("list", "`[]`", "Tool allow-list.")),
    exclude: list(line)
      .default([])
      .meta(doc("list", "`[]`", "Tool block-list.")),
  }).optional(),
});

const documentSchema = z
  .union(
    [
      strictObject({ text: text().meta(doc("text", "-", "Inline content.")) }),
      strictObject({ file: line.meta(doc("path in the project", "-", "Content from a file.")) }),
    ],
    { error: "must be {text: ...} or {file: path}" },
  )
  .meta(doc("`{text}` or `{file}`", "`{}`", "`SOUL.md` goes to HERMES_HOME, anything else to `workspace/`."));

const workspaceMountSchema = strictObject({
  source: line.meta(
    doc("LXC mount name (or host path on a Docker host)", "every LXC mount", "Bulk mount for the gateway."),
  ),
  target: checked(absolutePathProblem)
    .optional()
    .meta(
      doc(
        "path under `/opt/data/`",
        "`/opt/data/workspace/<name>`",
        "hermes' file tools only write under /opt/data.",
      ),
    ),
  readOnly: bool.default(false).meta(doc("bool", "`false`", "Read-only.")),
});

/** The docker provider reads cpus back in its own form ("2" as "2.0"); the model holds that form, and refuses
 * amounts it would read back as others (0.05 as 0.1), which would re-create the container on every update. */
const cpus = z
  .union([z.number(), z.string()])
  .transform((v) => String(v))
  .pipe(z.string().regex(/^\d{1,3}(\.\d{1,2})?$/, { error: "must be a number of CPUs such as 2 or 1.5" }))
  .transform((v, ctx) => {
    const sent = Number(v) > 0 ? dockerCpus(v) : undefined;
    if (sent === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "must be more than 0, in steps the docker provider keeps (e.g. 0.5, 1.25, 2)",
      });
      return z.NEVER;
    }
    return sent;
  });

export const agentSchema = strictObject({
  lxc: dnsLabel.optional().meta(doc("key of `lxcs`", "one of lxc/dockerHost", "Run on this LXC.")),
  dockerHost: dnsLabel
    .optional()
    .meta(doc("key of `dockerHosts`", "one of lxc/dockerHost", "Or on this Docker host.")),
  image: z
    .string()
    .regex(/^[a-z0-9]+([._/-][a-z0-9]+){0,30}(:\d{1,5})?(\/[a-z0-9._-]{1,128}){0,10}$/, {
      error: "must be an image repository such as nousresearch/hermes-agent",
    })
    .default(DEFAULT_HERMES_IMAGE.repository)
    .meta(doc("image repository", "`nousresearch/hermes-agent`", "Gateway image.")),
  imageTag: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, { error: "must be an image tag" })
    .optional()
    .meta(
      doc(
        "hermes release tag (`v2026.9.14`, `v0.21.6`)",
        `\`${DEFAULT_HERMES_IMAGE.tag}\` + its digest`,
        'Release to run; see "Choosing the hermes image".',
      ),
    ),
  imageDigest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, { error: "must look like sha256:<64 hex>" })
    .optional()
    .meta(doc("`sha256:<64 hex>`", "the default's digest", "Digest pin, wins over the tag (recommended).")),
  llm: strictObject({
    provider: z
      .string()
      .regex(/^[a-z0-9-]{1,64}$/, { error: "must be a provider name such as custom" })
      .default("custom")
      .meta(doc("provider name", "`custom`", "hermes provider (`custom` = any OpenAI-compatible endpoint).")),
    baseUrl: httpUrl("http://10.1.10.22:4000/v1").meta(
      doc("URL, no trailing slash", "required with llm", "e.g. `http://10.1.10.22:4000/v1`."),
    ),
    model: line
      .refine((s) => s.length > 0, { error: "must not be empty" })
      .meta(doc("text", "required with llm", "Model name the endpoint exposes.")),
    apiKeyEnv: envName
      .default("LLM_API_KEY")
      .meta(
        doc(
          "env var name",
          "`LLM_API_KEY`",
          "`.env` variable holding `agentSecrets.<name>.llmApiKey`; config.yaml says `${NAME}`.",
        ),
      ),
    contextLength: int(1024, 10000000)
      .optional()
      .meta(doc("1024+", "none", "Context window override.")),
  }).optional(),
  platforms: platformsSchema.prefault({}),
  settings: z
    .record(z.string().max(256), z.unknown())
    .default({})
    .meta(
      doc(
        "any hermes config key",
        "`{}`",
        "Free-form config.yaml; wins over the typed keys (not over who may talk to the agent).",
      ),
    ),
  mcpServers: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
        error: "MCP server names may only contain letters, digits, _ and -",
      }),
      mcpServerSchema,
    )
    .default({}),
  platformToolsets: z
    .record(z.string().regex(/^[a-z0-9_]{1,64}$/), list(line))
    .default({})
    .meta(doc("list", "`{}`", "`platform_toolsets.<platform>`.")),
  documents: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
        error: "document names must be plain file names such as USER.md",
      }),
      documentSchema,
    )
    .default({}),
  environment: z
    .record(envName, envValue)
    .default({})
    .meta(doc("text", "`{}`", "Non-secret `.env` variables (secrets go to `agentSecrets.<name>.env`).")),
  workspaceMounts: z
    .array(workspaceMountSchema)
    .max(MAX_LIST, { error: `must have at most ${MAX_LIST} entries` })
    .optional(),
  memoryMb: int(1024, 1048576, "MB")
    .default(3072)
    .meta(doc("1024+", "`3072`", "Container memory limit.")),
  cpus: cpus.default("2.0").meta(doc("e.g. `2`, `1.5`", "`2`", "Container CPU limit.")),
  browserTools: bool
    .default(true)
    .meta(doc("bool", "`true`", "1 GB shared memory for Chromium (64 MB otherwise).")),
  apiServer: strictObject({
    enabled: bool
      .default(false)
      .meta(doc("bool", "`false`", "OpenAI-compatible API (8642); needs `apiServerKey`.")),
    port: port()
      .default(8642)
      .meta(doc("1-65535", "`8642`", "Published port on the Docker host.")),
    bind: bindAddress("0.0.0.0 or 127.0.0.1")
      .default("0.0.0.0")
      .meta(doc("IPv4", "`0.0.0.0`", "Address it is published on.")),
  }).prefault({}),
  dashboard: strictObject({
    enabled: bool.default(false).meta(doc("bool", "`false`", "Web dashboard (9119); needs basic auth.")),
    port: port()
      .default(9119)
      .meta(doc("1-65535", "`9119`", "Published port on the Docker host.")),
    bind: bindAddress("127.0.0.1")
      .default("127.0.0.1")
      .meta(doc("IPv4", "`127.0.0.1`", "Address it is published on (reach it with `ssh -L`).")),
    basicAuthUser: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: "must be a user name (letters, digits, . _ -)" })
      .optional()
      .meta(doc("user name", "none", "Basic-auth user (password: `dashboardPassword`).")),
  }).prefault({}),
  managed: bool
    .default(true)
    .meta(
      doc("bool", "`true`", "`HERMES_MANAGED` + `.managed`: hermes refuses config edits that would drift."),
    ),
  configMode: z
    .enum(["merge", "replace"])
    .default("merge")
    .meta(
      doc(
        "`merge`, `replace`",
        "`merge`",
        "Merge with config.yaml on disk (keys only on disk survive) or replace it.",
      ),
    ),
  authJsonForceOverwrite: bool
    .default(false)
    .meta(doc("bool", "`false`", "Rewrite auth.json every deploy instead of seeding once.")),
  healthTimeoutSeconds: int(10, 3600)
    .default(180)
    .meta(doc("10-3600", "`180`", "Wait for the gateway to be healthy after each (re)start.")),
});

/** The agent block as parsed, before it is resolved against its host. */
export type ParsedAgent = z.output<typeof agentSchema>;
