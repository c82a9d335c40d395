/**
 * One agent's rules (components/config/agentRules.ts), each through the stack as a user writes it: its host and what
 * a typo there is told, its workspace mounts (which directory, where, read-only or not), the secrets it needs, the
 * platforms' warnings about who may talk to it, its documents and the ports it publishes.
 */
import { parseStackConfig } from "../../components/config/stack";
import { problemsOf } from "../helpers/configProblems";
import { homelabWithSecrets, readProjectFile, twoNodeStack } from "../helpers/stackFile";

type Mutable = any;

function parse(edit: (r: Mutable) => void, raw: Mutable = homelabWithSecrets()) {
  edit(raw);
  return parseStackConfig(raw, { readFile: readProjectFile });
}

/** The named agent of the parsed stack. */
function agentOf(edit: (r: Mutable) => void, name = "hermes", raw?: Mutable) {
  const agent = parse(edit, raw).config.agents.find((a) => a.name === name);
  if (!agent) throw new Error(`no agent ${name}`);
  return agent;
}

/** Two Docker hosts (box and wharf, each with its own data root) and an agent on one of them. */
function withDockerHosts(r: Mutable, agentHost = "wharf") {
  const hostKey = r.proxmox.nodes.gihyeon.hostKey;
  r.dockerHosts = {
    box: { address: "10.1.10.50", hostKey, dataRoot: "/srv/box-agents" },
    wharf: { address: "10.1.10.51", hostKey, dataRoot: "/srv/wharf-agents" },
  };
  r.agents.other = { dockerHost: agentHost };
}

describe("an agent's host", () => {
  it("an unknown LXC is refused with the stack's LXCs listed, and nothing else about the agent", () => {
    const problems = problemsOf((r) => (r.agents.hermes.lxc = "hermse"));
    expect(problems).toEqual(["agents.hermes.lxc: is not a key of lxcs (known: hermes)"]);
    // Several: each named, in order, separated.
    const raw = twoNodeStack() as Mutable;
    raw.agents.second.lxc = "hermes3";
    expect(() => parseStackConfig(raw, { readFile: readProjectFile })).toThrow(
      "agents.second.lxc: is not a key of lxcs (known: hermes, hermes2)",
    );
  });

  it("with no LXC at all, the refusal says there is none", () => {
    const problems = problemsOf((r) => {
      r.lxcs = {};
      r.lxcSecrets = {};
    });
    expect(problems).toEqual(["agents.hermes.lxc: is not a key of lxcs (known: none)"]);
  });

  it("an unknown Docker host is refused with the stack's Docker hosts listed (or none)", () => {
    expect(problemsOf((r) => withDockerHosts(r, "wharff"))).toEqual([
      "agents.other.dockerHost: is not a key of dockerHosts (known: box, wharf)",
    ]);
    expect(problemsOf((r) => (r.agents.other = { dockerHost: "box" }))).toEqual([
      "agents.other.dockerHost: is not a key of dockerHosts (known: none)",
    ]);
  });

  it("an agent on the second of two Docker hosts runs there, in that host's data root", () => {
    const agent = agentOf((r) => withDockerHosts(r, "wharf"), "other");
    expect(agent.target).toEqual({ kind: "dockerHost", name: "wharf" });
    expect(agent.dataDir).toBe("/srv/wharf-agents/other");
    const first = agentOf((r) => withDockerHosts(r, "box"), "other");
    expect(first.target).toEqual({ kind: "dockerHost", name: "box" });
    expect(first.dataDir).toBe("/srv/box-agents/other");
  });

  it("an agent whose host is refused is not checked against its own placeholder (mounts, ports, data directory)", () => {
    // A workspace mount of a Docker-host agent is a host path, not a mount name of some LXC; with the host unknown
    // there is nothing to say about it. Two such agents do not share a machine either.
    const problems = problemsOf((r) => {
      withDockerHosts(r, "nope");
      r.agents.other.workspaceMounts = [{ source: "/tank/media" }];
      r.agents.third = {
        lxc: "nope",
        workspaceMounts: [{ source: "data" }],
        apiServer: { enabled: true, port: 22 },
      };
      r.agentSecrets.third = { apiServerKey: "0123456789abcdef" };
    });
    expect(problems).toEqual([
      "agents.other.dockerHost: is not a key of dockerHosts (known: box, wharf)",
      "agents.third.lxc: is not a key of lxcs (known: hermes)",
    ]);
  });
});

