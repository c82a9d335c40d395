/**
 * Resource options, resource by resource, as a stack transformation records them under mocks (see
 * tests/helpers/mockProgram.ts). The options are where the program keeps user data and secrets safe without any
 * input showing it: `protect` and `deleteBeforeReplace` on the LXC, `retainOnDelete` on the template,
 * `additionalSecretOutputs` on the step that reads .env, `deleteBeforeReplace` on the fixed-name gateway, and the
 * `dependsOn` chain that orders host directories before the container and a snapshot before the upgrade touches
 * /opt/data. Each table is exact: an option lost, added or reordered fails it.
 */
import { homelabWithSecrets } from "../helpers/stackFile";
import {
  MockRun,
  RecordedOptions,
  T,
  ofType,
  optionsByLabel,
  optionsOf,
  runProgram,
  unwrapSecrets,
} from "../helpers/mockProgram";

type Mutable = any;

/** What @pulumi/command itself adds to every remote command (its schema marks the connection secret). */
const COMMAND = { additionalSecretOutputs: ["connection"], replaceOnChanges: ["triggers[*]"] };

/** The homelab stack: one LXC, one agent, every resource's options. */
const HOMELAB: Record<string, RecordedOptions> = {
  proxmox: { additionalSecretOutputs: ["apiToken", "authTicket", "csrfPreventionToken", "password"] },
  "HermesLxc:hermes": {},
  // The template outlives the stack: a re-download must never cascade into replacing the container.
  "hermes-template": { parent: "HermesLxc:hermes", provider: "proxmox", retainOnDelete: true },
  // No delete command (the directories hold user data), and nothing before it.
  "hermes-host-dirs": { parent: "HermesLxc:hermes", ...COMMAND },
  // A replacement destroys the rootfs: protected; the fixed VMID must be free before the new one is created; the
  // bind-mount directories exist, owned by the mapped uid, before the container starts.
  "hermes-ct": {
    parent: "HermesLxc:hermes",
    provider: "proxmox",
    dependsOn: ["hermes-host-dirs", "hermes-template"],
    protect: true,
    deleteBeforeReplace: true,
    // An import cannot read them back: without this, the up after it plans a replacement (or a reboot).
    ignoreChanges: ["operatingSystem.templateFileId", "initialization.userAccount", "console"],
  },
  "hermes-raw-lxc-config": { parent: "HermesLxc:hermes", dependsOn: ["hermes-ct"], ...COMMAND },
  "hermes-ready": { parent: "HermesLxc:hermes", dependsOn: ["hermes-raw-lxc-config"], ...COMMAND },
  "DockerEngine:hermes-docker": { parent: "HermesLxc:hermes", dependsOn: ["hermes-ready"] },
  "hermes-docker-install-docker": { parent: "DockerEngine:hermes-docker", ...COMMAND },
  "hermes-docker-docker": {
    parent: "DockerEngine:hermes-docker",
    dependsOn: ["hermes-docker-install-docker"],
  },
  "HermesGateway:hermes": {},
  "AgentSnapshots:hermes-snapshots": { parent: "HermesGateway:hermes" },
  "hermes-snapshots-install": { parent: "AgentSnapshots:hermes-snapshots", ...COMMAND },
  "hermes-image": {
    parent: "HermesGateway:hermes",
    provider: "hermes-docker-docker",
    dependsOn: ["hermes-docker-install-docker"],
  },
  // The way back exists (the snapshot commands are installed) and is taken before anything touches /opt/data.
  "hermes-pre-change-snapshot": {
    parent: "HermesGateway:hermes",
    dependsOn: ["hermes-image", "hermes-snapshots-install"],
    ...COMMAND,
  },
  // Its stdout and stderr may echo what it wrote (.env, auth.json): secret in state.
  "hermes-files": {
    parent: "HermesGateway:hermes",
    dependsOn: ["hermes-docker-install-docker", "hermes-pre-change-snapshot"],
    additionalSecretOutputs: ["stdout", "stderr", "connection"],
    replaceOnChanges: ["triggers[*]"],
  },
  "hermes-config-migration": {
    parent: "HermesGateway:hermes",
    dependsOn: ["hermes-files", "hermes-image"],
    ...COMMAND,
  },
  // A fixed container name: the old container goes before the new one takes it.
  "hermes-gateway": {
    parent: "HermesGateway:hermes",
    provider: "hermes-docker-docker",
    dependsOn: ["hermes-files", "hermes-config-migration"],
    deleteBeforeReplace: true,
  },
  "hermes-health": {
    parent: "HermesGateway:hermes",
    dependsOn: ["hermes-gateway", "hermes-files"],
    ...COMMAND,
  },
  "hermes-prune-images": { parent: "HermesGateway:hermes", dependsOn: ["hermes-health"], ...COMMAND },
};

