/**
 * The config model's validation table: every rejected case must name the key path and say what is allowed.
 * Cases mutate a copy of the real example stack, so the base case is known-good.
 */
import { DEFAULT_HERMES_IMAGE } from "../../components/config/hermesImage";
import { parseStackConfig } from "../../components/config/stack";
import { apiTokenProblems } from "../../components/config/loadStackConfig";
import { CANARY, homelabWithSecrets, readProjectFile, twoNodeStack } from "../helpers/stackFile";
import { problemsOf } from "../helpers/configProblems";
import { KEY } from "../helpers/sampleKey";

const opts = { readFile: readProjectFile };
type Mutable = any;

describe("the example stack", () => {
  it("parses with every default filled in", () => {
    const { config, warnings } = parseStackConfig(homelabWithSecrets(), opts);
    expect(config.lxcs).toHaveLength(1);
    const lxc = config.lxcs[0];
    expect(lxc).toMatchObject({
      name: "hermes",
      node: "gihyeon",
      vmId: 118,
      hostname: "hermes",
      cores: 2,
      memoryMb: 4096,
      swapMb: 512,
      rootfs: { datastore: "local-lvm", sizeGb: 24 },
      network: { bridge: "intra01", ipv4: "dhcp", firewall: false },
      startOnBoot: true,
      tags: ["ai", "agent", "pulumi"],
      protect: true,
      gateway: { uid: 10000, gid: 10000 },
      stateMount: { hostPath: "/var/lib/hermes-lxc/hermes", containerPath: "/srv/hermes" },
      rawConfig: { apparmorUnconfined: false, extraLines: [] },
      docker: { install: true, source: "docker-ce", logMaxSize: "10m", logMaxFile: 3 },
    });
    expect(lxc.mounts).toEqual([
      {
        name: "data",
        hostPath: "/mnt/pve/hdd/hermes",
        containerPath: "/data",
        readOnly: false,
        onSeparateDisk: true,
        shared: false,
      },
      {
        name: "fast",
        hostPath: "/media/2tb/hermes",
        containerPath: "/fast",
        readOnly: false,
        onSeparateDisk: true,
        shared: false,
      },
    ]);
    const agent = config.agents[0];
    expect(agent).toMatchObject({
      name: "hermes",
      target: { kind: "lxc", name: "hermes" },
      dataDir: "/srv/hermes/hermes",
      containerName: "hermes-hermes",
      imageRef: `nousresearch/hermes-agent:v2026.9.14@${DEFAULT_HERMES_IMAGE.digest}`,
      gatewayIds: { uid: 10000, gid: 10000 },
      managed: true,
      configMode: "merge",
    });
    expect(agent.workspaceMounts).toEqual([
      { source: "/data", target: "/opt/data/workspace/data", readOnly: false },
      { source: "/fast", target: "/opt/data/workspace/fast", readOnly: false },
    ]);
    // Telegram without an allow-list: pairing guidance at preview. No checksum: a warning too.
    expect(warnings.join("\n")).toMatch(
      /platforms\.telegram has no allow-list.*agents\.hermes\.pairing\.telegram/,
    );
    expect(warnings.join("\n")).toMatch(/template\.checksum is not set/);
    // ... with both keys to set: a checksum alone, without the URL, is not a template the schema accepts.
    expect(warnings.join("\n")).toContain(
      "pulumi config set --path 'lxcs.hermes.template.url' https://download.proxmox.com/images/system/" +
        "debian-12-standard_12.12-1_amd64.tar.zst && pulumi config set --path 'lxcs.hermes.template.checksum' " +
        "<sha512sum>",
    );
  });

  it("keeps secrets out of the config model", () => {
    const parsed = parseStackConfig(homelabWithSecrets(), opts);
    const text = JSON.stringify(parsed.config);
    for (const canary of Object.values(CANARY)) expect(text).not.toContain(canary);
    expect(parsed.secrets.agents.hermes.llmApiKey).toBe(CANARY.llmApiKey);
  });

  it("builds several LXCs from one stack (one per node)", () => {
    const raw = twoNodeStack();
    const { config } = parseStackConfig(raw, opts);
    expect(config.lxcs.map((l) => [l.name, l.node, l.vmId])).toEqual([
      ["hermes", "gihyeon", 118],
      ["hermes2", "pve2", 119],
    ]);
    expect(config.lxcs[1].nodeAddress).toBe("10.1.10.3");
  });
});