describe("workspace mounts", () => {
  it("by default, each of the LXC's mounts under /opt/data/workspace/<name>, read-only where the LXC's is", () => {
    const agent = agentOf((r) => (r.lxcs.hermes.mounts[1].readOnly = true));
    expect(agent.workspaceMounts).toEqual([
      { source: "/data", target: "/opt/data/workspace/data", readOnly: false },
      { source: "/fast", target: "/opt/data/workspace/fast", readOnly: true },
    ]);
  });

  it("a named mount of the LXC is its container path; a read-only LXC mount stays read-only in the agent", () => {
    const agent = agentOf((r) => {
      r.lxcs.hermes.mounts[1].readOnly = true;
      r.agents.hermes.workspaceMounts = [{ source: "fast" }, { source: "data", target: "/opt/data/d" }];
    });
    expect(agent.workspaceMounts).toEqual([
      { source: "/fast", target: "/opt/data/workspace/fast", readOnly: true },
      { source: "/data", target: "/opt/data/d", readOnly: false },
    ]);
  });

  it("the agent may make a writable LXC mount read-only, not the other way round", () => {
    const agent = agentOf((r) => {
      r.lxcs.hermes.mounts[0].readOnly = true;
      r.agents.hermes.workspaceMounts = [
        { source: "data", readOnly: false },
        { source: "fast", readOnly: true },
      ];
    });
    expect(agent.workspaceMounts.map((m) => [m.source, m.readOnly])).toEqual([
      ["/data", true],
      ["/fast", true],
    ]);
  });

  it("on a Docker host: the host path itself, under /opt/data/workspace/<its last segment>, writable unless said", () => {
    const agent = agentOf((r) => {
      withDockerHosts(r);
      r.agents.other.workspaceMounts = [
        { source: "/tank/media/films" },
        { source: "/tank/books", readOnly: true },
      ];
    }, "other");
    expect(agent.workspaceMounts).toEqual([
      { source: "/tank/media/films", target: "/opt/data/workspace/films", readOnly: false },
      { source: "/tank/books", target: "/opt/data/workspace/books", readOnly: true },
    ]);
  });

  it("two mounts on one target are refused, naming both", () => {
    expect(
      problemsOf(
        (r) =>
          (r.agents.hermes.workspaceMounts = [
            { source: "data", target: "/opt/data/x" },
            { source: "fast", target: "/opt/data/x" },
          ]),
      ),
    ).toEqual([
      "agents.hermes.workspaceMounts[1].target: uses the same target as agents.hermes.workspaceMounts[0].target",
    ]);
  });

  it("a mount name on an LXC without mounts is refused, saying there are none", () => {
    expect(
      problemsOf((r) => {
        r.lxcs.hermes.mounts = [];
        r.agents.hermes.workspaceMounts = [{ source: "data" }];
      }),
    ).toEqual(["agents.hermes.workspaceMounts[0].source: is not a mount name of lxcs.hermes (known: none)"]);
  });
});

