/**
 * The stack configuration model: zod schemas for every key the program reads, with defaults, plus the
 * cross-field rules zod cannot express per field (node references, mount nesting, id ranges, secrets that a
 * feature needs). Pure: no Pulumi, no I/O except through the injected file reader for documents.
 *
 * Every message names the key path (`lxcs.hermes.mounts[1].hostPath`) and says what is allowed. Messages never
 * contain a secret value.
 */
import { dockerCpus } from "../lib/dockerCpus";
import { envValueProblem } from "../lib/envFile";
import { literalApiKeyProblems } from "../lib/hermesConfig";
import { z } from "zod";
import { GATEWAY_ID_MAX, GATEWAY_ID_MIN } from "../lib/idmap";
import {
  BRIDGE_NAME,
  DNS_LABEL,
  MAC_ADDRESS,
  NODE_NAME,
  absolutePathProblem,
  containerPathProblem,
  hostPathProblem,
  hostnameProblem,
  ipv4CidrProblem,
  ipv4InSubnet,
  isIpv4,
  isSameOrInside,
  parseSshPublicKey,
  tagProblem,
} from "../lib/validators";

// ---------------------------------------------------------------------------------------------------------------
// Building blocks

/** A strict object whose unknown-key message lists the keys that are allowed. */
function strictObject<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key ${issue.keys.map((k) => `'${k}'`).join(", ")}; allowed keys: ${allowed}`
        : undefined,
  });
}

/** Integer in [min, max]; accepts digit strings too, since `pulumi config set --path` may store them as text. */
function int(min: number, max: number, unit = "") {
  const suffix = unit ? ` ${unit}` : "";
  return z.preprocess(
    (v) => (typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v),
    z
      .number({ error: `must be a whole number between ${min} and ${max}${suffix}` })
      .int({ error: `must be a whole number between ${min} and ${max}${suffix}` })
      .min(min, { error: `must be at least ${min}${suffix}` })
      .max(max, { error: `must be at most ${max}${suffix}` }),
  );
}

/** Boolean; accepts "true"/"false" strings for the same reason as `int`. */
const bool = z.preprocess(
  (v) => (v === "true" ? true : v === "false" ? false : v),
  z.boolean({ error: "must be true or false" }),
);

/** A single-line string with no control characters. */
const line = z.string({ error: "must be a string" }).refine((s) => !/[\u0000-\u001f\u007f]/.test(s), {
  error: "must be a single line without control characters",
});

/** A string checked by one of the `*Problem` functions in validators.ts. */
function checked(problem: (s: string) => string | undefined) {
  return z.string({ error: "must be a string" }).superRefine((s, ctx) => {
    const reason = problem(s);
    if (reason) ctx.addIssue({ code: "custom", message: reason });
  });
}

const dnsLabel = z.string({ error: "must be a string" }).regex(DNS_LABEL, {
  error:
    "must be a lowercase DNS label: a-z, 0-9 and -, at most 63 characters, not starting or ending with -",
});

const sshPublicKey = z.string({ error: "must be a string" }).superRefine((s, ctx) => {
  const parsed = parseSshPublicKey(s);
  if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: `SSH public key ${parsed}` });
});

/** A host: IPv4 address or DNS name. */
const hostAddress = z.string({ error: "must be a string" }).superRefine((s, ctx) => {
  if (isIpv4(s)) return;
  if (/^[0-9.]+$/.test(s)) {
    ctx.addIssue({ code: "custom", message: "is not a valid IPv4 address" });
    return;
  }
  const reason = hostnameProblem(s.toLowerCase());
  if (reason) ctx.addIssue({ code: "custom", message: `must be an IPv4 address or a DNS name: ${reason}` });
});

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, { error: "environment variable names must match [A-Z_][A-Z0-9_]*" });

/** A value that ends up in .env: single line, no NUL. The message never echoes the value. */
/** A value bound for the agent's .env: what both of hermes' .env parsers read back the same (lib/envFile.ts). */
const envValue = z.string({ error: "must be a string" }).superRefine((s, ctx) => {
  const problem = envValueProblem(s);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/** Secret values that are not bound for .env (passwords): one line, not empty. */
const secretValue = z
  .string({ error: "must be a string" })
  .refine((s) => !/[\r\n\0\v\f\x1c-\x1e\x85\u2028\u2029]/.test(s), {
    error: "must be a single line (no line breaks or NUL)",
  })
  .refine((s) => s.length > 0, { error: "must not be empty" });

/** Secret values bound for .env: the .env rules, and not empty. */
const envSecretValue = envValue.refine((s) => s.length > 0, { error: "must not be empty" });

// ---------------------------------------------------------------------------------------------------------------
// Proxmox and SSH

const nodeSchema = strictObject({
  /** Address the program's SSH connections use for this node. */
  address: hostAddress,
  /** sshd port on the node. */
  sshPort: int(1, 65535).default(22),
  /** The node's pinned SSH host key (`ssh-keyscan -t ed25519 <node>` run from a trusted network, or read on the console). */
  hostKey: sshPublicKey,
});

const proxmoxSchema = strictObject({
  /** Proxmox VE API endpoint. */
  endpoint: z
    .string({ error: "must be a string" })
    .regex(/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, { error: "must look like https://<node>:8006/" }),
  /** Accept the node's self-signed TLS certificate. */
  insecure: bool.default(false),
  /** API user. Bind mounts and keyctl are only allowed to root@pam with a password. */
  username: z.string({ error: "must be a string" }).default("root@pam"),
  /** The cluster's nodes that host an LXC, keyed by Proxmox node name. */
  nodes: z.record(
    z.string().regex(NODE_NAME, { error: "node names must be hostnames (letters, digits, -)" }),
    nodeSchema,
  ),
});

const sshClientSchema = strictObject({
  /** Private key file for SSH to nodes and containers; ssh-agent (SSH_AUTH_SOCK) is used when absent. */
  privateKeyPath: line.optional(),
  /** Where the program keeps the known_hosts files it pins for the nested Docker provider. */
  knownHostsDir: line.default("~/.ssh/hermes-lxc"),
});

// ---------------------------------------------------------------------------------------------------------------
// Docker engine

/** Defaults: the last Docker CE and containerd.io releases before the November 2025 runc change that breaks
 * Docker in LXC on hosts with lxc-pve older than 6.0.5-2 (field-notes.md). Raise them once the node is updated. */
export const DEFAULT_DOCKER_CE_VERSION = "5:28.5.1-1~debian.12~bookworm";
export const DEFAULT_CONTAINERD_VERSION = "1.7.28-1~debian.12~bookworm";

const aptVersion = z.string({ error: "must be a string" }).regex(/^[A-Za-z0-9.+~:-]+$/, {
  error: "must be a Debian package version such as 5:28.5.1-1~debian.12~bookworm",
});

const dockerSchema = strictObject({
  /** Install Docker on this host (false for a host where Docker is already managed). */
  install: bool.default(true),
  /** Where Docker comes from: Docker's apt repository, or Debian's docker.io. */
  source: z.enum(["docker-ce", "debian"], { error: "must be 'docker-ce' or 'debian'" }).default("docker-ce"),
  /** Pinned and held docker-ce/docker-ce-cli version. */
  dockerCeVersion: aptVersion.default(DEFAULT_DOCKER_CE_VERSION),
  /** Pinned and held containerd.io version (it bundles runc). */
  containerdVersion: aptVersion.default(DEFAULT_CONTAINERD_VERSION),
  /** Optional pinned docker.io version when source is debian. */
  dockerIoVersion: aptVersion.optional(),
  /** Per-container log size before rotation (the LXC rootfs is small). */
  logMaxSize: z
    .string()
    .regex(/^[1-9]\d{0,5}[kmg]$/, { error: "must look like 10m (1 to 6 digits, then k, m or g)" })
    .default("10m"),
  /** Rotated log files kept per container. */
  logMaxFile: int(1, 100).default(3),
});

// ---------------------------------------------------------------------------------------------------------------
// LXC

const templateSchema = z.union(
  [
    strictObject({
      /** Download URL of a vztmpl archive. */
      url: z.string().regex(/^https?:\/\/\S+\.tar\.(zst|gz|xz)$/, {
        error: "must be an http(s) URL of a .tar.zst/.tar.gz/.tar.xz template",
      }),
      /** Expected checksum of the archive. */
      checksum: z
        .string()
        .regex(/^[0-9a-f]{32,128}$/, { error: "must be a lowercase hex digest" })
        .optional(),
      /** Algorithm of `checksum`. */
      checksumAlgorithm: z.enum(["sha256", "sha512"]).default("sha512"),
      /** Datastore that holds templates. */
      datastore: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, { error: "must be a Proxmox storage id" })
        .default("local"),
    }),
    strictObject({
      /** An existing template volume, e.g. local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst. */
      fileId: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*:vztmpl\/[A-Za-z0-9._+-]+$/, {
        error: "must look like local:vztmpl/<file>",
      }),
    }),
  ],
  { error: "must be either {url, checksum, ...} to download a template or {fileId} for an existing one" },
);

const DEFAULT_TEMPLATE_URL =
  "https://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst";

const mountSchema = strictObject({
  /** Host directory (a dedicated subdirectory of a disk), prepared with the gateway's owner. */
  hostPath: checked(hostPathProblem),
  /** Where it appears inside the LXC. */
  containerPath: checked(containerPathProblem),
  /** Short name; the agent sees the mount at /opt/data/workspace/<name>. Defaults to the container path's last segment. */
  name: dnsLabel.optional(),
  /** Mount read-only. */
  readOnly: bool.default(false),
  /** Refuse to prepare the directory on the node's root filesystem: a bulk disk that failed to mount leaves an
   * empty mount directory, and the agent would fill the root disk. Set false for a directory meant to be on /. */
  onSeparateDisk: bool.default(true),
});

const ipv4Schema = z.union(
  [
    z.literal("dhcp"),
    strictObject({
      /** Static address with prefix length. */
      address: checked(ipv4CidrProblem),
      /** Default gateway, inside the address's subnet. */
      gateway: z.string().refine(isIpv4, { error: "must be an IPv4 address" }),
    }),
  ],
  { error: "must be 'dhcp' or {address: 10.1.10.30/24, gateway: 10.1.10.1}" },
);

const networkSchema = strictObject({
  /** Linux bridge or SDN vnet. */
  bridge: z.string().regex(BRIDGE_NAME, {
    error: "must be a bridge or vnet name (letters, digits, _ . -; at most 15 characters)",
  }),
  /** 802.1Q VLAN tag. */
  vlanId: int(1, 4094).optional(),
  /** Fixed MAC address (keeps a DHCP reservation stable across re-creation). */
  macAddress: z.string().regex(MAC_ADDRESS, { error: "must look like BC:24:11:AA:BB:CC" }).optional(),
  /** Proxmox firewall on the NIC. */
  firewall: bool.default(false),
  /** 'dhcp' or a static address. */
  ipv4: ipv4Schema.default("dhcp"),
  /** DNS servers; empty means the node's. */
  dnsServers: z.array(z.string().refine(isIpv4, { error: "must be an IPv4 address" })).default([]),
  /** DNS search domain. */
  dnsDomain: z
    .string()
    .refine((d) => !hostnameProblem(d), { error: "must be a DNS domain" })
    .optional(),
});

const rawLxcSchema = strictObject({
  /** Write `lxc.apparmor.profile: unconfined`: the documented workaround for the November 2025 runc/AppArmor
   * breakage of Docker in LXC on hosts with lxc-pve older than 6.0.5-2. Off by default: it weakens isolation. */
  apparmorUnconfined: bool.default(false),
  /** Further raw `lxc.<key>: <value>` lines the API cannot set. */
  extraLines: z
    .array(
      z.string().regex(/^lxc\.[a-z0-9._]+: [^\r\n\0]+$/, {
        error: "must be one line of the form 'lxc.<key>: <value>'",
      }),
    )
    .default([]),
});

const gatewayIdsSchema = strictObject({
  /** Uid the gateway writes as inside the LXC (hermes: 10000). */
  uid: int(GATEWAY_ID_MIN, GATEWAY_ID_MAX).default(10000),
  /** Gid the gateway writes as inside the LXC. */
  gid: int(GATEWAY_ID_MIN, GATEWAY_ID_MAX).default(10000),
});

const lxcSchema = strictObject({
  /** Proxmox node that hosts this LXC (a key of proxmox.nodes). */
  node: z.string({ error: "must name a node from proxmox.nodes" }),
  /** Fixed VMID. */
  vmId: int(100, 999999999),
  /** Container hostname; defaults to the LXC's name. */
  hostname: checked(hostnameProblem).optional(),
  /** Proxmox notes field. */
  description: z.string().max(8192).default("hermes-agent gateway (managed by Pulumi: hermes-lxc)"),
  /** Template to create the container from. */
  template: templateSchema.default({
    url: DEFAULT_TEMPLATE_URL,
    checksumAlgorithm: "sha512",
    datastore: "local",
  }),
  /** CPU cores. */
  cores: int(1, 128).default(2),
  /** Dedicated memory in MB (hermes needs at least 1 GB; Docker and the OS need some too). */
  memoryMb: int(1536, 1048576, "MB").default(4096),
  /** Swap in MB. */
  swapMb: int(0, 1048576, "MB").default(512),
  /** Root filesystem: holds Docker images and the gateway container's writable layer. */
  rootfs: strictObject({
    /** Storage for the rootfs volume. */
    datastore: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, { error: "must be a Proxmox storage id" })
      .default("local-lvm"),
    /** Size in GB (the hermes image alone is several GB). */
    sizeGb: int(8, 65536, "GB").default(24),
  }).prefault({}),
  /** eth0. */
  network: networkSchema,
  /** Start with the node. */
  startOnBoot: bool.default(true),
  /** Proxmox tags (lowercase). */
  tags: z.array(checked(tagProblem)).default(["hermes", "pulumi"]),
  /** Public keys allowed to log in as root (the program's own key must be one of them). */
  rootSshKeys: z
    .array(sshPublicKey)
    .min(1, { error: "must list at least one key: the program connects as root over SSH" }),
  /** Protect the container from deletion (a replacement destroys its rootfs). */
  protect: bool.default(true),
  /** Uid/gid the gateway writes as. */
  gateway: gatewayIdsSchema.prefault({}),
  /** The agents' state (hermes /opt/data: memories, sessions, pairings, auth) on a host bind mount of its own, so
   * it survives an LXC replacement. One mount for all agents: adding an agent must not change mount points. */
  stateMount: strictObject({
    /** Host directory; defaults to /var/lib/hermes-lxc/<lxc name> on the node's local (SSD) disk. */
    hostPath: checked(hostPathProblem).optional(),
    /** Where it appears inside the LXC. */
    containerPath: checked(containerPathProblem).default("/srv/hermes"),
  }).prefault({}),
  /** Bind mounts of the host's big disks. */
  mounts: z.array(mountSchema).default([]),
  /** Raw LXC settings applied through the node. */
  rawConfig: rawLxcSchema.prefault({}),
  /** Seconds to wait for the container and its sshd after (re)start. */
  readinessTimeoutSeconds: int(10, 3600).default(300),
  /** Docker inside the LXC. */
  docker: dockerSchema.prefault({}),
});

// ---------------------------------------------------------------------------------------------------------------
// Existing Docker hosts (not a HermesLxc)

const dockerHostSchema = strictObject({
  /** Address reachable over SSH. */
  address: hostAddress,
  /** sshd port. */
  port: int(1, 65535).default(22),
  /** SSH user; it must be able to use Docker and write dataRoot (root, in practice). */
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: "must be a Unix user name" })
    .default("root"),
  /** The host's pinned SSH host key. */
  hostKey: sshPublicKey,
  /** Directory holding one data directory per agent. */
  dataRoot: checked(absolutePathProblem).default("/srv/hermes"),
  /** Uid/gid the gateway writes as. */
  gateway: gatewayIdsSchema.prefault({}),
  /** Docker on that host (not installed by default). */
  docker: dockerSchema.prefault({ install: false }),
});

// ---------------------------------------------------------------------------------------------------------------
// Agents

const digitsList = z.array(z.string().regex(/^\d{1,20}$/, { error: "must be a numeric user id" }));

const platformsSchema = strictObject({
  telegram: strictObject({
    /** Numeric Telegram user ids allowed to talk to the bot. */
    allowedUsers: digitsList.default([]),
    /** Let anyone talk to the bot (not recommended). */
    allowAllUsers: bool.default(false),
    /** Chat id for proactive messages. */
    homeChannel: z
      .string()
      .regex(/^-?\d{1,20}$/, { error: "must be a numeric chat id" })
      .optional(),
  }).optional(),
  discord: strictObject({
    /** Discord user ids allowed. */
    allowedUsers: digitsList.default([]),
    /** Discord role ids allowed (OR'ed with users). */
    allowedRoles: digitsList.default([]),
    /** Channel ids the bot answers in. */
    allowedChannels: digitsList.default([]),
    /** Only answer when mentioned. */
    requireMention: bool.optional(),
    /** Let anyone talk to the bot (not recommended). */
    allowAllUsers: bool.default(false),
  }).optional(),
  slack: strictObject({
    /** Slack member ids (U...) allowed. */
    allowedUsers: z
      .array(
        z.string().regex(/^[UW][A-Z0-9]{2,20}$/, { error: "must be a Slack member id such as U012ABCDEF" }),
      )
      .default([]),
    /** Let anyone in the workspace talk to the bot (not recommended). */
    allowAllUsers: bool.default(false),
  }).optional(),
});

const mcpServerSchema = strictObject({
  command: line.optional(),
  args: z.array(line).default([]),
  env: z.record(envName, envValue).default({}),
  url: z
    .string()
    .regex(/^https?:\/\/\S+$/, { error: "must be an http(s) URL" })
    .optional(),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]+$/, { error: "must be an HTTP header name" }), envValue)
    .default({}),
  auth: z.literal("oauth").optional(),
  enabled: bool.default(true),
  timeout: int(1, 86400).optional(),
  connectTimeout: int(1, 86400).optional(),
  tools: strictObject({ include: z.array(line).default([]), exclude: z.array(line).default([]) }).optional(),
});

const documentSchema = z.union(
  [
    strictObject({ /** Inline document text. */ text: z.string() }),
    strictObject({ /** Path of a file, relative to the project directory. */ file: line }),
  ],
  { error: "must be {text: ...} or {file: path}" },
);

const workspaceMountSchema = strictObject({
  /** Name of a mount of the LXC (lxcs.<lxc>.mounts[].name), or an absolute host path on a plain Docker host. */
  source: line,
  /** Path inside the gateway container; must be under /opt/data, where hermes' file tools may write. */
  target: checked(absolutePathProblem).optional(),
  /** Mount read-only. */
  readOnly: bool.default(false),
});

const agentSchema = strictObject({
  /** Name of the LXC (a key of lxcs) that runs this agent. */
  lxc: dnsLabel.optional(),
  /** Or: name of an existing Docker host (a key of dockerHosts). */
  dockerHost: dnsLabel.optional(),
  /** Image repository. */
  image: z
    .string()
    .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*(:\d+)?(\/[a-z0-9._-]+)*$/, {
      error: "must be an image repository such as nousresearch/hermes-agent",
    })
    .default("nousresearch/hermes-agent"),
  /** Image tag, in hermes' release scheme (`v2026.9.14`, `v0.21.6`); unset: the pinned default release. */
  imageTag: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, { error: "must be an image tag" })
    .optional(),
  /** Digest pin (sha256:...), which wins over what the tag points to. Recommended for every tag. */
  imageDigest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, { error: "must look like sha256:<64 hex>" })
    .optional(),
  /** The LLM endpoint (e.g. a LiteLLM proxy). */
  llm: strictObject({
    /** hermes provider; `custom` for any OpenAI-compatible endpoint. */
    provider: z
      .string()
      .regex(/^[a-z0-9-]+$/, { error: "must be a provider name such as custom" })
      .default("custom"),
    /** Base URL, without a trailing slash. */
    baseUrl: z.string().regex(/^https?:\/\/[^\s/]+(\/[^\s]*[^\s/])?$/, {
      error: "must be an http(s) URL without a trailing slash, e.g. http://10.1.10.22:4000/v1",
    }),
    /** Model name as the endpoint exposes it. */
    model: line.refine((s) => s.length > 0, { error: "must not be empty" }),
    /** Name of the .env variable that carries the key (referenced from config.yaml as ${NAME}). */
    apiKeyEnv: envName.default("LLM_API_KEY"),
    /** Context window override. */
    contextLength: int(1024, 10000000).optional(),
  }).optional(),
  /** Messaging platforms; a platform is enabled when its block is present. */
  platforms: platformsSchema.prefault({}),
  /** Free-form hermes config.yaml settings (any key); they win over the typed keys above. */
  settings: z.record(z.string(), z.unknown()).default({}),
  /** MCP servers, merged into settings.mcp_servers by name. */
  mcpServers: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
        error: "MCP server names may only contain letters, digits, _ and -",
      }),
      mcpServerSchema,
    )
    .default({}),
  /** platform_toolsets for config.yaml. */
  platformToolsets: z.record(z.string().regex(/^[a-z0-9_]+$/), z.array(line)).default({}),
  /** Documents: SOUL.md goes to HERMES_HOME, every other file into the workspace. */
  documents: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
        error: "document names must be plain file names such as USER.md",
      }),
      documentSchema,
    )
    .default({}),
  /** Non-secret variables for .env (allow-lists, feature flags). Secrets go to agentSecrets. */
  environment: z.record(envName, envValue).default({}),
  /** Bulk mounts inside /opt/data; default: every mount of the LXC at /opt/data/workspace/<name>. */
  workspaceMounts: z.array(workspaceMountSchema).optional(),
  /** Container memory limit in MB. */
  memoryMb: int(1024, 1048576, "MB").default(3072),
  /** Container CPU limit. */
  cpus: z
    .union([z.number(), z.string()])
    .transform((v) => String(v))
    .pipe(z.string().regex(/^\d+(\.\d{1,2})?$/, { error: "must be a number of CPUs such as 2 or 1.5" }))
    // The docker provider reads cpus back in its own form ("2" as "2.0"); the model holds that form, and refuses
    // amounts it would read back as others (0.05 as 0.1), which would re-create the container on every update.
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
    })
    .default("2.0"),
  /** Browser tools (Playwright/Chromium) need 1 GB of shared memory. */
  browserTools: bool.default(true),
  /** The OpenAI-compatible API server (port 8642); needs agentSecrets.<agent>.apiServerKey (16+ characters). */
  apiServer: strictObject({
    enabled: bool.default(false),
    /** Port published on the LXC. */
    port: int(1, 65535).default(8642),
    /** LXC address the port is published on. */
    bind: z
      .string()
      .refine(isIpv4, { error: "must be an IPv4 address such as 0.0.0.0 or 127.0.0.1" })
      .default("0.0.0.0"),
  }).prefault({}),
  /** The web dashboard (port 9119). */
  dashboard: strictObject({
    enabled: bool.default(false),
    /** Port published on the LXC. */
    port: int(1, 65535).default(9119),
    /** LXC address the port is published on; loopback unless basic auth is configured. */
    bind: z
      .string()
      .refine(isIpv4, { error: "must be an IPv4 address such as 127.0.0.1" })
      .default("127.0.0.1"),
    /** Basic-auth user; the password is agentSecrets.<agent>.dashboardPassword. */
    basicAuthUser: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: "must be a user name (letters, digits, . _ -)" })
      .optional(),
  }).prefault({}),
  /** HERMES_MANAGED and the .managed marker: hermes refuses config edits that would drift from the stack. */
  managed: bool.default(true),
  /** merge: keys only on disk survive (the NixOS-module rules); replace: the file is exactly what the stack says. */
  configMode: z.enum(["merge", "replace"]).default("merge"),
  /** Overwrite auth.json from agentSecrets on every deploy instead of seeding it once. */
  authJsonForceOverwrite: bool.default(false),
  /** Seconds to wait for the gateway to report healthy after each (re)start. */
  healthTimeoutSeconds: int(10, 3600).default(180),
});

const agentSecretsSchema = strictObject({
  /** Key for the LLM endpoint, written to .env as llm.apiKeyEnv. */
  llmApiKey: envSecretValue.optional(),
  telegramBotToken: envSecretValue.optional(),
  discordBotToken: envSecretValue.optional(),
  slackBotToken: envSecretValue.optional(),
  slackAppToken: envSecretValue.optional(),
  /** API_SERVER_KEY, at least 16 characters. */
  apiServerKey: envSecretValue.optional(),
  /** Dashboard basic-auth password. */
  dashboardPassword: envSecretValue.optional(),
  /** auth.json content (OAuth credentials), seeded when absent. */
  authJson: z.string().optional(),
  /** Further secret .env variables. */
  env: z.record(envName, envSecretValue).default({}),
});

const lxcSecretsSchema = strictObject({
  /** Root password of the container (console login). Optional: SSH keys are enough for the program. */
  rootPassword: secretValue
    .refine((s) => s.length >= 8, { error: "must be at least 8 characters" })
    .optional(),
});

// ---------------------------------------------------------------------------------------------------------------
// The whole stack

/** Raw stack config as read from Pulumi: one entry per top-level key the program reads. */
export interface RawStackConfig {
  proxmox?: unknown;
  proxmoxPassword?: unknown;
  ssh?: unknown;
  lxcs?: unknown;
  dockerHosts?: unknown;
  agents?: unknown;
  agentSecrets?: unknown;
  lxcSecrets?: unknown;
}

/** Every top-level key of the `hermes-lxc:` namespace the program reads. */
export const TOP_LEVEL_KEYS = [
  "proxmox",
  "proxmoxPassword",
  "ssh",
  "lxcs",
  "dockerHosts",
  "agents",
  "agentSecrets",
  "lxcSecrets",
] as const;

/**
 * The top-level keys that hold secrets. They are not declared in Pulumi.yaml (the engine refuses a secret key's
 * default and requires one without a default on every stack); the program refuses them unless encrypted.
 */
export const SECRET_TOP_LEVEL_KEYS = ["proxmoxPassword", "agentSecrets", "lxcSecrets"] as const;

export const stackSchema = strictObject({
  proxmox: proxmoxSchema.optional(),
  proxmoxPassword: secretValue.optional(),
  ssh: sshClientSchema.prefault({}),
  lxcs: z.record(dnsLabel, lxcSchema).default({}),
  dockerHosts: z.record(dnsLabel, dockerHostSchema).default({}),
  agents: z.record(dnsLabel, agentSchema).default({}),
  agentSecrets: z.record(dnsLabel, agentSecretsSchema).default({}),
  lxcSecrets: z.record(dnsLabel, lxcSecretsSchema).default({}),
});

type ParsedStack = z.output<typeof stackSchema>;
type ParsedLxc = z.output<typeof lxcSchema>;
type ParsedAgent = z.output<typeof agentSchema>;
type ParsedDocker = z.output<typeof dockerSchema>;

// ---------------------------------------------------------------------------------------------------------------
// The typed, fully defaulted model everything downstream uses

/** Docker install settings for one host. */
export type DockerInstallConfig = ParsedDocker;

/** One bind mount of a host directory into the LXC. */
export interface LxcMountConfig {
  /** Short name (workspace mount name for agents). */
  name: string;
  /** Host directory. */
  hostPath: string;
  /** Path inside the LXC. */
  containerPath: string;
  /** Mounted read-only. */
  readOnly: boolean;
  /** Must be on another filesystem than the node's /. */
  onSeparateDisk: boolean;
}

/** One LXC, fully defaulted. */
export interface LxcConfig extends Omit<ParsedLxc, "hostname" | "stateMount" | "mounts" | "template"> {
  /** Key in `lxcs`. */
  name: string;
  hostname: string;
  template:
    | {
        kind: "download";
        url: string;
        checksum?: string;
        checksumAlgorithm: "sha256" | "sha512";
        datastore: string;
        fileName: string;
      }
    | { kind: "existing"; fileId: string };
  stateMount: { hostPath: string; containerPath: string };
  mounts: LxcMountConfig[];
  /** The node entry this LXC lives on. */
  nodeAddress: string;
  nodeSshPort: number;
  nodeHostKey: string;
}

/** An existing Docker host. */
export type DockerHostConfig = z.output<typeof dockerHostSchema> & { name: string };

/** A bulk mount of an agent's gateway container: a path on the Docker host shown under /opt/data. */
export interface WorkspaceMount {
  /** Path on the Docker host (inside the LXC). */
  source: string;
  /** Path inside the gateway container. */
  target: string;
  readOnly: boolean;
}

/** A document the agent reads. */
export interface AgentDocument {
  /** Path relative to the agent's data directory (SOUL.md, or workspace/<name>). */
  path: string;
  content: string;
}

/** One agent, fully defaulted and resolved against its host. */
export interface AgentConfig extends Omit<
  ParsedAgent,
  "lxc" | "dockerHost" | "workspaceMounts" | "documents" | "imageTag" | "llm"
> {
  /** Image tag actually deployed (the pinned default when the stack sets none). */
  imageTag: string;
  /** The LLM endpoint; apiKeyEnv is unset when the stack holds no key for it. */
  llm?: Omit<NonNullable<ParsedAgent["llm"]>, "apiKeyEnv"> & { apiKeyEnv?: string };
  /** Key in `agents`. */
  name: string;
  /** Where it runs. */
  target: { kind: "lxc"; name: string } | { kind: "dockerHost"; name: string };
  /** The agent's data directory on the Docker host: the container's /opt/data. */
  dataDir: string;
  /** Docker container name. */
  containerName: string;
  /** Image reference, digest-pinned when configured. */
  imageRef: string;
  /** Uid/gid of the gateway process. */
  gatewayIds: { uid: number; gid: number };
  workspaceMounts: WorkspaceMount[];
  documents: AgentDocument[];
}

/** Secret values per agent, validated. Kept apart from the config model so they are never logged with it. */
export type AgentSecretValues = z.output<typeof agentSecretsSchema>;

/** The result of parsing: the model, the secrets, and warnings to show at preview. */
export interface ParsedStackConfig {
  config: StackConfig;
  secrets: {
    proxmoxPassword?: string;
    agents: Record<string, AgentSecretValues>;
    lxcs: Record<string, { rootPassword?: string }>;
  };
  warnings: string[];
}

/** The typed stack configuration. */
export interface StackConfig {
  proxmox?: z.output<typeof proxmoxSchema>;
  ssh: z.output<typeof sshClientSchema>;
  lxcs: LxcConfig[];
  dockerHosts: DockerHostConfig[];
  agents: AgentConfig[];
}

/** Invalid configuration: every problem, one per line, each prefixed with its key path. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid stack configuration (nothing was deployed):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
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

/** Options for parsing: how document files are read (relative to the project directory). */
export interface ParseOptions {
  readFile: (relativePath: string) => string;
}

/**
 * Parses and validates raw stack config. Throws ConfigError listing every problem; nothing is registered
 * before this returns.
 */
export function parseStackConfig(raw: RawStackConfig, options: ParseOptions): ParsedStackConfig {
  const result = stackSchema.safeParse(stripUndefined(raw));
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${formatPath(i.path)}: ${issueMessage(i)}`));
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const parsed = result.data;
  const model = resolveStack(parsed, options, problems, warnings);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    config: model,
    secrets: {
      proxmoxPassword: parsed.proxmoxPassword,
      agents: parsed.agentSecrets,
      lxcs: parsed.lxcSecrets,
    },
    warnings,
  };
}