// [description, mutation, expected key path, expected fragment of the explanation]
const rejected: Array<[string, (r: Mutable) => void, string, RegExp]> = [
  ["VMID below range", (r) => (r.lxcs.hermes.vmId = 99), "lxcs.hermes.vmId", /at least 100/],
  ["VMID above range", (r) => (r.lxcs.hermes.vmId = 1000000000), "lxcs.hermes.vmId", /at most 999999999/],
  ["VMID not a number", (r) => (r.lxcs.hermes.vmId = "abc"), "lxcs.hermes.vmId", /whole number/],
  [
    "unknown node",
    (r) => (r.lxcs.hermes.node = "pve9"),
    "lxcs.hermes.node",
    /is not a key of proxmox.nodes \(known: gihyeon\)/,
  ],
  [
    "bad node name",
    (r) => (r.proxmox.nodes["bad node"] = r.proxmox.nodes.gihyeon),
    "proxmox.nodes",
    /node names must be hostnames/,
  ],
  [
    "hostname with underscore",
    (r) => (r.lxcs.hermes.hostname = "her_mes"),
    "lxcs.hermes.hostname",
    /lowercase DNS labels/,
  ],
  ["zero cores", (r) => (r.lxcs.hermes.cores = 0), "lxcs.hermes.cores", /at least 1/],
  ["too little memory", (r) => (r.lxcs.hermes.memoryMb = 512), "lxcs.hermes.memoryMb", /at least 1536 MB/],
  ["negative swap", (r) => (r.lxcs.hermes.swapMb = -1), "lxcs.hermes.swapMb", /at least 0/],
  ["tiny rootfs", (r) => (r.lxcs.hermes.rootfs.sizeGb = 2), "lxcs.hermes.rootfs.sizeGb", /at least 8 GB/],
  [
    "relative host path",
    (r) => (r.lxcs.hermes.mounts[1].hostPath = "media/2tb"),
    "lxcs.hermes.mounts[1].hostPath",
    /absolute path/,
  ],
  [
    "/ as mount source",
    (r) => (r.lxcs.hermes.mounts[1].hostPath = "/"),
    "lxcs.hermes.mounts[1].hostPath",
    /must not be \//,
  ],
  [
    "dot-dot in host path",
    (r) => (r.lxcs.hermes.mounts[1].hostPath = "/media/2tb/../../etc"),
    "lxcs.hermes.mounts[1].hostPath",
    /\.\. segments/,
  ],
  [
    "whitespace in host path",
    (r) => (r.lxcs.hermes.mounts[1].hostPath = "/media/2tb/her mes"),
    "lxcs.hermes.mounts[1].hostPath",
    /no spaces/,
  ],
  [
    "comma in host path",
    (r) => (r.lxcs.hermes.mounts[0].hostPath = "/mnt/a,mp=/x"),
    "lxcs.hermes.mounts[0].hostPath",
    /commas/,
  ],
  [
    "newline in host path",
    (r) => (r.lxcs.hermes.mounts[0].hostPath = "/mnt/a\n/b"),
    "lxcs.hermes.mounts[0].hostPath",
    /may only contain/,
  ],
  [
    "system directory",
    (r) => (r.lxcs.hermes.mounts[0].hostPath = "/etc/hermes"),
    "lxcs.hermes.mounts[0].hostPath",
    /inside \/etc/,
  ],
  [
    "a disk root itself",
    (r) => (r.lxcs.hermes.mounts[0].hostPath = "/mnt/pve"),
    "lxcs.hermes.mounts[0].hostPath",
    /dedicated subdirectory/,
  ],
  [
    "duplicate host paths",
    (r) => (r.lxcs.hermes.mounts[1].hostPath = "/mnt/pve/hdd/hermes"),
    "lxcs.hermes.mounts[1].hostPath",
    /duplicates lxcs.hermes.mounts\[0\].hostPath/,
  ],
  [
    "nested host paths",
    (r) => (r.lxcs.hermes.mounts[1].hostPath = "/mnt/pve/hdd/hermes/fast"),
    "lxcs.hermes.mounts[1].hostPath",
    /nested/,
  ],
  [
    "mount nested in the state dir",
    (r) => (r.lxcs.hermes.mounts[1].hostPath = "/var/lib/hermes-lxc/hermes/x"),
    "lxcs.hermes.mounts[1].hostPath",
    /nested/,
  ],
  [
    "container path in /etc",
    (r) => (r.lxcs.hermes.mounts[0].containerPath = "/etc/data"),
    "lxcs.hermes.mounts[0].containerPath",
    /inside \/etc/,
  ],
  [
    "duplicate container paths",
    (r) => (r.lxcs.hermes.mounts[1].containerPath = "/data"),
    "lxcs.hermes.mounts[1].containerPath",
    /duplicates/,
  ],
  [
    "container path over the state mount",
    (r) => (r.lxcs.hermes.mounts[0].containerPath = "/srv/hermes/data"),
    "lxcs.hermes.mounts[0].containerPath",
    /nested/,
  ],
  [
    "bad CIDR",
    (r) => (r.lxcs.hermes.network.ipv4 = { address: "10.1.10.300/24", gateway: "10.1.10.1" }),
    "lxcs.hermes.network.ipv4.address",
    /IPv4 address with prefix/,
  ],
  [
    "network address",
    (r) => (r.lxcs.hermes.network.ipv4 = { address: "10.1.10.0/24", gateway: "10.1.10.1" }),
    "lxcs.hermes.network.ipv4.address",
    /network address/,
  ],
  [
    "gateway outside subnet",
    (r) => (r.lxcs.hermes.network.ipv4 = { address: "10.1.10.30/24", gateway: "10.1.11.1" }),
    "lxcs.hermes.network.ipv4.gateway",
    /not inside the subnet of lxcs\.hermes\.network\.ipv4\.address/,
  ],
  [
    "not dhcp nor static",
    (r) => (r.lxcs.hermes.network.ipv4 = "static"),
    "lxcs.hermes.network.ipv4",
    /'dhcp' or/,
  ],
  [
    "bridge name",
    (r) => (r.lxcs.hermes.network.bridge = "intra 01"),
    "lxcs.hermes.network.bridge",
    /bridge or vnet name/,
  ],
  [
    "VLAN out of range",
    (r) => (r.lxcs.hermes.network.vlanId = 4095),
    "lxcs.hermes.network.vlanId",
    /at most 4094/,
  ],
  [
    "DNS server",
    (r) => (r.lxcs.hermes.network.dnsServers = ["1.1.1"]),
    "lxcs.hermes.network.dnsServers[0]",
    /IPv4/,
  ],
  [
    "SSH key garbage",
    (r) => (r.lxcs.hermes.rootSshKeys = ["ssh-ed25519 notbase64!"]),
    "lxcs.hermes.rootSshKeys[0]",
    /not base64/,
  ],
  [
    "SSH key type mismatch",
    (r) => (r.lxcs.hermes.rootSshKeys = ["ssh-rsa " + r.lxcs.hermes.rootSshKeys[0].split(" ")[1]]),
    "lxcs.hermes.rootSshKeys[0]",
    /does not contain a ssh-rsa key/,
  ],
  ["no SSH keys", (r) => (r.lxcs.hermes.rootSshKeys = []), "lxcs.hermes.rootSshKeys", /at least one key/],
  [
    "node host key",
    (r) => (r.proxmox.nodes.gihyeon.hostKey = "AAAA"),
    "proxmox.nodes.gihyeon.hostKey",
    /ssh-ed25519 AAAA/,
  ],
  [
    "uppercase tag",
    (r) => (r.lxcs.hermes.tags = ["AI"]),
    "lxcs.hermes.tags[0]",
    /must be lowercase \(Proxmox stores tags lowercased/,
  ],
  ["tag with space", (r) => (r.lxcs.hermes.tags = ["a b"]), "lxcs.hermes.tags[0]", /may only contain/],
  ["gateway uid 0", (r) => (r.lxcs.hermes.gateway = { uid: 0 }), "lxcs.hermes.gateway.uid", /at least 1/],
  [
    "gateway uid outside the map",
    (r) => (r.lxcs.hermes.gateway = { uid: 70000 }),
    "lxcs.hermes.gateway.uid",
    /at most 65534/,
  ],
  [
    "agent name not a DNS label",
    (r) => (r.agents.Hermes_1 = r.agents.hermes),
    "agents",
    /lowercase DNS label/,
  ],
  ["lxc name not a DNS label", (r) => (r.lxcs["-x"] = r.lxcs.hermes), "lxcs", /lowercase DNS label/],
  [
    "API token user",
    (r) => (r.proxmox.username = "root@pam!deploy"),
    "proxmox.username",
    /API token.*root@pam with its password/,
  ],
  ["non-root user", (r) => (r.proxmox.username = "admin@pve"), "proxmox.username", /must be root@pam/],
  [
    "missing password",
    (r) => delete r.proxmoxPassword,
    "proxmoxPassword",
    /pulumi config set --secret proxmoxPassword/,
  ],
  ["endpoint", (r) => (r.proxmox.endpoint = "gihyeon:8006"), "proxmox.endpoint", /https:\/\/<node>:8006/],
  [
    "unknown key",
    (r) => (r.lxcs.hermes.memory = 4096),
    "lxcs.hermes",
    /unknown key 'memory'; did you mean "memoryMb"\?; allowed keys: .*memoryMb/,
  ],
  [
    "raw lxc line",
    (r) => (r.lxcs.hermes.rawConfig = { extraLines: ["lxc.x: a\nlxc.y: b"] }),
    "lxcs.hermes.rawConfig.extraLines[0]",
    /one line/,
  ],
  [
    "template url",
    (r) => (r.lxcs.hermes.template = { url: "ftp://x/y.iso" }),
    "lxcs.hermes.template.url",
    /http\(s\) URL of a .tar.zst/,
  ],
  [
    "docker source",
    (r) => (r.lxcs.hermes.docker = { source: "snap" }),
    "lxcs.hermes.docker.source",
    /'docker-ce' or 'debian'/,
  ],
  [
    "secrets for an unknown LXC",
    (r) => (r.lxcSecrets.ghost = { rootPassword: "long-enough-pw" }),
    "lxcSecrets.ghost",
    /no LXC 'ghost'/,
  ],
  [
    "short root password",
    (r) => (r.lxcSecrets.hermes.rootPassword = "short"),
    "lxcSecrets.hermes.rootPassword",
    /at least 8 characters/,
  ],
  [
    "docker log size of zero",
    (r) => (r.lxcs.hermes.docker = { logMaxSize: "0m" }),
    "lxcs.hermes.docker.logMaxSize",
    /must look like 10m/,
  ],
  [
    "docker version",
    (r) => (r.lxcs.hermes.docker = { dockerCeVersion: "28; rm -rf /" }),
    "lxcs.hermes.docker.dockerCeVersion",
    /Debian package version/,
  ],
  [
    "agent on unknown lxc",
    (r) => (r.agents.hermes.lxc = "nope"),
    "agents.hermes.lxc",
    /is not a key of lxcs/,
  ],
  ["agent on two targets", (r) => (r.agents.hermes.dockerHost = "x"), "agents.hermes", /exactly one of lxc/],
  [
    "llm base url trailing slash",
    (r) => (r.agents.hermes.llm.baseUrl = "http://10.1.10.22:4000/v1/"),
    "agents.hermes.llm.baseUrl",
    /without a trailing slash/,
  ],
  [
    "image digest",
    (r) => (r.agents.hermes.imageDigest = "sha256:abc"),
    "agents.hermes.imageDigest",
    /sha256:<64 hex>/,
  ],
  [
    "telegram without token",
    (r) => delete r.agentSecrets.hermes.telegramBotToken,
    "agentSecrets.hermes.telegramBotToken",
    /required because agents.hermes.platforms.telegram is enabled.*--secret --path/,
  ],
  [
    "slack without app token",
    (r) => {
      r.agents.hermes.platforms.slack = {};
      r.agentSecrets.hermes.slackBotToken = "xoxb-12345678";
    },
    "agentSecrets.hermes.slackAppToken",
    /xapp- app token/,
  ],
  [
    "api server key too short",
    (r) => {
      r.agents.hermes.apiServer = { enabled: true };
      r.agentSecrets.hermes.apiServerKey = "short-key";
    },
    "agentSecrets.hermes.apiServerKey",
    /at least 16 characters/,
  ],
  [
    "api server without key",
    (r) => (r.agents.hermes.apiServer = { enabled: true }),
    "agentSecrets.hermes.apiServerKey",
    /required/,
  ],
  [
    "dashboard without basic auth",
    (r) => (r.agents.hermes.dashboard = { enabled: true, bind: "0.0.0.0" }),
    "agents.hermes.dashboard",
    /basicAuthUser.*required.*expose/,
  ],
  [
    "reserved env name",
    (r) => (r.agents.hermes.environment = { TELEGRAM_BOT_TOKEN: "x" }),
    "agents.hermes.environment.TELEGRAM_BOT_TOKEN",
    /managed by the program/,
  ],
  [
    "lowercase env name",
    (r) => (r.agents.hermes.environment = { path: "x" }),
    "agents.hermes.environment.path",
    /\[A-Z_\]\[A-Z0-9_\]\*/,
  ],
  [
    "env name collision",
    (r) => (r.agents.hermes.environment = { GITHUB_TOKEN: "x" }),
    "agentSecrets.hermes.env.GITHUB_TOKEN",
    /also set by agents.hermes.environment.GITHUB_TOKEN/,
  ],
  [
    "workspace target outside /opt/data",
    (r) => (r.agents.hermes.workspaceMounts = [{ source: "data", target: "/workspace/data" }]),
    "agents.hermes.workspaceMounts[0].target",
    /under \/opt\/data/,
  ],
  [
    "workspace mount unknown",
    (r) => (r.agents.hermes.workspaceMounts = [{ source: "nope" }]),
    "agents.hermes.workspaceMounts[0].source",
    /not a mount name of lxcs.hermes \(known: data, fast\)/,
  ],
  [
    "mcp server with both transports",
    (r) => (r.agents.hermes.mcpServers = { fs: { command: "npx", url: "http://x" } }),
    "agents.hermes.mcpServers.fs",
    /exactly one of command/,
  ],
  [
    "mcp server whose only transport is an empty command (refused before any resource, not when config.yaml is rendered)",
    (r) => (r.agents.hermes.mcpServers = { fs: { command: "" } }),
    "agents.hermes.mcpServers.fs",
    /exactly one of command/,
  ],
  [
    "secrets for an unknown agent",
    (r) => (r.agentSecrets.ghost = { llmApiKey: "k" }),
    "agentSecrets.ghost",
    /no agent 'ghost'/,
  ],
  [
    "document name with slash",
    (r) => (r.agents.hermes.documents = { "../x.md": { text: "x" } }),
    "agents.hermes.documents",
    /plain file names/,
  ],
  [
    "document file outside",
    (r) => (r.agents.hermes.documents = { "USER.md": { file: "does/not/exist.md" } }),
    'agents.hermes.documents["USER.md"].file',
    /cannot be read/,
  ],
];

describe("rejected configuration", () => {
  it.each(rejected)("%s", (_name, mutate, keyPath, explanation) => {
    const problems = problemsOf(mutate);
    const match = problems.find(
      (p) => p.startsWith(`${keyPath}:`) || p.startsWith(`${keyPath}[`) || p.startsWith(`${keyPath}.`),
    );
    expect({ problems, match: match ?? null }).toEqual({
      problems,
      match: expect.stringMatching(explanation),
    });
  });
});

describe("the LXC root password", () => {
  // The documented floor is 8 characters (`secret, 8+ chars`): 8 is accepted and reaches the secrets, 7 is refused.
  it("accepts exactly 8 characters and refuses 7, naming the key and never the value", () => {
    const raw: Mutable = homelabWithSecrets();
    raw.lxcSecrets.hermes.rootPassword = "8chars-x";
    expect(parseStackConfig(raw, opts).secrets.lxcs.hermes.rootPassword).toBe("8chars-x");
    const problems = problemsOf((r) => (r.lxcSecrets.hermes.rootPassword = "7chars-"));
    expect(problems).toEqual([
      expect.stringMatching(/^lxcSecrets\.hermes\.rootPassword: .*at least 8 characters/),
    ]);
    expect(problems.join("\n")).not.toContain("7chars-");
  });
});

describe("hostile secret values", () => {
  // Every rule of the .env writer (lib/envFile.ts) holds at parse time, before any resource, with the key path.
  it.each([
    ["newline", "123456:abc\nEVIL=1", "line break or NUL"],
    ["carriage return", "123456:abc\rEVIL=1", "line break or NUL"],
    ["NUL", "123456:abc\u0000x", "NUL character"],
    ["unicode line separator", "123456:abc\u2028x", "line break or NUL"],
    ["next line (U+0085)", "123456:abc\u0085x", "line break or NUL"],
    ["vertical tab", "123456:abc\vx", "line break or NUL"],
    ["${ reference", "123456:abc${HOME}", '"${"'],
    ["non-ASCII", "123456:abcé", "non-ASCII"],
    ["quoted value ending in a backslash", "123456:abc def\\", "ends with a backslash"],
  ])("rejects a token with a %s at parse time, naming the key and never echoing it", (_kind, token, why) => {
    const problems = problemsOf((r) => (r.agentSecrets.hermes.telegramBotToken = token));
    expect(problems).toEqual([expect.stringMatching(/^agentSecrets\.hermes\.telegramBotToken: /)]);
    expect(problems[0]).toContain(why);
    expect(problems.join("\n")).not.toContain("123456:abc");
  });

  it("refuses a literal settings.model.api_key and an llm.apiKeyEnv the program writes, at parse time", () => {
    const problems = problemsOf((r) => {
      r.agents.hermes.settings = { model: { api_key: "sk-LITERAL-key" } };
      r.agents.hermes.llm.apiKeyEnv = "TELEGRAM_BOT_TOKEN";
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^agents\.hermes\.settings\.model\.api_key must be a \$\{VAR\} reference/),
        expect.stringMatching(/^agents\.hermes\.llm\.apiKeyEnv: names a variable the program writes/),
      ]),
    );
    expect(problems.join("\n")).not.toContain("sk-LITERAL");
  });

  it("applies the same rules to the stack's extra .env secrets, but not to passwords that never reach .env", () => {
    const problems = problemsOf((r) => {
      r.agentSecrets.hermes.env = { GITHUB_TOKEN: "ghp_x${Y}" };
      r.proxmoxPassword = "pa$${word}é";
    });
    expect(problems).toEqual([
      expect.stringMatching(/^agentSecrets\.hermes\.env\.GITHUB_TOKEN: contains "\$\{"/),
    ]);
  });

  it("never echoes secret values in any problem", () => {
    const problems = problemsOf((r) => {
      r.agentSecrets.hermes.llmApiKey = `${CANARY.llmApiKey}\n`;
      r.agentSecrets.hermes.env = { "bad-name": CANARY.extraEnv };
    });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).not.toContain("CANARY");
  });
});