describe("platform secrets and access", () => {
  it("a platform secret of the wrong form is refused with its key path (never its value)", () => {
    const problems = problemsOf((r) => {
      r.agents.hermes.platforms.discord = {};
      r.agentSecrets.hermes.discordBotToken = "abc";
    });
    expect(problems).toEqual([
      "agentSecrets.hermes.discordBotToken: is too short to be a real credential (placeholder?)",
    ]);
  });

  it("an open bot is warned about as open, not as unpaired", () => {
    const { warnings } = parse((r) => (r.agents.hermes.platforms.telegram = { allowAllUsers: true }));
    expect(warnings).toContain(
      "agents.hermes.platforms.telegram.allowAllUsers is on: anyone who finds the bot can use the agent and its tools.",
    );
    expect(warnings.join("\n")).not.toMatch(/has no allow-list/);
  });

  it("an allow-listed bot gets neither warning", () => {
    const { warnings } = parse((r) => (r.agents.hermes.platforms.telegram = { allowedUsers: ["12345678"] }));
    expect(warnings.join("\n")).not.toMatch(/platforms\.telegram/);
  });

  it("a platform the published image lacks is refused on it, only warned about on another image", () => {
    const feishu = (r: Mutable) => {
      r.agents.hermes.platforms.feishu = { appId: "cli_0123456789", allowAllUsers: true };
      r.agentSecrets.hermes.feishuAppSecret = "0123456789abcdef";
    };
    expect(problemsOf(feishu)).toEqual([
      "agents.hermes.platforms.feishu: the nousresearch/hermes-agent image does not ship the Feishu/Lark SDK " +
        "(pyproject extra `feishu`: lark-oapi) and installs nothing at runtime (HERMES_DISABLE_LAZY_INSTALLS=1), so " +
        "hermes cannot connect it; set agents.hermes.image to an image that has it",
    ]);
    const { warnings } = parse((r) => {
      feishu(r);
      r.agents.hermes.image = "ghcr.io/me/hermes-agent";
    });
    expect(warnings.filter((w) => w.includes("must ship"))).toEqual([
      "agents.hermes.platforms.feishu: agents.hermes.image must ship the Feishu/Lark SDK (pyproject extra `feishu`: lark-oapi) (the published image does not).",
    ]);
  });
});

describe("the agent's own secrets", () => {
  const noKeyWarning =
    "agents.hermes.llm is set but agentSecrets.hermes.llmApiKey is not: config.yaml will carry no api_key.";

  it("an LLM endpoint without a key is warned about; with its key, or with neither, it is not", () => {
    expect(parse((r) => delete r.agentSecrets.hermes.llmApiKey).warnings).toContain(noKeyWarning);
    expect(parse(() => {}).warnings).not.toContain(noKeyWarning);
    const neither = parse((r) => {
      delete r.agentSecrets.hermes.llmApiKey;
      delete r.agents.hermes.llm;
    });
    expect(neither.warnings.join("\n")).not.toMatch(/llmApiKey/);
  });

  it("an LLM key without an endpoint is refused (it would go nowhere)", () => {
    expect(problemsOf((r) => delete r.agents.hermes.llm)).toEqual([
      "agentSecrets.hermes.llmApiKey: is set but agents.hermes.llm is not; configure the endpoint (baseUrl, model)",
    ]);
  });

  it("the API server needs its key, and says how to set it", () => {
    expect(problemsOf((r) => (r.agents.hermes.apiServer = { enabled: true }))).toEqual([
      "agentSecrets.hermes.apiServerKey: is required because agents.hermes.apiServer.enabled is true. " +
        "Set it with: pulumi config set --secret --path 'agentSecrets.hermes.apiServerKey'",
    ]);
  });

  it("the API server key's floor is 16 characters, inclusive", () => {
    const withKey = (key: string) => (r: Mutable) => {
      r.agents.hermes.apiServer = { enabled: true };
      r.agentSecrets.hermes.apiServerKey = key;
    };
    expect(problemsOf(withKey("0123456789abcdef"))).toEqual([]);
    expect(problemsOf(withKey("0123456789abcde"))).toEqual([
      "agentSecrets.hermes.apiServerKey: must be at least 16 characters (generate one with: openssl rand -hex 32)",
    ]);
  });

  const dashboardProblem = (bindNote: string) =>
    "agents.hermes.dashboard: basicAuthUser and agentSecrets.hermes.dashboardPassword are required: Docker publishes " +
    "the dashboard through the container's network interface, and hermes refuses a non-loopback bind without an " +
    `auth provider. Without basic auth, leave the dashboard off${bindNote}.`;

  it("the dashboard needs both a user and a password, whatever its bind", () => {
    expect(
      problemsOf((r) => (r.agents.hermes.dashboard = { enabled: true, basicAuthUser: "admin" })),
    ).toEqual([dashboardProblem("")]);
    expect(
      problemsOf((r) => {
        r.agents.hermes.dashboard = { enabled: true, bind: "10.1.10.57" };
        r.agentSecrets.hermes.dashboardPassword = "dash-pw";
      }),
    ).toEqual([dashboardProblem("; and a non-loopback bind would expose it")]);
    expect(
      problemsOf((r) => {
        r.agents.hermes.dashboard = { enabled: true, basicAuthUser: "admin" };
        r.agentSecrets.hermes.dashboardPassword = "dash-pw";
      }),
    ).toEqual([]);
  });

  it("auth.json must be JSON (its content is never echoed)", () => {
    const problems = problemsOf((r) => (r.agentSecrets.hermes.authJson = '{"token": "SECRET-x"'));
    expect(problems).toEqual(["agentSecrets.hermes.authJson: is not valid JSON"]);
    expect(problemsOf((r) => (r.agentSecrets.hermes.authJson = '{"token": "SECRET-x"}'))).toEqual([]);
  });

  it("authJsonForceOverwrite without an auth.json is refused", () => {
    expect(problemsOf((r) => (r.agents.hermes.authJsonForceOverwrite = true))).toEqual([
      "agents.hermes.authJsonForceOverwrite: is true but agentSecrets.hermes.authJson is not set",
    ]);
  });
});