/** zod reports a bad record key as "Invalid key in record" and keeps the reason in a nested issue. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_key" && issue.issues.length > 0)
    return `invalid name: ${issue.issues[0].message}`;
  return issue.message;
}

function stripUndefined(raw: RawStackConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
}

/** Cross-field rules and defaults that depend on other keys. */
function resolveStack(
  parsed: ParsedStack,
  options: ParseOptions,
  problems: string[],
  warnings: string[],
): StackConfig {
  const lxcNames = Object.keys(parsed.lxcs).sort();
  if (lxcNames.length > 0 || Object.keys(parsed.agents).some((a) => parsed.agents[a].lxc)) {
    if (!parsed.proxmox) problems.push("proxmox: is required when lxcs are configured (endpoint, nodes)");
    if (parsed.proxmoxPassword === undefined && lxcNames.length > 0) {
      problems.push(
        "proxmoxPassword: is required (root@pam's password): bind mounts and keyctl are refused to API tokens. " +
          "Set it with: pulumi config set --secret proxmoxPassword",
      );
    }
  }
  if (parsed.proxmox) {
    const user = parsed.proxmox.username;
    if (user.includes("!")) {
      problems.push(
        `proxmox.username: '${user}' is an API token id; Proxmox refuses bind mounts and keyctl to every API token ` +
          "(even root@pam!token). Use root@pam with its password (proxmoxPassword).",
      );
    } else if (user !== "root@pam") {
      problems.push(
        `proxmox.username: must be root@pam: Proxmox allows bind mounts and the keyctl feature only to root@pam (got '${user}')`,
      );
    }
  }

  const lxcs = lxcNames.map((name) => resolveLxc(name, parsed.lxcs[name], parsed, problems, warnings));
  checkUnique(
    lxcs.map((l) => [`${l.node}/${l.vmId}`, `lxcs.${l.name}.vmId`]),
    "uses VMID already used by",
    problems,
  );
  checkUnique(
    lxcs.map((l) => [l.stateMount.hostPath, `lxcs.${l.name}.stateMount.hostPath`]),
    "uses the same host directory as",
    problems,
  );

  const dockerHosts = Object.keys(parsed.dockerHosts)
    .sort()
    .map((name) => ({ ...parsed.dockerHosts[name], name }));
  for (const name of Object.keys(parsed.dockerHosts)) {
    if (parsed.lxcs[name])
      problems.push(`dockerHosts.${name}: the name is already used by lxcs.${name}; names must be unique`);
  }

  const agents = Object.keys(parsed.agents)
    .sort()
    .map((name) => resolveAgent(name, parsed, lxcs, dockerHosts, options, problems, warnings));

  for (const name of Object.keys(parsed.lxcSecrets)) {
    if (!parsed.lxcs[name]) problems.push(`lxcSecrets.${name}: there is no LXC '${name}' in lxcs`);
  }
  for (const name of Object.keys(parsed.agentSecrets)) {
    if (!parsed.agents[name]) problems.push(`agentSecrets.${name}: there is no agent '${name}' in agents`);
  }
  // Two agents on one data directory corrupt each other's sessions (hermes' Docker guide).
  checkUnique(
    agents.map((a) => [`${a.target.name}:${a.dataDir}`, `agents.${a.name}`]),
    "shares its data directory with",
    problems,
  );
  checkUnique(
    agents.flatMap((a) => [
      ...(a.apiServer.enabled
        ? [[`${a.target.name}:${a.apiServer.port}`, `agents.${a.name}.apiServer.port`] as [string, string]]
        : []),
      ...(a.dashboard.enabled
        ? [[`${a.target.name}:${a.dashboard.port}`, `agents.${a.name}.dashboard.port`] as [string, string]]
        : []),
    ]),
    "publishes the same port on the same host as",
    problems,
  );

  return { proxmox: parsed.proxmox, ssh: parsed.ssh, lxcs, dockerHosts, agents };
}

