/**
 * An HA LXC under Pulumi mocks: the HA resource and its placement (an HA group on PVE 8, a node-affinity rule on
 * PVE 9) with the configured inputs, `shared=1` on every mount inside shared storage, the host directories prepared
 * once (on the home node, not on every node), and a node-local HA config refused before any resource.
 */
import { haStack } from "../helpers/haStack";
import {
  MockRun,
  T,
  named,
  ofType,
  optionsByLabel,
  optionsOf,
  runProgram,
  unwrapSecrets,
} from "../helpers/mockProgram";
import { homelabWithSecrets } from "../helpers/stackFile";

const HA = {
  resource: "proxmoxve:index/haresource:Haresource",
  group: "proxmoxve:index/hagroup:Hagroup",
  rule: "proxmoxve:index/harule:Harule",
};

describe("an HA LXC on PVE 9", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runProgram(haStack(9));
  });

  it("registers the HA resource and a node-affinity rule, no group", () => {
    expect(ofType(run, HA.group)).toHaveLength(0);
    expect(named(run, "hermes-ha").inputs).toEqual({
      resourceId: "ct:118",
      type: "ct",
      state: "started",
      failback: true,
      maxRestart: 1,
      maxRelocate: 1,
      comment: "hermes-lxc (managed by Pulumi)",
    });
    expect(named(run, "hermes-ha-rule").inputs).toEqual({
      rule: "hermes-hermes",
      type: "node-affinity",
      resources: ["ct:118"],
      nodes: { gihyeon: 2, pve2: 1, pve3: 1 },
      strict: false,
      comment: "hermes-lxc (managed by Pulumi)",
    });
  });

  it("registers the HA resource after the container, and the rule after the resource (Rules.pm checks it)", () => {
    const proxmox = { parent: "HermesLxc:hermes", provider: "proxmox" };
    expect(optionsOf(run, "hermes-ha")).toEqual({ ...proxmox, dependsOn: ["hermes-ct"] });
    expect(optionsOf(run, "hermes-ha-rule")).toEqual({ ...proxmox, dependsOn: ["hermes-ha"] });
  });

  it("names each node's snapshot install by its node; the home node's keeps the unnamed install as its alias", () => {
    const installs = Object.entries(optionsByLabel(run)).filter(([l]) =>
      l.startsWith("hermes-snapshots-install"),
    );
    const command = { additionalSecretOutputs: ["connection"], replaceOnChanges: ["triggers[*]"] };
    const parent = "AgentSnapshots:hermes-snapshots";
    // A stack made before HA (one install, `hermes-snapshots-install`) keeps it: the alias makes the home node's
    // install the same resource, not a create plus a delete (whose uninstall would take the timer away).
    expect(Object.fromEntries(installs)).toEqual({
      "hermes-snapshots-install-gihyeon": {
        parent,
        aliases: [{ name: "hermes-snapshots-install" }],
        ...command,
      },
      "hermes-snapshots-install-pve2": { parent, ...command },
      "hermes-snapshots-install-pve3": { parent, ...command },
    });
    // The snapshot before an upgrade waits for the install where the data is.
    expect(optionsOf(run, "hermes-pre-change-snapshot").dependsOn).toEqual([
      "hermes-image",
      "hermes-snapshots-install-gihyeon",
    ]);
  });

  it("marks every mount on shared storage shared=1, and keeps the container protected", () => {
    const ct = named(run, "hermes-ct");
    expect(ct.type).toBe(T.container);
    expect(ct.inputs.mountPoints).toEqual([
      { volume: "/mnt/pve/nas/hermes/state", path: "/srv/hermes", backup: false, shared: true },
      { volume: "/mnt/pve/nas/hermes/data", path: "/data", readOnly: false, backup: false, shared: true },
    ]);
    expect(ct.inputs.disk).toEqual({ datastoreId: "ceph", size: 24 });
    expect(ct.inputs.protection).toBe(true);
  });

  it("installs the snapshot commands and timer on every node HA may run the agent on, the same on each", () => {
    const installs = ofType(run, T.command).filter((r) => /^hermes-snapshots-install/.test(r.name));
    const host = (r: { inputs: Record<string, unknown> }) =>
      (unwrapSecrets(r.inputs.connection) as { host: string }).host;
    expect(installs.map((r) => [r.name, host(r)]).sort()).toEqual([
      ["hermes-snapshots-install-gihyeon", "gihyeon.intra"],
      ["hermes-snapshots-install-pve2", "10.1.10.3"],
      ["hermes-snapshots-install-pve3", "10.1.10.4"],
    ]);
    const creates = installs.map((r) => unwrapSecrets(r.inputs.create) as string);
    expect(new Set(creates).size).toBe(1);
    expect(creates[0]).toContain("SNAPSHOT_ROOT='/mnt/pve/nas/hermes-snapshots'");
    expect(creates[0]).toContain("VMID='118'");
    for (const r of installs) expect(r.inputs.delete).toBe(installs[0].inputs.delete);
  });

  it("keeps every node's snapshot install when the home node changes (a move removes none of them)", async () => {
    const raw = haStack(9);
    raw.lxcs.hermes.node = "pve2";
    raw.lxcs.hermes.ha = { nodes: { pve2: 2, gihyeon: 1, pve3: 1 } };
    const moved = await runProgram(raw);
    const names = (r: MockRun) =>
      ofType(r, T.command)
        .map((c) => c.name)
        .filter((n) => n.startsWith("hermes-snapshots-install"))
        .sort();
    expect(names(moved)).toEqual(names(run));
  });

  it("prepares the shared host directories once, through the home node", () => {
    const dirs = ofType(run, T.command).filter((r) => r.name.endsWith("-host-dirs"));
    expect(dirs.map((d) => d.name)).toEqual(["hermes-host-dirs"]);
    const cmd = unwrapSecrets(dirs[0].inputs.create) as string;
    expect(cmd).toContain("OWNED_DIRS='/mnt/pve/nas/hermes/state /mnt/pve/nas/hermes/data'");
    expect((unwrapSecrets(dirs[0].inputs.connection) as { host: string }).host).toBe("gihyeon.intra");
  });
});

