/**
 * Rules that guard secrets, access or data, proven on every path into them, not only on the one a feature test
 * happened to use:
 * - every object block of the stack schema refuses unknown keys (a misspelt secret key would otherwise be dropped
 *   silently, and the agent would run without it), found by walking the schema, and shown on each block;
 * - the reserved .env names and the one-name-one-source rule, through `environment`, `agentSecrets.<a>.env` and
 *   `llm.apiKeyEnv`, for the program's own variables (the platforms' are in platforms.test.ts);
 * - the file modes where the program chooses them (the payload), not only where write-agent-files.sh applies them.
 */
import { z } from "zod";
import { RESERVED_ENV } from "../../components/config/agent";
import { PLATFORMS } from "../../components/config/platforms";
import { formatPath } from "../../components/config/errors";
import { parseStackConfig, stackSchema } from "../../components/config/stack";
import { agentFiles } from "../../components/gateway/agentPayload";
import { gatewayContainerSpec } from "../../components/gateway/gatewaySpec";
import { problemsOf } from "../helpers/configProblems";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

type Mutable = any;
type Schema = z.ZodType & { _zod: { def: Record<string, any> } };

/** Every object schema in the stack schema, with its key path (`*` for a record's or array's entries). */
function objectBlocks(schema: Schema, at: string[] = []): Array<{ at: string[]; schema: Schema }> {
  const def = schema._zod.def;
  switch (def.type) {
    case "object":
      return [
        { at, schema },
        ...Object.entries(def.shape as Record<string, Schema>).flatMap(([k, s]) =>
          objectBlocks(s, [...at, k]),
        ),
      ];
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "nonoptional":
    case "catch":
      return objectBlocks(def.innerType, at);
    case "pipe":
      return [...objectBlocks(def.in, at), ...objectBlocks(def.out, at)];
    case "record":
      return objectBlocks(def.valueType, [...at, "*"]);
    case "array":
      return objectBlocks(def.element, [...at, "*"]);
    case "union":
      return (def.options as Schema[]).flatMap((o) => objectBlocks(o, at));
    case "intersection":
      return [...objectBlocks(def.left, at), ...objectBlocks(def.right, at)];
    default:
      return [];
  }
}

const blocks = objectBlocks(stackSchema);