function checkUnique(entries: Array<[string, string]>, verb: string, problems: string[]): void {
  const seen = new Map<string, string>();
  for (const [key, where] of entries) {
    const first = seen.get(key);
    if (first) problems.push(`${where}: ${verb} ${first}`);
    else seen.set(key, where);
  }
}

function resolveLxc(
  name: string,
  lxc: ParsedLxc,
  parsed: ParsedStack,
  problems: string[],
  warnings: string[],
): LxcConfig {
  const at = `lxcs.${name}`;
  const node = parsed.proxmox?.nodes[lxc.node];
  if (parsed.proxmox && !node) {
    const known = Object.keys(parsed.proxmox.nodes);
    problems.push(
      `${at}.node: '${lxc.node}' is not in proxmox.nodes (known: ${known.length ? known.join(", ") : "none"})`,
    );
  }

  const net = lxc.network;
  if (net.ipv4 !== "dhcp" && !ipv4InSubnet(net.ipv4.gateway, net.ipv4.address)) {
    problems.push(
      `${at}.network.ipv4.gateway: ${net.ipv4.gateway} is not inside ${net.ipv4.address}'s subnet`,
    );
  }
  if (net.ipv4 !== "dhcp" && net.ipv4.address.split("/")[0] === net.ipv4.gateway) {
    problems.push(`${at}.network.ipv4.gateway: must differ from the container's own address`);
  }

  const mounts: LxcMountConfig[] = lxc.mounts.map((m) => ({
    name:
      m.name ??
      m.containerPath
        .split("/")
        .pop()!
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-"),
    hostPath: m.hostPath,
    containerPath: m.containerPath,
    readOnly: m.readOnly,
    onSeparateDisk: m.onSeparateDisk,
  }));
  mounts.forEach((m, i) => {
    if (!DNS_LABEL.test(m.name)) {
      problems.push(
        `${at}.mounts[${i}].name: the default name '${m.name}' derived from containerPath is not a DNS label; set name`,
      );
    }
  });
  const stateMount = {
    hostPath: lxc.stateMount.hostPath ?? `/var/lib/hermes-lxc/${name}`,
    containerPath: lxc.stateMount.containerPath,
  };

  // Every host path and every container path, including the state mount, must be distinct and not nested:
  // Proxmox would mount one over the other, and ownership preparation would apply twice.
  const hostEntries: Array<[string, string]> = [
    [stateMount.hostPath, `${at}.stateMount.hostPath`],
    ...mounts.map((m, i): [string, string] => [m.hostPath, `${at}.mounts[${i}].hostPath`]),
  ];
  const containerEntries: Array<[string, string]> = [
    [stateMount.containerPath, `${at}.stateMount.containerPath`],
    ...mounts.map((m, i): [string, string] => [m.containerPath, `${at}.mounts[${i}].containerPath`]),
  ];
  for (const entries of [hostEntries, containerEntries]) {
    for (let i = 0; i < entries.length; i++) {
      for (let j = 0; j < i; j++) {
        const [a, whereA] = entries[i];
        const [b, whereB] = entries[j];
        if (a === b) problems.push(`${whereA}: duplicates ${whereB} (${a})`);
        else if (isSameOrInside(a, b) || isSameOrInside(b, a)) {
          problems.push(`${whereA}: ${a} and ${whereB} ${b} are nested; mounts must not contain one another`);
        }
      }
    }
  }
  checkUnique(
    mounts.map((m, i) => [m.name, `${at}.mounts[${i}].name`]),
    "has the same name as",
    problems,
  );

  const hostname = lxc.hostname ?? name;
  if (lxc.template && "url" in lxc.template && !lxc.template.checksum) {
    warnings.push(
      `${at}.template.checksum is not set: the template download is verified by TLS only. On the node, ` +
        "`pveam update`, then read the sha512sum line of this file's entry in " +
        "/var/lib/pve-manager/apl-info/download.proxmox.com, and set the URL with it: " +
        `pulumi config set --path '${at}.template.url' ${lxc.template.url} && ` +
        `pulumi config set --path '${at}.template.checksum' <sha512sum>`,
    );
  }
  if (lxc.rawConfig.apparmorUnconfined) {
    warnings.push(
      `${at}.rawConfig.apparmorUnconfined is on: the container runs without AppArmor confinement.`,
    );
  }
  const template: LxcConfig["template"] =
    "fileId" in lxc.template
      ? { kind: "existing", fileId: lxc.template.fileId }
      : { kind: "download", ...lxc.template, fileName: lxc.template.url.split("/").pop()! };

  return {
    ...lxc,
    name,
    hostname,
    template,
    stateMount,
    mounts,
    nodeAddress: node?.address ?? "",
    nodeSshPort: node?.sshPort ?? 22,
    nodeHostKey: node?.hostKey ?? "",
  };
}