describe("MCP references to the .env", () => {
  it("${API_SERVER_KEY} is always there (the image adds it), even with the API server off", () => {
    const { warnings } = parse(
      (r) =>
        (r.agents.hermes.mcpServers = {
          self: { url: "http://127.0.0.1:8642/mcp", headers: { Authorization: "Bearer ${API_SERVER_KEY}" } },
        }),
    );
    expect(warnings.join("\n")).not.toMatch(/API_SERVER_KEY/);
  });
});

describe("documents", () => {
  it("a document read from a file with NUL bytes is refused as not text; a text file is taken as it is", () => {
    const raw = homelabWithSecrets() as Mutable;
    raw.agents.hermes.documents = { "USER.md": { file: "docs/user.md" } };
    const readFile = (content: string) => () => content;
    expect(() => parseStackConfig(raw, { readFile: readFile("binary\0data") })).toThrow(
      expect.objectContaining({
        problems: ['agents.hermes.documents["USER.md"]: must be text (contains NUL bytes)'],
      }),
    );
    const agent = parseStackConfig(raw, { readFile: readFile("plain text") }).config.agents[0];
    expect(agent.documents).toEqual([{ path: "workspace/USER.md", content: "plain text" }]);
  });
});

describe("published ports", () => {
  it("each says what it is for", () => {
    const agent = agentOf((r) => {
      r.agents.hermes.apiServer = { enabled: true };
      r.agentSecrets.hermes.apiServerKey = "0123456789abcdef";
      r.agents.hermes.dashboard = { enabled: true, basicAuthUser: "admin" };
      r.agentSecrets.hermes.dashboardPassword = "dash-pw";
    });
    expect(agent.ports).toEqual([
      { what: "apiServer", containerPort: 8642, hostPort: 8642, bind: "0.0.0.0" },
      { what: "dashboard", containerPort: 9119, hostPort: 9119, bind: "127.0.0.1" },
    ]);
  });
});