describe("API tokens are refused before anything is registered", () => {
  const noConfig = { get: () => undefined };
  // Why a token cannot work, and what is allowed instead: a user who set one needs both to fix it.
  const saysWhyAndWhatIsAllowed = (problem: string) => {
    expect(problem).toMatch(/Proxmox refuses bind mounts and the keyctl feature to every API token/);
    expect(problem).toMatch(/needs root@pam with a password \(proxmoxPassword\)/);
  };
  it("flags PROXMOX_VE_API_TOKEN in the environment", () => {
    const problems = apiTokenProblems({ PROXMOX_VE_API_TOKEN: "root@pam!t=uuid-CANARY" }, noConfig);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^environment variable PROXMOX_VE_API_TOKEN: .*Unset it\.$/);
    saysWhyAndWhatIsAllowed(problems[0]);
    expect(problems[0]).not.toContain("CANARY");
  });
  it("flags proxmoxve:apiToken in the stack", () => {
    const problems = apiTokenProblems({}, { get: (k: string) => (k === "apiToken" ? "x" : undefined) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^proxmoxve:apiToken: .*pulumi config rm proxmoxve:apiToken$/);
    saysWhyAndWhatIsAllowed(problems[0]);
  });
  it("accepts a password-only setup", () => {
    expect(apiTokenProblems({}, noConfig)).toEqual([]);
  });
});