/** Variables the program writes itself; the stack must not set them through `environment` or secrets' `env`. */
const RESERVED_ENV = [
  "HERMES_UID",
  "HERMES_GID",
  "PUID",
  "PGID",
  "HERMES_HOME",
  "HERMES_MANAGED",
  "HOME",
  "TELEGRAM_BOT_TOKEN",
  "TELEGRAM_ALLOWED_USERS",
  "TELEGRAM_ALLOW_ALL_USERS",
  "TELEGRAM_HOME_CHANNEL",
  "DISCORD_BOT_TOKEN",
  "DISCORD_ALLOWED_USERS",
  "DISCORD_ALLOWED_ROLES",
  "DISCORD_ALLOWED_CHANNELS",
  "DISCORD_ALLOW_ALL_USERS",
  "DISCORD_REQUIRE_MENTION",
  "SLACK_BOT_TOKEN",
  "SLACK_APP_TOKEN",
  "SLACK_ALLOWED_USERS",
  "SLACK_ALLOW_ALL_USERS",
  "API_SERVER_ENABLED",
  "API_SERVER_KEY",
  "API_SERVER_HOST",
  "API_SERVER_PORT",
  "HERMES_DASHBOARD",
  "HERMES_DASHBOARD_HOST",
  "HERMES_DASHBOARD_PORT",
  "HERMES_DASHBOARD_BASIC_AUTH_USERNAME",
  "HERMES_DASHBOARD_BASIC_AUTH_PASSWORD",
  "HERMES_DASHBOARD_BASIC_AUTH_SECRET",
  "HERMES_SKIP_CONFIG_MIGRATION",
];