describe("unknown keys", () => {
  it("every object block of the stack schema is strict", () => {
    const loose = blocks
      .filter((b) => b.schema._zod.def.catchall?._zod.def.type !== "never")
      .map((b) => b.at.join("."));
    expect(blocks.length).toBeGreaterThan(30);
    expect(loose).toEqual([]);
  });

  /** The homelab stack with every block present, so that each can take an unknown key. */
  function everyBlockStack(): Mutable {
    const raw = homelabWithSecrets() as Mutable;
    raw.ssh = { privateKeyPath: "~/.ssh/id_ed25519" };
    const lxc = raw.lxcs.hermes;
    lxc.network = { ...lxc.network, ipv4: { address: "10.1.10.30/24", gateway: "10.1.10.1" } };
    lxc.rawConfig = { extraLines: [] };
    lxc.docker = { source: "docker-ce" };
    lxc.snapshots = { keep: 3 };
    lxc.gateway = { uid: 10000, gid: 10000 };
    raw.dockerHosts = {
      box: {
        address: "10.1.10.50",
        hostKey: raw.proxmox.nodes.gihyeon.hostKey,
        docker: {},
        snapshots: {},
        gateway: {},
      },
    };
    raw.agents.hermes.apiServer = { enabled: false };
    raw.agents.hermes.dashboard = { enabled: false };
    raw.agents.hermes.mcpServers = { fs: { command: "npx", env: { ROOT: "/opt/data" }, tools: {} } };
    // Every platform's block (and the inbound ones' publish blocks): the unknown key is refused even where the
    // block lacks its required keys.
    for (const p of PLATFORMS) raw.agents.hermes.platforms[p.key] ??= {};
    for (const key of [
      "sms",
      "webhook",
      "whatsappCloud",
      "bluebubbles",
      "wecomCallback",
      "teams",
      "msgraphWebhook",
      "line",
    ])
      raw.agents.hermes.platforms[key].publish = {};
    // The cluster blocks (issue 17): a storage and an LXC's HA block.
    raw.proxmox.storages = { nas: { kind: "shared" } };
    lxc.ha = {};
    raw.agents.hermes.documents = { "SOUL.md": { text: "terse" } };
    raw.agents.hermes.workspaceMounts = [{ source: "m0" }];
    raw.lxcs.hermes.mounts[0].name = "m0";
    return raw;
  }

  /** The raw value at a schema path, `*` taking the stack's first entry; undefined when the stack has none there. */
  function blockAt(raw: Mutable, at: string[]): { node: Mutable; path: string } | undefined {
    let node = raw;
    const path: PropertyKey[] = [];
    for (const k of at) {
      if (node === undefined || node === null || typeof node !== "object") return undefined;
      const key = k === "*" ? Object.keys(node)[0] : k;
      if (key === undefined) return undefined;
      path.push(Array.isArray(node) ? Number(key) : key);
      node = node[key];
    }
    if (!node || typeof node !== "object" || Array.isArray(node)) return undefined;
    return { node, path: formatPath(path) };
  }

  it("are refused in each block, with the block's key path and the allowed keys", () => {
    const tried: string[] = [];
    const paths = [...new Set(blocks.map((b) => b.at.join("\u0000")))].map((p) =>
      p ? p.split("\u0000") : [],
    );
    for (const at of paths) {
      if (at.length === 0) continue; // the namespace itself: rawConfig.test.ts (readRawConfig refuses it)
      const raw = everyBlockStack();
      const found = blockAt(raw, at);
      if (!found) continue;
      found.node.bogusKey = "x";
      tried.push(found.path);
      const problems = problemsOf((r) => Object.assign(r, raw));
      expect({ at: found.path, problems }).toEqual({
        at: found.path,
        problems: expect.arrayContaining([
          expect.stringMatching(
            new RegExp(`^${found.path.replace(/[.[\]"]/g, "\\$&")}: unknown key 'bogusKey'; allowed keys: `),
          ),
        ]),
      });
    }
    // Every block but the namespace itself was tried.
    expect(tried.length).toBe(paths.length - 1);
    // The blocks that hold secrets, access rules or data paths are among those tried.
    expect(tried).toEqual(
      expect.arrayContaining([
        "proxmox",
        "proxmox.nodes.gihyeon",
        "ssh",
        "lxcs.hermes",
        "lxcs.hermes.network",
        "lxcs.hermes.stateMount",
        "lxcs.hermes.mounts[0]",
        "lxcs.hermes.rawConfig",
        "lxcs.hermes.snapshots",
        "dockerHosts.box",
        "agents.hermes",
        "agents.hermes.llm",
        "agents.hermes.platforms",
        "agents.hermes.platforms.telegram",
        "agents.hermes.apiServer",
        "agents.hermes.dashboard",
        "agents.hermes.mcpServers.fs",
        "agents.hermes.workspaceMounts[0]",
        "agentSecrets.hermes",
        "lxcSecrets.hermes",
      ]),
    );
  });

  it("are refused in agentSecrets, where a misspelt token would otherwise leave the agent without it", () => {
    expect(problemsOf((r) => (r.agentSecrets.hermes.telegramToken = "123456:abc"))).toContainEqual(
      expect.stringMatching(
        /^agentSecrets\.hermes: unknown key 'telegramToken'; did you mean "telegramBotToken"\?/,
      ),
    );
    expect(problemsOf((r) => (r.lxcSecrets.hermes.password = "long-enough-pw"))).toContainEqual(
      expect.stringMatching(/^lxcSecrets\.hermes: unknown key 'password'/),
    );
  });
});

describe("reserved .env names, on every path into .env", () => {
  const names = [...RESERVED_ENV];

  it.each([
    ["agents.hermes.environment", (r: Mutable, n: string) => (r.agents.hermes.environment = { [n]: "x" })],
    ["agentSecrets.hermes.env", (r: Mutable, n: string) => (r.agentSecrets.hermes.env = { [n]: "x" })],
  ])("%s.<NAME> may not set a variable the program writes", (at, set) => {
    const missed = names.filter(
      (n) => !problemsOf((r) => set(r, n)).some((p) => p.startsWith(`${at}.${n}: is managed by the program`)),
    );
    expect(missed).toEqual([]);
  });

  it("llm.apiKeyEnv may not name a variable the program writes", () => {
    const missed = names.filter(
      (n) =>
        !problemsOf((r) => (r.agents.hermes.llm.apiKeyEnv = n)).some((p) =>
          p.startsWith("agents.hermes.llm.apiKeyEnv: names a variable the program writes itself"),
        ),
    );
    expect(missed).toEqual([]);
  });

  it.each([
    [
      "environment and secret env",
      (r: Mutable) => {
        r.agents.hermes.environment = { GH_USER: "a" };
        r.agentSecrets.hermes.env = { GH_USER: "b" };
      },
      "agentSecrets.hermes.env.GH_USER: GH_USER is also set by agents.hermes.environment.GH_USER",
    ],
    [
      "environment and the LLM key's variable",
      (r: Mutable) => (r.agents.hermes.environment = { LITELLM_API_KEY: "a" }),
      "agents.hermes.llm.apiKeyEnv: LITELLM_API_KEY is also set by agents.hermes.environment.LITELLM_API_KEY",
    ],
    [
      "secret env and the LLM key's variable",
      (r: Mutable) => (r.agentSecrets.hermes.env = { LITELLM_API_KEY: "a" }),
      "agents.hermes.llm.apiKeyEnv: LITELLM_API_KEY is also set by agentSecrets.hermes.env.LITELLM_API_KEY",
    ],
  ])("one name, one source: %s", (_what, edit, problem) => {
    expect(problemsOf(edit)).toContain(problem);
  });
});