describe("the Proxmox login", () => {
  it("refuses an API token as proxmox.username, says what is allowed and to revoke it, never echoing it", () => {
    const problems = problemsOf((r) => (r.proxmox.username = "root@pam!CANARY-token"));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^proxmox\.username: is an API token/);
    expect(problems[0]).toContain("Use root@pam with its password (proxmoxPassword)");
    expect(problems[0]).toContain("revoke it in Datacenter > Permissions > API Tokens");
    expect(problems[0]).not.toContain("CANARY");
  });

  it("warns that proxmox.insecure sends the password unverified, and says how to verify the node's CA", () => {
    const raw = homelabWithSecrets() as any;
    raw.proxmox.insecure = true;
    const tls = parseStackConfig(raw, { readFile: readProjectFile }).warnings.filter((w) =>
      w.includes("insecure"),
    );
    expect(tls).toHaveLength(1);
    const [warning] = tls;
    expect(warning).toMatch(/^proxmox\.insecure is true: the API's certificate is not verified/);
    expect(warning).toContain("root@pam's password goes to whoever answers at proxmox.endpoint");
    // The way out, step by step: the node's CA, where to save it, how pulumi finds it, and the switch back.
    expect(warning).toContain("/etc/pve/pve-root-ca.pem");
    expect(warning).toContain("~/.config/hermes-lxc/ca/<node>.pem");
    expect(warning).toContain('SSL_CERT_DIR="/etc/ssl/certs:$HOME/.config/hermes-lxc/ca"');
    expect(warning).toContain("pulumi config set --path proxmox.insecure false");
    // Verified (the homelab stack's false): nothing to warn about.
    raw.proxmox.insecure = false;
    expect(
      parseStackConfig(raw, { readFile: readProjectFile }).warnings.filter((w) => w.includes("insecure")),
    ).toEqual([]);
  });
});