/**
 * The hermes release this program is tested against by default, pinned by digest: releases are published only as
 * `v`-prefixed tags (`:latest` and `:main` follow the main branch), and a tag can be re-pushed, a digest cannot.
 */
export const DEFAULT_HERMES_IMAGE = {
  repository: "nousresearch/hermes-agent",
  tag: "v2026.9.14",
  digest: "sha256:99641e57ec762c59e54cb44aa6746b7fc68c18b3c5ddb088af54234c613d9294",
} as const;

/** hermes' release tags: `v<year>.<month>.<day>` (CalVer, 0.21.x) and `v<major>.<minor>.<patch>`. */
const RELEASE_TAG = /^v\d+\.\d+\.\d+$/;

/** The tag and digest to deploy, warning about pins that can move under the stack. */
function imagePin(
  at: string,
  agent: { image: string; imageTag?: string; imageDigest?: string },
  warnings: string[],
): { tag: string; digest?: string } {
  if (agent.imageTag === undefined) {
    const isDefault = agent.image === DEFAULT_HERMES_IMAGE.repository;
    return {
      tag: DEFAULT_HERMES_IMAGE.tag,
      digest: agent.imageDigest ?? (isDefault ? DEFAULT_HERMES_IMAGE.digest : undefined),
    };
  }
  if (agent.image === DEFAULT_HERMES_IMAGE.repository && !RELEASE_TAG.test(agent.imageTag)) {
    warnings.push(
      `${at}.imageTag: "${agent.imageTag}" is not one of hermes' release tags (v2026.9.14, v0.21.6, ...)` +
        (["latest", "main"].includes(agent.imageTag)
          ? ": it follows hermes' main branch and changes under the stack"
          : ": the pull may fail") +
        ". See the README, 'Choosing the hermes image'.",
    );
  }
  if (agent.imageDigest === undefined) {
    warnings.push(
      `${at}.imageDigest: not set, so ${agent.image}:${agent.imageTag} is whatever the registry serves at the first ` +
        "pull. Pin it: see the README, 'Choosing the hermes image'.",
    );
  }
  return { tag: agent.imageTag, digest: agent.imageDigest };
}

