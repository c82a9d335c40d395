/**
 * What the components hand their callers, under Pulumi mocks, constructed directly (the program tier sees only what
 * reaches the engine): DockerEngine's ready line and its component outputs, haResources' returned resources, and
 * AgentSnapshots' install names when its caller gives standbys but no home node.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { DockerInstallConfig } from "../../components/config/model";
import type { HaConfig } from "../../components/config/ha";
import { AgentSnapshots } from "../../components/agentSnapshots";
import { DockerEngine } from "../../components/dockerEngine";
import { haResources } from "../../components/haResources";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL1RVTvbWubAiSEQvUwXrwLI1gxVliGnYiJ8wVlyFgZY";
/** What install-docker.sh prints: progress, then `docker-ready ...` last (docs/CONTRACTS.md). */
const INSTALL_STDOUT =
  "Reading package lists...\nrootfs usage: 31% of 8 GiB\ndocker-ready driver=overlay2 version=28.5.1\n";

const registered: Array<{ type: string; name: string }> = [];
let knownHostsDir: string;

beforeAll(async () => {
  knownHostsDir = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-lxc-fields-"));
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "command:remote:Command") state.stdout = INSTALL_STDOUT;
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "hermes-lxc",
    "unit",
    false,
  );
});
afterAll(() => fs.rmSync(knownHostsDir, { recursive: true, force: true }));

const resolve = <V>(o: pulumi.Output<V>) => new Promise<V>((r) => o.apply((v) => (r(v), v)));
const nameOf = (r: pulumi.Resource) => resolve(r.urn).then((urn) => urn.split("::").pop());

const target = { host: "10.1.10.50", port: 22, user: "root", hostKey: HOST_KEY, hostKeyAlias: "unit-box" };
const dockerSettings = (install: boolean) =>
  ({
    install,
    source: "docker-ce",
    dockerCeVersion: "5:28.5.1-1~debian.12~bookworm",
    containerdVersion: "1.7.28-1~debian.12~bookworm",
    logMaxSize: "10m",
    logMaxFile: 3,
  }) as DockerInstallConfig;

describe("DockerEngine", () => {
  it("reads the install step's last line, docker-ready with driver and version, and records it as its output", async () => {
    // registerOutputs is protected: what a component records as its outputs in the state.
    const prototype = pulumi.ComponentResource.prototype as unknown as { registerOutputs(o: object): void };
    const outputs = jest.spyOn(prototype, "registerOutputs");
    try {
      const engine = new DockerEngine("box", {
        target,
        auth: {},
        docker: dockerSettings(true),
        knownHostsDir,
      });
      expect(await resolve(engine.readyLine)).toBe("docker-ready driver=overlay2 version=28.5.1");
      expect(engine.ready).toBe(engine.install);
      const recorded = outputs.mock.calls.find((_, i) => outputs.mock.contexts[i] === engine)?.[0] as
        { readyLine: pulumi.Output<string> } | undefined;
      expect(Object.keys(recorded ?? {})).toEqual(["readyLine"]);
      expect(await resolve(recorded!.readyLine)).toBe("docker-ready driver=overlay2 version=28.5.1");
    } finally {
      outputs.mockRestore();
    }
  });

  it("without the install step: no ready line, and later steps wait for the provider", async () => {
    const engine = new DockerEngine("bare", {
      target: { ...target, hostKeyAlias: "unit-bare" },
      auth: {},
      docker: dockerSettings(false),
      knownHostsDir,
    });
    expect(engine.install).toBeUndefined();
    expect(await resolve(engine.readyLine)).toBe("");
    expect(engine.ready).toBe(engine.provider);
  });
});

describe("haResources", () => {
  const ha = (pveMajor: 8 | 9) =>
    ({
      pveMajor,
      sid: "ct:118",
      placementId: "hermes-hermes",
      nodes: { pve1: 2, pve2: 1 },
      state: "started",
      failback: true,
      maxRestart: 1,
      maxRelocate: 1,
    }) as unknown as HaConfig;

  it.each([
    [9, ["hermes9-ha", "hermes9-ha-rule"]],
    [8, ["hermes8-ha", "hermes8-ha-group"]],
  ] as const)("returns the HA resource first, then its placement (PVE %i)", async (major, names) => {
    const container = new pulumi.ComponentResource("unit:index:Ct", `ct${major}`);
    const made = haResources(`hermes${major}`, ha(major), container, {});
    expect(await Promise.all(made.map(nameOf))).toEqual(names);
  });
});

describe("AgentSnapshots", () => {
  it("given standbys but no home node, keeps the home install's own name (no node in it, no alias)", async () => {
    const snapshots = new AgentSnapshots("solo-snapshots", {
      placement: {
        id: "solo-solo",
        agent: "solo",
        dataPath: "/srv/solo/solo",
        directory: "/srv/snapshots",
        containerName: "hermes-solo",
        settings: { schedule: "daily", keep: 7, maxAgeDays: 30 },
      },
      target,
      auth: {},
      standbys: { pve2: { ...target, host: "10.1.10.3" } },
    });
    expect(await nameOf(snapshots.installed)).toBe("solo-snapshots-install");
    expect(await nameOf(snapshots.standbyInstalls.pve2)).toBe("solo-snapshots-install-pve2");
  });

  it("records its paths, commands and schedule as its outputs, the same values as its fields", async () => {
    const prototype = pulumi.ComponentResource.prototype as unknown as { registerOutputs(o: object): void };
    const outputs = jest.spyOn(prototype, "registerOutputs");
    try {
      const snapshots = new AgentSnapshots("kept-snapshots", {
        placement: {
          id: "kept-kept",
          agent: "kept",
          dataPath: "/srv/kept/kept",
          directory: "/srv/snapshots",
          containerName: "hermes-kept",
          settings: { schedule: "hourly", keep: 24, maxAgeDays: 14 },
        },
        target,
        auth: {},
        sshCommand: "ssh root@10.1.10.50",
      });
      const recorded = outputs.mock.calls.find((_, i) => outputs.mock.contexts[i] === snapshots)?.[0] as
        Record<string, unknown> | undefined;
      expect(recorded).toEqual({
        directory: "/srv/snapshots/kept",
        restoreLatestCommand: snapshots.restoreLatestCommand,
        listCommand: snapshots.listCommand,
        snapshotNowCommand: snapshots.snapshotNowCommand,
        eraseCommand: snapshots.eraseCommand,
        schedule: "hourly; keep 24, at most 14 days",
      });
      expect(snapshots.directory).toBe("/srv/snapshots/kept");
      expect(snapshots.schedule).toBe("hourly; keep 24, at most 14 days");
    } finally {
      outputs.mockRestore();
    }
  });
});