describe("the hermes image an agent runs", () => {
  const parsed = (mutate: (agent: Mutable) => void) => {
    const raw = homelabWithSecrets() as Mutable;
    mutate(raw.agents.hermes);
    const { config, warnings } = parseStackConfig(raw, opts);
    return { imageRef: config.agents[0].imageRef, warnings: warnings.filter((w) => w.includes(".image")) };
  };
  const DIGEST = `sha256:${"ab".repeat(32)}`;

  it("unset: the tested default, pinned by its digest, without a warning", () => {
    const { imageRef, warnings } = parsed((a) => {
      delete a.imageTag;
      delete a.imageDigest;
    });
    expect(imageRef).toBe(
      `${DEFAULT_HERMES_IMAGE.repository}:${DEFAULT_HERMES_IMAGE.tag}@${DEFAULT_HERMES_IMAGE.digest}`,
    );
    expect(warnings).toEqual([]);
  });

  it("another image without a tag: the default tag, never the default image's digest (it would not be found)", () => {
    const { imageRef } = parsed((a) => {
      a.image = "registry.example.org/hermes-agent-full";
      delete a.imageTag;
      delete a.imageDigest;
    });
    expect(imageRef).toBe(`registry.example.org/hermes-agent-full:${DEFAULT_HERMES_IMAGE.tag}`);
  });

  it("another image with its own tag and digest: no release-tag warning (its tags are its own)", () => {
    const { imageRef, warnings } = parsed((a) => {
      a.image = "registry.example.org/hermes-agent-full";
      a.imageTag = "build-42";
      a.imageDigest = DIGEST;
    });
    expect(imageRef).toBe(`registry.example.org/hermes-agent-full:build-42@${DIGEST}`);
    expect(warnings).toEqual([]);
  });

  it.each([
    ["latest", "it follows hermes' main branch and changes under the stack"],
    ["v9", "the pull may fail"],
  ])("hermes' image at %s: warned, saying what happens and where to read more", (tag, what) => {
    const { warnings } = parsed((a) => {
      a.imageTag = tag;
      a.imageDigest = DIGEST;
    });
    expect(warnings).toEqual([
      `agents.hermes.imageTag: is not one of hermes' release tags (v0.21.6, v2026.9.14, v0.22.0-canary.<stamp>, ...): ${what}. See the README, 'Choosing the hermes image'.`,
    ]);
  });

  it("a tag without a digest: warned that the tag can move, with where to read how to pin it", () => {
    const { warnings } = parsed((a) => delete a.imageDigest);
    expect(warnings).toEqual([
      "agents.hermes.imageDigest: not set, so agents.hermes.imageTag is whatever the registry serves at the first pull. Pin it: see the README, 'Choosing the hermes image'.",
    ]);
  });
});