function resolveAgent(
  name: string,
  parsed: ParsedStack,
  lxcs: LxcConfig[],
  dockerHosts: DockerHostConfig[],
  options: ParseOptions,
  problems: string[],
  warnings: string[],
): AgentConfig {
  const at = `agents.${name}`;
  const agent = parsed.agents[name];
  const secrets = parsed.agentSecrets[name] ?? agentSecretsSchema.parse({});

  // Target: exactly one of lxc / dockerHost.
  let target: AgentConfig["target"] = { kind: "lxc", name: "" };
  let dataRoot = "/srv/hermes";
  let gatewayIds = { uid: 10000, gid: 10000 };
  let lxcMounts: LxcMountConfig[] = [];
  if ((agent.lxc === undefined) === (agent.dockerHost === undefined)) {
    problems.push(`${at}: set exactly one of lxc (a key of lxcs) or dockerHost (a key of dockerHosts)`);
  } else if (agent.lxc !== undefined) {
    const lxc = lxcs.find((l) => l.name === agent.lxc);
    if (!lxc)
      problems.push(
        `${at}.lxc: '${agent.lxc}' is not in lxcs (known: ${lxcs.map((l) => l.name).join(", ") || "none"})`,
      );
    else {
      target = { kind: "lxc", name: lxc.name };
      dataRoot = lxc.stateMount.containerPath;
      gatewayIds = lxc.gateway;
      lxcMounts = lxc.mounts;
    }
  } else {
    const host = dockerHosts.find((h) => h.name === agent.dockerHost);
    if (!host) problems.push(`${at}.dockerHost: '${agent.dockerHost}' is not in dockerHosts`);
    else {
      target = { kind: "dockerHost", name: host.name };
      dataRoot = host.dataRoot;
      gatewayIds = host.gateway;
    }
  }

  // Bulk mounts: hermes' file tools only write under /opt/data, so every mount goes inside it.
  let workspaceMounts: WorkspaceMount[];
  if (agent.workspaceMounts === undefined) {
    workspaceMounts = lxcMounts.map((m) => ({
      source: m.containerPath,
      target: `/opt/data/workspace/${m.name}`,
      readOnly: m.readOnly,
    }));
  } else {
    workspaceMounts = agent.workspaceMounts.map((wm, i) => {
      let source = wm.source;
      const mount = lxcMounts.find((m) => m.name === wm.source);
      if (target.kind === "lxc") {
        if (!mount) {
          problems.push(
            `${at}.workspaceMounts[${i}].source: '${wm.source}' is not a mount name of lxcs.${target.name} (known: ${lxcMounts.map((m) => m.name).join(", ") || "none"})`,
          );
        } else source = mount.containerPath;
      } else {
        const reason = absolutePathProblem(wm.source);
        if (reason)
          problems.push(
            `${at}.workspaceMounts[${i}].source: on a Docker host this is a host path and ${reason}`,
          );
      }
      const defaultName = mount?.name ?? wm.source.split("/").pop() ?? "mount";
      const targetPath = wm.target ?? `/opt/data/workspace/${defaultName}`;
      if (!targetPath.startsWith("/opt/data/")) {
        problems.push(
          `${at}.workspaceMounts[${i}].target: must be under /opt/data/ (hermes' file tools only write there), got ${targetPath}`,
        );
      }
      return { source, target: targetPath, readOnly: wm.readOnly || (mount?.readOnly ?? false) };
    });
  }
  checkUnique(
    workspaceMounts.map((m, i) => [m.target, `${at}.workspaceMounts[${i}].target`]),
    "uses the same target as",
    problems,
  );

  // Platforms: tokens are secrets; hermes ignores every user until allow-listed or paired.
  const p = agent.platforms;
  const needSecret = (key: keyof AgentSecretValues, why: string) => {
    if (secrets[key] === undefined) {
      problems.push(
        `agentSecrets.${name}.${key}: is required because ${why}. Set it with: pulumi config set --secret --path 'agentSecrets.${name}.${key}' <value>`,
      );
    }
  };
  if (p.telegram) needSecret("telegramBotToken", `${at}.platforms.telegram is enabled`);
  if (p.discord) needSecret("discordBotToken", `${at}.platforms.discord is enabled`);
  if (p.slack) {
    needSecret("slackBotToken", `${at}.platforms.slack is enabled (Socket Mode needs the xoxb- bot token)`);
    needSecret("slackAppToken", `${at}.platforms.slack is enabled (Socket Mode needs the xapp- app token)`);
  }
  for (const [platform, cfg] of Object.entries(p) as Array<
    [string, { allowedUsers: string[]; allowAllUsers: boolean; allowedRoles?: string[] } | undefined]
  >) {
    if (!cfg) continue;
    if (cfg.allowAllUsers) {
      warnings.push(
        `${at}.platforms.${platform}.allowAllUsers is on: anyone who finds the bot can use the agent and its tools.`,
      );
    } else if (cfg.allowedUsers.length === 0 && (cfg.allowedRoles ?? []).length === 0) {
      warnings.push(
        `${at}.platforms.${platform} has no allowedUsers: hermes ignores everyone until a user is paired. ` +
          `Message the bot, then approve the code it gives you with the command in the stack output ` +
          `agents.${name}.pairing.${platform}: pulumi stack output agents`,
      );
    }
  }
  const tokenFields: Array<keyof AgentSecretValues> = [
    "telegramBotToken",
    "discordBotToken",
    "slackBotToken",
    "slackAppToken",
  ];
  for (const f of tokenFields) {
    const v = secrets[f];
    if (typeof v === "string" && v.length < 8)
      problems.push(`agentSecrets.${name}.${f}: is too short to be a real token (placeholder?)`);
  }
  if (secrets.slackBotToken && !secrets.slackBotToken.startsWith("xoxb-"))
    problems.push(`agentSecrets.${name}.slackBotToken: must be the bot token starting with xoxb-`);
  if (secrets.slackAppToken && !secrets.slackAppToken.startsWith("xapp-"))
    problems.push(`agentSecrets.${name}.slackAppToken: must be the app-level token starting with xapp-`);

  if (agent.llm && secrets.llmApiKey === undefined) {
    warnings.push(
      `${at}.llm is set but agentSecrets.${name}.llmApiKey is not: config.yaml will carry no api_key.`,
    );
  }
  if (secrets.llmApiKey !== undefined && !agent.llm) {
    problems.push(
      `agentSecrets.${name}.llmApiKey: is set but ${at}.llm is not; configure the endpoint (baseUrl, model)`,
    );
  }

  // API server: a key of 16+ characters; dashboard: loopback unless basic auth.
  if (agent.apiServer.enabled) {
    if (secrets.apiServerKey === undefined) needSecret("apiServerKey", `${at}.apiServer.enabled is true`);
    else if (secrets.apiServerKey.length < 16)
      problems.push(
        `agentSecrets.${name}.apiServerKey: must be at least 16 characters (generate one with: openssl rand -hex 32)`,
      );
  }
  if (agent.dashboard.enabled) {
    const loopback = agent.dashboard.bind.startsWith("127.");
    if (!agent.dashboard.basicAuthUser || secrets.dashboardPassword === undefined) {
      problems.push(
        `${at}.dashboard: basicAuthUser and agentSecrets.${name}.dashboardPassword are required: Docker publishes the ` +
          "dashboard through the container's network interface, and hermes refuses a non-loopback bind without an auth " +
          `provider. Without basic auth, leave the dashboard off${loopback ? "" : "; and a non-loopback bind would expose it"}.`,
      );
    }
  }
  if (secrets.authJson !== undefined) {
    try {
      JSON.parse(secrets.authJson);
    } catch {
      problems.push(`agentSecrets.${name}.authJson: is not valid JSON`);
    }
  }
  if (agent.authJsonForceOverwrite && secrets.authJson === undefined) {
    problems.push(`${at}.authJsonForceOverwrite: is true but agentSecrets.${name}.authJson is not set`);
  }

  // .env names: the program owns the platform and container variables; one name, one source.
  const envSources = new Map<string, string>();
  const claim = (envName: string, where: string) => {
    const other = envSources.get(envName);
    if (other) problems.push(`${where}: ${envName} is also set by ${other}`);
    else envSources.set(envName, where);
  };
  for (const key of Object.keys(agent.environment)) {
    if (RESERVED_ENV.includes(key))
      problems.push(`${at}.environment.${key}: is managed by the program; use the typed setting instead`);
    claim(key, `${at}.environment.${key}`);
  }
  for (const key of Object.keys(secrets.env)) {
    if (RESERVED_ENV.includes(key))
      problems.push(
        `agentSecrets.${name}.env.${key}: is managed by the program; use the typed secret instead`,
      );
    claim(key, `agentSecrets.${name}.env.${key}`);
  }
  if (agent.llm) {
    if (RESERVED_ENV.includes(agent.llm.apiKeyEnv))
      problems.push(
        `${at}.llm.apiKeyEnv: ${agent.llm.apiKeyEnv} is a variable the program writes itself; pick another name`,
      );
    claim(agent.llm.apiKeyEnv, `${at}.llm.apiKeyEnv`);
  }
  for (const problem of literalApiKeyProblems(agent.settings)) problems.push(`${at}.${problem}`);

  // MCP servers: exactly one transport.
  for (const [server, def] of Object.entries(agent.mcpServers)) {
    if ((def.command === undefined) === (def.url === undefined)) {
      problems.push(`${at}.mcpServers.${server}: set exactly one of command (stdio) or url (HTTP)`);
    }
  }

  // Documents: SOUL.md is the persona in HERMES_HOME; everything else lands in the workspace.
  const documents: AgentDocument[] = [];
  for (const [docName, doc] of Object.entries(agent.documents)) {
    let content: string;
    if ("text" in doc) content = doc.text;
    else {
      try {
        content = options.readFile(doc.file);
      } catch (e) {
        problems.push(`${at}.documents["${docName}"].file: cannot read ${doc.file}: ${(e as Error).message}`);
        continue;
      }
    }
    if (content.includes("\0"))
      problems.push(`${at}.documents["${docName}"]: must be text (contains NUL bytes)`);
    documents.push({ path: docName === "SOUL.md" ? "SOUL.md" : `workspace/${docName}`, content });
  }

  const { tag: imageTag, digest: imageDigest } = imagePin(at, agent, warnings);
  const imageRef = `${agent.image}:${imageTag}${imageDigest ? `@${imageDigest}` : ""}`;
  const { lxc: _lxc, dockerHost: _dockerHost, workspaceMounts: _wm, documents: _docs, ...rest } = agent; // the resolved forms replace them
  return {
    ...rest,
    imageTag,
    imageDigest,
    llm: agent.llm && {
      ...agent.llm,
      // No key, no `api_key: ${VAR}`: hermes would send the unexpanded text as the key.
      apiKeyEnv: secrets.llmApiKey === undefined ? undefined : agent.llm.apiKeyEnv,
    },
    name,
    target,
    dataDir: `${dataRoot}/${name}`,
    containerName: `hermes-${name}`,
    imageRef,
    gatewayIds,
    workspaceMounts,
    documents,
  };
}