describe("an HA LXC on PVE 8", () => {
  it("registers an HA group with the priorities and a resource in it", async () => {
    const raw = haStack(8);
    raw.lxcs.hermes.ha = { group: "agents", failback: false, maxRestart: 2 };
    const run = await runProgram(raw);
    expect(ofType(run, HA.rule)).toHaveLength(0);
    expect(named(run, "hermes-ha-group").inputs).toEqual({
      group: "agents",
      nodes: { gihyeon: 2, pve2: 1, pve3: 1 },
      restricted: false,
      noFailback: true,
      comment: "hermes-lxc (managed by Pulumi)",
    });
    // failback is the group's (noFailback) on PVE 8: the resource has none.
    expect(named(run, "hermes-ha").inputs).toEqual({
      resourceId: "ct:118",
      type: "ct",
      state: "started",
      group: "agents",
      maxRestart: 2,
      maxRelocate: 1,
      comment: "hermes-lxc (managed by Pulumi)",
    });
    // The group exists before the resource names it, and the container before it is made an HA resource.
    const proxmox = { parent: "HermesLxc:hermes", provider: "proxmox" };
    expect(optionsOf(run, "hermes-ha-group")).toEqual(proxmox);
    expect(optionsOf(run, "hermes-ha")).toEqual({ ...proxmox, dependsOn: ["hermes-ct", "hermes-ha-group"] });
  });
});

describe("without ha", () => {
  it("registers no HA resource and no shared flag", async () => {
    const run = await runProgram(homelabWithSecrets());
    for (const t of Object.values(HA)) expect(ofType(run, t)).toHaveLength(0);
    // One node: one install, under its first name (no node in it, no alias).
    expect(ofType(run, T.command).filter((r) => /^hermes-snapshots-install/.test(r.name))).toHaveLength(1);
    expect(optionsOf(run, "hermes-snapshots-install")).toEqual({
      parent: "AgentSnapshots:hermes-snapshots",
      additionalSecretOutputs: ["connection"],
      replaceOnChanges: ["triggers[*]"],
    });
    const mps = named(run, "hermes-ct").inputs.mountPoints as Array<Record<string, unknown>>;
    expect(mps.every((m) => m.shared === undefined)).toBe(true);
  });
});

describe("a node-local HA config", () => {
  it("is refused before any resource is registered", async () => {
    const raw = haStack(9);
    raw.lxcs.hermes.stateMount.hostPath = "/var/lib/hermes-lxc/hermes";
    await expect(runProgram(raw)).rejects.toThrow(/lxcs\.hermes\.stateMount\.hostPath: is node-local/);
  });
});