describe("rules across the stack", () => {
  it("refuses NUL in a key, naming where the key is (and not the key: it may be anything)", () => {
    expect(problemsOf((r) => (r.agents.hermes.environment = { "A\u0000B": "x", FINE: "y\u0000" }))).toEqual([
      "agents.hermes.environment (a key): contains a NUL character",
      "agents.hermes.environment.FINE: contains a NUL character",
    ]);
  });

  it("needs proxmox as soon as an agent is on an LXC, even with no lxcs", () => {
    const problems = problemsOf((r) => {
      delete r.proxmox;
      delete r.lxcs;
      delete r.lxcSecrets;
      r.dockerHosts = { box: { address: "10.1.10.50", hostKey: KEY } };
      r.agents.other = { dockerHost: "box" };
    });
    expect(problems).toContain("proxmox: is required when lxcs are configured (endpoint, nodes)");
  });

  it("needs proxmox and its password for an LXC even when no agent runs on it yet", () => {
    const problems = problemsOf((r) => {
      delete r.proxmox;
      delete r.proxmoxPassword;
      r.dockerHosts = { box: { address: "10.1.10.50", hostKey: KEY } };
      r.agents = { other: { dockerHost: "box" } };
    });
    expect(problems).toContain("proxmox: is required when lxcs are configured (endpoint, nodes)");
    expect(problems.filter((p) => p.startsWith("proxmoxPassword:"))).toHaveLength(1);
  });

  it("asks for proxmoxPassword only when there are LXCs to create", () => {
    const withoutPassword = (mutate: (r: Mutable) => void) =>
      problemsOf((r) => {
        delete r.proxmoxPassword;
        mutate(r);
      }).filter((p) => p.startsWith("proxmoxPassword"));
    expect(withoutPassword(() => {})).toEqual([
      "proxmoxPassword: is required (root@pam's password): bind mounts and keyctl are refused to API tokens. Set it with: pulumi config set --secret proxmoxPassword",
    ]);
    // An agent naming an LXC the stack does not have: refused for that, not for a password nothing would use.
    expect(
      withoutPassword((r) => {
        delete r.lxcs;
        delete r.lxcSecrets;
      }),
    ).toEqual([]);
  });

  it("refuses a Docker host named like an LXC", () => {
    const problems = problemsOf((r) => {
      r.dockerHosts = { hermes: { address: "10.1.10.50", hostKey: KEY } };
    });
    expect(problems).toContain(
      "dockerHosts.hermes: the name is already used by lxcs.hermes; names must be unique",
    );
  });
});

describe("agents.<name>.cpus", () => {
  const cpusOf = (cpus: unknown) => {
    const raw = homelabWithSecrets() as Mutable;
    raw.agents.hermes.cpus = cpus;
    return parseStackConfig(raw, opts).config.agents[0].cpus;
  };

  it("holds the amount as the docker provider reads it back, from a number or a string", () => {
    expect(cpusOf(2)).toBe("2.0");
    expect(cpusOf("1.5")).toBe("1.5");
    expect(cpusOf(0.25)).toBe("0.25");
    expect(cpusOf(undefined)).toBe("2.0");
  });

  it.each([
    // 0 is Docker's "no limit": never what a limit of 0 means to the user.
    [0, "must be more than 0, in steps the docker provider keeps (e.g. 0.5, 1.25, 2)"],
    ["0.0", "must be more than 0, in steps the docker provider keeps (e.g. 0.5, 1.25, 2)"],
    // Read back as 0.1: the container would be re-created on every update.
    ["0.05", "must be more than 0, in steps the docker provider keeps (e.g. 0.5, 1.25, 2)"],
    ["-1", "must be a number of CPUs such as 2 or 1.5"],
  ])("refuses %j, saying what is allowed", (cpus, message) => {
    expect(problemsOf((r) => (r.agents.hermes.cpus = cpus))).toEqual([`agents.hermes.cpus: ${message}`]);
  });
});

describe("agents.<name>.llm.model", () => {
  it("refuses an empty model name (hermes would send requests for no model)", () => {
    expect(problemsOf((r) => (r.agents.hermes.llm.model = ""))).toEqual([
      "agents.hermes.llm.model: must not be empty",
    ]);
    expect(problemsOf((r) => (r.agents.hermes.llm.model = "x"))).toEqual([]);
  });
});