describe("resource options", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runProgram(homelabWithSecrets());
  });

  it("are exactly the table's for every resource of the homelab stack", () => {
    expect(optionsByLabel(run)).toEqual(HOMELAB);
  });

  it("destroy deletes no data: the one remote delete command removes the agent's timer and conf, nothing else", () => {
    const deletes = ofType(run, T.command)
      .filter((c) => c.inputs.delete !== undefined)
      .map((c) => [c.name, unwrapSecrets(c.inputs.delete)]);
    expect(deletes).toEqual([
      [
        "hermes-snapshots-install",
        "systemctl disable --now hermes-lxc-snapshot-hermes-hermes.timer >/dev/null 2>&1 || true; " +
          "rm -f '/etc/systemd/system/hermes-lxc-snapshot-hermes-hermes.timer' " +
          "'/etc/systemd/system/hermes-lxc-snapshot-hermes-hermes.service' '/etc/hermes-lxc/snapshots/hermes-hermes.conf'; " +
          "systemctl daemon-reload >/dev/null 2>&1 || true",
      ],
    ]);
    // Neither the gateway nor its image goes with its volumes or from the host's image cache.
    expect(run.resources.find((r) => r.name === "hermes-gateway")!.inputs.removeVolumes).toBe(false);
    expect(run.resources.find((r) => r.name === "hermes-image")!.inputs.keepLocally).toBe(true);
  });

  it("keep the LXC protected by Pulumi and by Proxmox, with one switch", () => {
    expect(optionsOf(run, "hermes-ct").protect).toBe(true);
    expect(run.resources.find((r) => r.name === "hermes-ct")!.inputs.protection).toBe(true);
  });
});

describe("resource options that follow the stack config", () => {
  it("an LXC with protect: false is neither Pulumi-protected nor Proxmox-protected, and still replaced delete-first", async () => {
    const raw = homelabWithSecrets() as Mutable;
    raw.lxcs.hermes.protect = false;
    const run = await runProgram(raw);
    expect(optionsOf(run, "hermes-ct")).toMatchObject({ protect: false, deleteBeforeReplace: true });
    expect(run.resources.find((r) => r.name === "hermes-ct")!.inputs.protection).toBe(false);
  });

  it("a CT already on its node but not in the state: the container's create is bound to the hook that refuses it", async () => {
    // What GET /cluster/resources shows when the state lost the CT (a plain refresh dropped it) but Proxmox runs it.
    const cluster = {
      guests: [{ vmid: 118, node: "gihyeon", type: "lxc", status: "running" }],
      nodes: { gihyeon: "online" },
    };
    const run = await runProgram(homelabWithSecrets(), { cluster });
    const { hooks, ...rest } = optionsOf(run, "hermes-ct") as {
      hooks?: Record<string, Array<{ name: string }>>;
    };
    expect(Object.keys(hooks ?? {})).toEqual(["beforeCreate"]);
    expect(hooks!.beforeCreate.map((h) => h.name)).toEqual(["hermes-ct-exists"]);
    // The hook is the only difference: every other option is the homelab table's.
    expect(rest).toEqual(HOMELAB["hermes-ct"]);
  });

  it("an existing template: no download, the container waits on the host directories alone", async () => {
    const raw = homelabWithSecrets() as Mutable;
    raw.lxcs.hermes.template = { fileId: "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst" };
    const run = await runProgram(raw);
    expect(run.resources.some((r) => r.name === "hermes-template")).toBe(false);
    expect(optionsOf(run, "hermes-ct")).toMatchObject({ dependsOn: ["hermes-host-dirs"], protect: true });
  });

  it("a second agent on the LXC gets the same safety options, under its own name", async () => {
    const raw = homelabWithSecrets() as Mutable;
    raw.agents.second = { lxc: "hermes" };
    const run = await runProgram(raw);
    expect(optionsByLabel(run)["second-files"]).toEqual({
      parent: "HermesGateway:second",
      dependsOn: ["hermes-docker-install-docker", "second-pre-change-snapshot"],
      additionalSecretOutputs: ["stdout", "stderr", "connection"],
      replaceOnChanges: ["triggers[*]"],
    });
    expect(optionsByLabel(run)["second-gateway"]).toEqual({
      parent: "HermesGateway:second",
      provider: "hermes-docker-docker",
      dependsOn: ["second-files", "second-config-migration"],
      deleteBeforeReplace: true,
    });
  });

  it("an existing Docker host: the agent's steps wait on its install step, or on its provider when Docker is not installed there", async () => {
    const raw = homelabWithSecrets() as Mutable;
    raw.dockerHosts = {
      box: { address: "10.1.10.50", hostKey: raw.proxmox.nodes.gihyeon.hostKey, docker: { install: true } },
      // Docker hosts default to `install: false` (Docker is the host owner's).
      bare: { address: "10.1.10.51", hostKey: raw.proxmox.nodes.gihyeon.hostKey },
    };
    raw.agents.other = { dockerHost: "box" };
    raw.agents.third = { dockerHost: "bare" };
    const run = await runProgram(raw);
    const options = optionsByLabel(run);
    expect(options["DockerEngine:box"]).toEqual({});
    expect(options["box-docker"]).toEqual({ parent: "DockerEngine:box", dependsOn: ["box-install-docker"] });
    expect(options["other-image"].dependsOn).toEqual(["box-install-docker"]);
    expect(options["other-files"]).toMatchObject({
      dependsOn: ["box-install-docker", "other-pre-change-snapshot"],
      additionalSecretOutputs: ["stdout", "stderr", "connection"],
    });
    expect(options["bare-docker"]).toEqual({ parent: "DockerEngine:bare", dependsOn: [] });
    expect(options["third-image"].dependsOn).toEqual(["bare-docker"]);
    expect(options["third-gateway"]).toMatchObject({ deleteBeforeReplace: true });
  });
});