describe("file modes, where the program chooses them", () => {
  function filesOf(edit: (r: Mutable) => void = () => {}) {
    const raw = homelabWithSecrets() as Mutable;
    edit(raw);
    const parsed = parseStackConfig(raw, { readFile: readProjectFile });
    return agentFiles(parsed.config.agents[0], parsed.secrets.agents.hermes).map((f) => [
      f.path,
      f.mode,
      f.policy,
    ]);
  }

  it(".env and auth.json are 0600 (secrets), config.yaml and documents 0640", () => {
    expect(
      filesOf((r) => {
        r.agentSecrets.hermes.authJson = "{}";
        r.agents.hermes.documents = { "SOUL.md": { text: "terse" }, "notes.md": { text: "n" } };
      }),
    ).toEqual([
      ["config.yaml", 0o640, "merge-yaml"],
      [".env", 0o600, "replace"],
      ["auth.json", 0o600, "seed"],
      ["SOUL.md", 0o640, "replace"],
      ["workspace/notes.md", 0o640, "replace"],
    ]);
  });

  it("config.yaml is merged into hermes' own by default and replaced whole with configMode replace", () => {
    expect(filesOf(() => undefined)).toContainEqual(["config.yaml", 0o640, "merge-yaml"]);
    expect(
      filesOf((r) => {
        r.agents.hermes.configMode = "replace";
      }),
    ).toContainEqual(["config.yaml", 0o640, "replace"]);
  });

  it("auth.json stays 0600 when the stack insists on overwriting it", () => {
    expect(
      filesOf((r) => {
        r.agentSecrets.hermes.authJson = "{}";
        r.agents.hermes.authJsonForceOverwrite = true;
      }),
    ).toContainEqual(["auth.json", 0o600, "replace"]);
  });
});

// Two bind mounts nested in each other: Proxmox mounts one over the other, and the host preparation re-owns the
// inner one twice. The rule compares each pair once, so it must look both ways, on host and on container paths.
describe("nested mounts, whichever comes first", () => {
  it.each([
    ["a later host path inside an earlier one", "hostPath", ["/mnt/pve/hdd/hermes", "/mnt/pve/hdd/hermes/x"]],
    ["an earlier host path inside a later one", "hostPath", ["/mnt/pve/hdd/hermes/x", "/mnt/pve/hdd/hermes"]],
    ["a later container path inside an earlier one", "containerPath", ["/data", "/data/x"]],
    ["an earlier container path inside a later one", "containerPath", ["/data/x", "/data"]],
  ])("%s", (_what, key, [first, second]) => {
    const problems = problemsOf((r) => {
      r.lxcs.hermes.mounts[0][key] = first;
      r.lxcs.hermes.mounts[1][key] = second;
    });
    expect(problems).toContain(
      `lxcs.hermes.mounts[1].${key}: is nested with lxcs.hermes.mounts[0].${key}; mounts must not contain one another`,
    );
  });

  // Kills: the state mount's container key path emptied (the refusal must say which mount is in the way).
  it("a bulk disk mounted inside the state mount's container path, and the same path, name the state mount", () => {
    const at = (containerPath: string) =>
      problemsOf((r) => (r.lxcs.hermes.mounts[0].containerPath = containerPath)).filter((p) =>
        p.startsWith("lxcs.hermes.mounts[0].containerPath"),
      );
    expect(at("/srv/hermes/bulk")).toEqual([
      "lxcs.hermes.mounts[0].containerPath: is nested with lxcs.hermes.stateMount.containerPath; mounts must not contain one another",
    ]);
    expect(at("/srv/hermes")).toEqual([
      "lxcs.hermes.mounts[0].containerPath: duplicates lxcs.hermes.stateMount.containerPath",
    ]);
  });

  it("the state mount against a bulk disk, both ways", () => {
    expect(
      problemsOf((r) => (r.lxcs.hermes.mounts[0].hostPath = "/var/lib/hermes-lxc/hermes/bulk")),
    ).toContain(
      "lxcs.hermes.mounts[0].hostPath: is nested with lxcs.hermes.stateMount.hostPath; mounts must not contain one another",
    );
    expect(
      problemsOf((r) => {
        r.lxcs.hermes.stateMount.hostPath = "/mnt/pve/hdd/hermes/state";
      }),
    ).toContain(
      "lxcs.hermes.mounts[0].hostPath: is nested with lxcs.hermes.stateMount.hostPath; mounts must not contain one another",
    );
  });

  it("two LXCs may not share a state directory (each would re-own the other's agents' data)", () => {
    expect(
      problemsOf((r) => {
        r.proxmox.nodes.pve2 = { address: "10.1.10.3", hostKey: r.proxmox.nodes.gihyeon.hostKey };
        r.lxcs.second = {
          ...JSON.parse(JSON.stringify(r.lxcs.hermes)),
          node: "pve2",
          vmId: 119,
          mounts: [],
        };
      }),
    ).toContainEqual(
      expect.stringMatching(
        /^lxcs\.second\.stateMount\.hostPath: uses the same host directory as lxcs\.hermes/,
      ),
    );
  });
});