describe("what a stack needs, and in what order it comes out", () => {
  it("a stack with Docker hosts only needs no proxmox and no proxmoxPassword", () => {
    const raw = homelabWithSecrets() as Mutable;
    delete raw.proxmox;
    delete raw.proxmoxPassword;
    delete raw.lxcs;
    delete raw.lxcSecrets;
    raw.dockerHosts = { box: { address: "10.1.10.50", hostKey: KEY } };
    delete raw.agents.hermes.lxc;
    raw.agents.hermes.dockerHost = "box";
    const { config } = parseStackConfig(raw, opts);
    expect(config.proxmox).toBeUndefined();
    expect(config.lxcs).toEqual([]);
    expect(config.agents.map((a) => a.target)).toEqual([{ kind: "dockerHost", name: "box" }]);
  });

  it("LXCs, Docker hosts and agents come out sorted by name, whatever order the stack lists them in", () => {
    const raw = twoNodeStack() as Mutable;
    raw.lxcs = { hermes2: raw.lxcs.hermes2, hermes: raw.lxcs.hermes };
    raw.dockerHosts = {
      zeta: { address: "10.1.10.51", hostKey: KEY },
      alpha: { address: "10.1.10.50", hostKey: KEY },
    };
    raw.agents = { second: raw.agents.second, hermes: raw.agents.hermes };
    const { config } = parseStackConfig(raw, opts);
    expect(config.lxcs.map((l) => l.name)).toEqual(["hermes", "hermes2"]);
    expect(config.dockerHosts.map((h) => h.name)).toEqual(["alpha", "zeta"]);
    expect(config.agents.map((a) => a.name)).toEqual(["hermes", "second"]);
  });

  it("the homelab stack warns about exactly what applies to it", () => {
    const { warnings } = parseStackConfig(homelabWithSecrets(), opts);
    expect(warnings.map((w) => w.slice(0, w.indexOf(" ")))).toEqual([
      "lxcs.hermes.template.checksum",
      "agents.hermes.platforms.telegram",
    ]);
  });
});

describe("lxcs.<name>.network.dnsDomain", () => {
  it("takes a DNS domain, and refuses anything else naming the key", () => {
    expect(problemsOf((r) => (r.lxcs.hermes.network.dnsDomain = "home.arpa"))).toEqual([]);
    expect(problemsOf((r) => (r.lxcs.hermes.network.dnsDomain = "lan"))).toEqual([]);
    for (const bad of ["home arpa", "-lan", "lan;reboot", ""]) {
      expect(problemsOf((r) => (r.lxcs.hermes.network.dnsDomain = bad))).toEqual([
        "lxcs.hermes.network.dnsDomain: must be a DNS domain",
      ]);
    }
  });
});

describe("what two LXCs may not share", () => {
  it.each([
    ["on one node", "gihyeon"],
    ["on two nodes of the cluster (VMIDs are cluster-wide)", "pve2"],
  ])("a VMID, %s", (_what, node) => {
    expect(
      problemsOf((r) => {
        r.proxmox.nodes.pve2 = { address: "10.1.10.3", hostKey: KEY };
        r.lxcs.second = {
          ...structuredClone(r.lxcs.hermes),
          node,
          hostname: "second",
          stateMount: { hostPath: "/var/lib/hermes-lxc/second" },
          mounts: [],
        };
      }),
    ).toEqual(["lxcs.second.vmId: uses a VMID already used by lxcs.hermes.vmId"]);
  });
});

describe("secrets and data that must belong to something", () => {
  it("refuses secrets for an agent or an LXC the stack does not have, naming them and never the value", () => {
    const problems = problemsOf((r) => {
      r.agentSecrets.ghost = { llmApiKey: CANARY.llmApiKey };
      r.lxcSecrets.phantom = { rootPassword: CANARY.rootPassword };
    });
    expect(problems).toEqual([
      "lxcSecrets.phantom: there is no LXC 'phantom' in lxcs",
      "agentSecrets.ghost: there is no agent 'ghost' in agents",
    ]);
  });
});

describe("agents' data directories", () => {
  const twoEntriesOneMachine = (dataRootB: string, dataRootA = "/srv/h") =>
    problemsOf((r) => {
      r.dockerHosts = {
        a: { address: "10.1.10.50", hostKey: KEY, dataRoot: dataRootA },
        b: { address: "10.1.10.50", hostKey: KEY, dataRoot: dataRootB },
      };
      r.agents.one = { dockerHost: "a" };
      r.agents.two = { dockerHost: "b", apiServer: { port: 8643 } };
    });

  it("refuses one inside another's on the same machine (each could read the other's secrets)", () => {
    expect(twoEntriesOneMachine("/srv/h/one")).toEqual([
      "agents.two: its data directory (/srv/h/one/two) and that of agents.one (/srv/h/one) are one inside the other " +
        "on the same machine, so each could read the other's secrets: give each agent its own (a " +
        "dockerHosts.<name>.dataRoot outside the other's)",
    ]);
    // Either way round.
    expect(twoEntriesOneMachine("/srv/h", "/srv/h/two")).toEqual([
      "agents.two: its data directory (/srv/h/two) and that of agents.one (/srv/h/two/one) are one inside the other " +
        "on the same machine, so each could read the other's secrets: give each agent its own (a " +
        "dockerHosts.<name>.dataRoot outside the other's)",
    ]);
  });

  it("accepts directories side by side, and nested ones on different machines", () => {
    expect(twoEntriesOneMachine("/srv/h")).toEqual([]);
    expect(twoEntriesOneMachine("/srv/h/on")).toEqual([]);
    expect(
      problemsOf((r) => {
        r.dockerHosts = {
          a: { address: "10.1.10.50", hostKey: KEY, dataRoot: "/srv/h" },
          b: { address: "10.1.10.51", hostKey: KEY, dataRoot: "/srv/h/one" },
        };
        r.agents.one = { dockerHost: "a" };
        r.agents.two = { dockerHost: "b" };
      }),
    ).toEqual([]);
  });
});

