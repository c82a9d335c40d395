/**
 * What the program's remote commands carry to their hosts, under Pulumi mocks, on every kind of host (an LXC, an HA
 * LXC's standby nodes, an existing Docker host with Docker installed by the program):
 * - no command lets the provider Setenv its previous output on an update or a delete (lib/remoteScript.ts says why);
 * - the Docker install step's parameters, as install-docker.sh reads them, and what makes it run again (a new host
 *   key: a new container, an empty Docker).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_CONTAINERD_VERSION, DEFAULT_DOCKER_CE_VERSION } from "../../components/config/docker";
import { haStack } from "../helpers/haStack";
import {
  CONTAINER_HOST_KEY,
  MockRun,
  T,
  named,
  ofType,
  runProgram,
  unwrapSecrets,
} from "../helpers/mockProgram";
import { homelabWithSecrets, twoNodeStack } from "../helpers/stackFile";

type Mutable = any;

/** A host key of its own (neither the node's nor the one the LXC's readiness step reads). */
const BOX_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL1RVTvbWubAiSEQvUwXrwLI1gxVliGnYiJ8wVlyFgZY";

/** The homelab stack plus Docker hosts with Docker installed by the program: docker-ce defaults, and Debian's. */
function withDockerHosts(): Mutable {
  const raw = homelabWithSecrets() as Mutable;
  raw.dockerHosts = {
    box: { address: "10.1.10.50", hostKey: BOX_KEY, docker: { install: true } },
    deb: {
      address: "10.1.10.51",
      hostKey: raw.proxmox.nodes.gihyeon.hostKey,
      docker: { install: true, source: "debian", logMaxSize: "50m", logMaxFile: 7 },
    },
    pinned: {
      address: "10.1.10.52",
      hostKey: BOX_KEY,
      docker: { install: true, source: "debian", dockerIoVersion: "26.1.5+dfsg1-9+b9" },
    },
  };
  raw.agents.other = { dockerHost: "box" };
  return raw;
}

/** The `NAME='value'` assignments in front of `bash -c` (lib/remoteScript.ts renderRemoteCommand), unquoted. */
function scriptEnv(cmd: string): Record<string, string> {
  const env: Record<string, string> = {};
  const word = /^([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)' /;
  let rest = cmd;
  for (let m = word.exec(rest); m; m = word.exec(rest)) {
    env[m[1]] = m[2].replace(/'\\''/g, "'");
    rest = rest.slice(m[0].length);
  }
  expect(rest.startsWith("bash -c ")).toBe(true);
  return env;
}

const installEnv = (run: MockRun, name: string) =>
  scriptEnv(unwrapSecrets(named(run, name).inputs.create) as string);

describe("every remote command of the program", () => {
  it.each([
    [
      "an LXC, its agent and an existing Docker host's agent",
      withDockerHosts,
      ["hermes-host-dirs", "hermes-raw-lxc-config", "hermes-ready", "hermes-docker-install-docker"],
      ["box-install-docker", "other-files", "other-snapshots-install", "other-prune-images"],
    ],
    [
      "an HA LXC, with its standby nodes' snapshot installs",
      () => haStack(9),
      ["hermes-snapshots-install-gihyeon", "hermes-snapshots-install-pve2", "hermes-pre-change-snapshot"],
      ["hermes-config-migration", "hermes-health"],
    ],
  ])("keeps its previous output out of the next run's environment: %s", async (_what, stack, some, more) => {
    const run = await runProgram(stack());
    const commands = ofType(run, T.command);
    // Every kind of step is among them: the node's, the LXC's, a Docker host's, the gateway's and the snapshots'.
    expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining([...some, ...more]));
    const flags = Object.fromEntries(commands.map((c) => [c.name, c.inputs.addPreviousOutputInEnv]));
    expect(flags).toEqual(Object.fromEntries(commands.map((c) => [c.name, false])));
  });
});

describe("the Docker install step", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runProgram(withDockerHosts());
  });

  it("installs the pinned docker-ce by default, with the log rotation and the packages the agent files need", () => {
    const common = {
      DOCKER_SOURCE: "docker-ce",
      DOCKER_CE_VERSION: DEFAULT_DOCKER_CE_VERSION,
      CONTAINERD_VERSION: DEFAULT_CONTAINERD_VERSION,
      DOCKER_IO_VERSION: "",
      DOCKER_LOG_MAX_SIZE: "10m",
      DOCKER_LOG_MAX_FILE: "3",
      EXTRA_PACKAGES: "python3 python3-yaml",
    };
    expect(installEnv(run, "hermes-docker-install-docker")).toEqual(common);
    expect(installEnv(run, "box-install-docker")).toEqual(common);
  });

  it("installs Debian's docker.io: the candidate when no version is pinned (empty), else the pinned one", () => {
    expect(installEnv(run, "deb-install-docker")).toMatchObject({
      DOCKER_SOURCE: "debian",
      DOCKER_IO_VERSION: "",
      DOCKER_LOG_MAX_SIZE: "50m",
      DOCKER_LOG_MAX_FILE: "7",
    });
    expect(installEnv(run, "pinned-install-docker")).toMatchObject({
      DOCKER_SOURCE: "debian",
      DOCKER_IO_VERSION: "26.1.5+dfsg1-9+b9",
    });
  });

  it("runs again on a new host key (a re-created LXC has an empty Docker): the key is its trigger", () => {
    // The LXC's: the key its readiness step read through the node; a Docker host's: its configured key.
    expect(unwrapSecrets(named(run, "hermes-docker-install-docker").inputs.triggers)).toEqual([
      CONTAINER_HOST_KEY,
    ]);
    expect(unwrapSecrets(named(run, "box-install-docker").inputs.triggers)).toEqual([BOX_KEY]);
    const raw = withDockerHosts();
    expect(unwrapSecrets(named(run, "deb-install-docker").inputs.triggers)).toEqual([
      raw.proxmox.nodes.gihyeon.hostKey,
    ]);
  });

  it("the LXC's raw config and readiness steps run again on a re-created container: its id is their trigger", () => {
    // A new CT has a fresh conf file without the raw lines, and a new host key to read.
    const ct = named(run, "hermes-ct");
    expect(ct.type).toBe("proxmoxve:index/containerLegacy:ContainerLegacy");
    for (const step of ["hermes-raw-lxc-config", "hermes-ready"])
      expect(unwrapSecrets(named(run, step).inputs.triggers)).toEqual(["hermes-ct-id"]);
  });
});