// What a published port is reachable from is an access rule: the dashboard stays on the Docker host's loopback
// unless the stack says otherwise, the API server (key-protected) on every address, each on its own port.
describe("published ports, as the container publishes them", () => {
  function portsOf(edit: (r: Mutable) => void) {
    const raw = homelabWithSecrets() as Mutable;
    edit(raw);
    const parsed = parseStackConfig(raw, { readFile: readProjectFile });
    return gatewayContainerSpec(parsed.config.agents[0], { maxSize: "10m", maxFile: 3 }).ports;
  }

  it("the defaults: API server 0.0.0.0:8642, dashboard 127.0.0.1:9119 (reached through ssh -L)", () => {
    expect(
      portsOf((r) => {
        r.agents.hermes.apiServer = { enabled: true };
        r.agentSecrets.hermes.apiServerKey = "0123456789abcdef0123";
        r.agents.hermes.dashboard = { enabled: true, basicAuthUser: "admin" };
        r.agentSecrets.hermes.dashboardPassword = "dash-pw";
      }),
    ).toEqual([
      { internal: 8642, external: 8642, ip: "0.0.0.0", protocol: "tcp" },
      { internal: 9119, external: 9119, ip: "127.0.0.1", protocol: "tcp" },
    ]);
  });

  it("nothing is published unless enabled", () => {
    expect(portsOf(() => {})).toEqual([]);
  });

  it("a configured bind and port are the ones published", () => {
    expect(
      portsOf((r) => {
        r.agents.hermes.dashboard = { enabled: true, basicAuthUser: "admin", bind: "10.1.10.57", port: 9200 };
        r.agentSecrets.hermes.dashboardPassword = "dash-pw";
      }),
    ).toEqual([{ internal: 9119, external: 9200, ip: "10.1.10.57", protocol: "tcp" }]);
  });
});

// The host-directory rule (lib/validators hostPathProblem) on each path by which a host directory reaches the
// gateway: an LXC's state mount and bulk disks, a Docker host's dataRoot, and a Docker-host agent's workspace mount.
describe("host directories, on every path to the gateway", () => {
  const withBox = (r: Mutable) => {
    r.dockerHosts = { box: { address: "10.1.10.50", hostKey: r.proxmox.nodes.gihyeon.hostKey } };
    r.agents.other = { dockerHost: "box" };
  };
  it.each([
    ["lxcs.hermes.stateMount.hostPath", (r: Mutable) => (r.lxcs.hermes.stateMount.hostPath = "/etc/hermes")],
    ["lxcs.hermes.mounts[0].hostPath", (r: Mutable) => (r.lxcs.hermes.mounts[0].hostPath = "/etc/hermes")],
    [
      "dockerHosts.box.dataRoot",
      (r: Mutable) => {
        withBox(r);
        r.dockerHosts.box.dataRoot = "/etc/hermes";
      },
    ],
    [
      "agents.other.workspaceMounts[0].source",
      (r: Mutable) => {
        withBox(r);
        r.agents.other.workspaceMounts = [{ source: "/etc/hermes" }];
      },
    ],
  ])("%s may not be inside /etc", (at, edit) => {
    expect(problemsOf(edit)).toContainEqual(
      expect.stringMatching(new RegExp(`^${at.replace(/[.[\]]/g, "\\$&")}: .*must not be inside /etc`)),
    );
  });

  it("a Docker-host agent's workspace mount of a dedicated directory is fine; Docker's own tree is not", () => {
    expect(
      problemsOf((r) => {
        withBox(r);
        r.agents.other.workspaceMounts = [{ source: "/tank/media" }];
      }),
    ).toEqual([]);
    expect(
      problemsOf((r) => {
        withBox(r);
        r.agents.other.workspaceMounts = [{ source: "/var/lib/docker/volumes/x" }];
      }),
    ).toEqual([
      "agents.other.workspaceMounts[0].source: on a Docker host this is a host path and must not be inside /var/lib/docker: the node's own files would be re-owned",
    ]);
  });
});