describe("which entries are one machine (ports and data directories are compared per machine)", () => {
  const staticIp = (r: Mutable, lxc: string, address: string) =>
    (r.lxcs[lxc].network.ipv4 = { address: `${address}/24`, gateway: "10.1.10.1" });

  it("an LXC with a static address and a Docker host entry at that address are one machine", () => {
    const problems = problemsOf((r) => {
      staticIp(r, "hermes", "10.1.10.57");
      r.dockerHosts = { box: { address: "10.1.10.57", hostKey: KEY } };
      r.agents.hermes.apiServer = { enabled: true, port: 8642 };
      r.agentSecrets.hermes.apiServerKey = "0123456789abcdef";
      r.agents.other = { dockerHost: "box", apiServer: { enabled: true, port: 8642 } };
      r.agentSecrets.other = { apiServerKey: "0123456789abcdef" };
    });
    expect(problems).toContain(
      "agents.other.apiServer.port: port 8642 is already taken on that machine by agents.hermes.apiServer.port",
    );
  });

  it("a Docker host whose DNS name reads like an LXC's key is not that LXC", () => {
    const problems = problemsOf((r) => {
      r.dockerHosts = { box: { address: "lxcs.hermes", hostKey: KEY } };
      r.agents.hermes.apiServer = { enabled: true, port: 8642 };
      r.agentSecrets.hermes.apiServerKey = "0123456789abcdef";
      r.agents.other = { dockerHost: "box", apiServer: { enabled: true, port: 8642 } };
      r.agentSecrets.other = { apiServerKey: "0123456789abcdef" };
    });
    expect(problems).toEqual([]);
  });

  it.each([
    ["their own static addresses", true],
    ["DHCP (each known by its name)", false],
  ])("two LXCs with %s are two machines", (_what, isStatic) => {
    const raw = twoNodeStack() as Mutable;
    if (isStatic) {
      staticIp(raw, "hermes", "10.1.10.57");
      staticIp(raw, "hermes2", "10.1.10.58");
    }
    for (const agent of ["hermes", "second"]) {
      raw.agents[agent].apiServer = { enabled: true, port: 8642 };
      raw.agentSecrets[agent] = { ...raw.agentSecrets[agent], apiServerKey: "0123456789abcdef" };
    }
    expect(() => parseStackConfig(raw, opts)).not.toThrow();
  });
});

describe("published ports on one machine", () => {
  const twoAgents = (bindOne: string, bindTwo: string) =>
    problemsOf((r) => {
      r.dockerHosts = { box: { address: "10.1.10.50", hostKey: KEY } };
      r.agents.one = {
        dockerHost: "box",
        dashboard: { enabled: true, port: 9119, bind: bindOne, basicAuthUser: "a" },
      };
      r.agents.two = {
        dockerHost: "box",
        dashboard: { enabled: true, port: 9119, bind: bindTwo, basicAuthUser: "a" },
      };
      r.agentSecrets.one = { dashboardPassword: "pw-one-long" };
      r.agentSecrets.two = { dashboardPassword: "pw-two-long" };
    });
  const clash =
    "agents.two.dashboard.port: port 9119 is already taken on that machine by agents.one.dashboard.port";

  it.each([
    ["the same address", "127.0.0.1", "127.0.0.1"],
    ["the wildcard first", "0.0.0.0", "127.0.0.1"],
    ["the wildcard second", "127.0.0.1", "0.0.0.0"],
  ])("clash on %s", (_what, one, two) => {
    expect(twoAgents(one, two)).toContain(clash);
  });

  it("a Docker host's sshd holds its own port: 22 is free when it listens elsewhere", () => {
    const onBox = (sshPort: number, apiPort: number) =>
      problemsOf((r) => {
        r.dockerHosts = {
          alpha: { address: "10.1.10.51", hostKey: KEY },
          box: { address: "10.1.10.50", hostKey: KEY, port: sshPort },
        };
        r.agents.one = { dockerHost: "box", apiServer: { enabled: true, port: apiPort } };
        r.agentSecrets.one = { apiServerKey: "0123456789abcdef" };
      });
    expect(onBox(2222, 2222)).toEqual([
      "agents.one.apiServer.port: port 2222 is already taken on that machine by the sshd of dockerHosts.box (its port)",
    ]);
    expect(onBox(2222, 22)).toEqual([]);
  });

  it("two Docker host entries at one address with two sshd ports: both ports are held, on every address", () => {
    // The second entry's sshd is claimed although the machine already holds one (on 22): a port published on
    // loopback clashes with it, as a listener on 0.0.0.0 takes the port on every address.
    const problems = problemsOf((r) => {
      r.dockerHosts = {
        box: { address: "10.1.10.50", hostKey: KEY },
        "box-alt": { address: "10.1.10.50", hostKey: KEY, port: 2222 },
      };
      r.agents.one = { dockerHost: "box" };
      r.agents.two = {
        dockerHost: "box-alt",
        dashboard: { enabled: true, port: 2222, bind: "127.0.0.1", basicAuthUser: "a" },
      };
      r.agentSecrets.one = {};
      r.agentSecrets.two = { dashboardPassword: "pw-two-long" };
    });
    expect(problems).toEqual([
      "agents.two.dashboard.port: port 2222 is already taken on that machine by the sshd of dockerHosts.box-alt (its port)",
    ]);
  });

  it("do not clash on two specific addresses, and agents on one LXC share its sshd", () => {
    expect(twoAgents("127.0.0.1", "10.1.10.50")).toEqual([]);
    expect(
      problemsOf((r) => {
        r.agents.other = { lxc: "hermes", apiServer: { enabled: true, port: 8643 } };
        r.agentSecrets.other = { apiServerKey: "0123456789abcdef" };
      }),
    ).toEqual([]);
  });
});