describe("the Docker host an agent's image and container belong to", () => {
  it("is its pinned key's digest, the same on the image's trigger and the container's label, and per host", async () => {
    const run = await runProgram(withDockerHosts());
    // A fixed 16-hex digest: a change of its form would re-create every gateway of every existing stack.
    const digest = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 16);
    const hostOf = (agent: string) => {
      const image = unwrapSecrets(named(run, `${agent}-image`).inputs.triggers);
      const labels = unwrapSecrets(named(run, `${agent}-gateway`).inputs.labels) as Array<{
        label: string;
        value: string;
      }>;
      const label = labels.find((l) => l.label === "hermes-lxc.docker-host")?.value;
      expect(image).toEqual({ dockerHost: label });
      return label;
    };
    expect(hostOf("hermes")).toBe(digest(CONTAINER_HOST_KEY));
    expect(hostOf("other")).toBe(digest(BOX_KEY));
  });

  it("the gateway container must run (a stopped one is a failed deploy) and keeps its volumes on removal", async () => {
    const run = await runProgram(homelabWithSecrets());
    expect(named(run, "hermes-gateway").inputs).toMatchObject({ mustRun: true, removeVolumes: false });
  });

  it("the node's pinned key is written where the node's pasteable commands look for it", async () => {
    const run = await runProgram(homelabWithSecrets());
    const restore = (run.outputs.agents as Record<string, { snapshots: { restoreLatest: string } }>).hermes
      .snapshots.restoreLatest;
    const file = /UserKnownHostsFile='?([^' ]+)'?/.exec(restore)![1];
    expect(path.dirname(file)).toBe(run.knownHostsDir);
    const nodeKey = (homelabWithSecrets() as Mutable).proxmox.nodes.gihyeon.hostKey as string;
    expect(fs.readFileSync(file, "utf8")).toBe(`${path.basename(file)} ${nodeKey}\n`);
  });

  it("each node's key is pinned under its own alias: two nodes never share a known_hosts entry", async () => {
    const raw = twoNodeStack() as Mutable;
    raw.proxmox.nodes.pve2.hostKey = BOX_KEY;
    const run = await runProgram(raw);
    const agents = run.outputs.agents as Record<string, { snapshots: { restoreLatest: string } }>;
    const pinned = (agent: string) => {
      const cmd = agents[agent].snapshots.restoreLatest;
      const alias = /HostKeyAlias='?([^' ]+)'?/.exec(cmd)![1];
      const file = /UserKnownHostsFile='?([^' ]+)'?/.exec(cmd)![1];
      return { alias, file, content: fs.readFileSync(file, "utf8") };
    };
    const home = pinned("hermes");
    const other = pinned("second");
    expect(home.alias).toMatch(/\.node-gihyeon$/);
    expect(other.alias).toMatch(/\.node-pve2$/);
    expect(home.file).not.toBe(other.file);
    expect(home.content).toBe(`${home.alias} ${raw.proxmox.nodes.gihyeon.hostKey}\n`);
    expect(other.content).toBe(`${other.alias} ${BOX_KEY}\n`);
  });
});
