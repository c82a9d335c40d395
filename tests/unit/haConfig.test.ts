/**
 * `lxcs.<n>.ha`, `proxmox.version` and `proxmox.storages`: the defaults, the group/rule choice from the declared
 * PVE version, and each refusal (node-local state, a rootfs neither shared nor replicated, nodes that disagree on a
 * shared path, ...) naming its key path before any resource exists.
 */
import { ConfigError } from "../../components/config/errors";
import { parseStackConfig } from "../../components/config/stack";
import { haStack } from "../helpers/haStack";
import { readProjectFile } from "../helpers/stackFile";

const opts = { readFile: readProjectFile };

function parse(raw: any) {
  try {
    return { ...parseStackConfig(raw, opts), problems: [] as string[] };
  } catch (e) {
    if (e instanceof ConfigError)
      return { problems: e.problems, config: undefined, warnings: [] as string[] };
    throw e;
  }
}
const problems = (mutate: (raw: any) => void, version: 8 | 9 = 9) => {
  const raw = haStack(version);
  mutate(raw);
  return parse(raw).problems;
};

describe("HA config", () => {
  it("an HA-ready stack parses; PVE 9 gets a rule, home node highest, shared=1 on every mount", () => {
    const { config, problems: p } = parse(haStack(9));
    expect(p).toEqual([]);
    const lxc = config!.lxcs[0];
    expect(lxc.ha).toEqual({
      state: "started",
      maxRestart: 1,
      maxRelocate: 1,
      failback: true,
      pveMajor: 9,
      sid: "ct:118",
      nodes: { gihyeon: 2, pve2: 1, pve3: 1 },
      placementId: "hermes-hermes",
    });
    expect(lxc.stateMount.shared).toBe(true);
    expect(lxc.mounts.map((m) => m.shared)).toEqual([true]);
  });

  it("PVE 8 gets a group, named as configured", () => {
    const { config } = parse(
      (() => {
        const r = haStack(8);
        r.lxcs.hermes.ha = { group: "agents", maxRestart: 2, maxRelocate: 3, state: "stopped" };
        return r;
      })(),
    );
    expect(config!.lxcs[0].ha).toMatchObject({
      pveMajor: 8,
      placementId: "agents",
      maxRestart: 2,
      maxRelocate: 3,
      state: "stopped",
    });
  });

  it("without ha nothing changes: node-local mounts stay allowed and unshared", () => {
    const raw = haStack(9);
    delete raw.lxcs.hermes.ha;
    raw.lxcs.hermes.stateMount.hostPath = "/var/lib/hermes-lxc/hermes";
    const { config, problems: p } = parse(raw);
    expect(p).toEqual([]);
    expect(config!.lxcs[0].ha).toBeUndefined();
    expect(config!.lxcs[0].stateMount.shared).toBe(false);
  });

  it("refuses HA with node-local state", () => {
    expect(problems((r) => (r.lxcs.hermes.stateMount.hostPath = "/var/lib/hermes-lxc/hermes"))).toEqual([
      expect.stringMatching(
        /^lxcs\.hermes\.stateMount\.hostPath: is node-local on gihyeon, pve2, pve3, but lxcs\.hermes\.ha/,
      ),
    ]);
  });

  it("refuses HA with a node-local bulk mount", () => {
    expect(problems((r) => (r.lxcs.hermes.mounts[0].hostPath = "/mnt/pve/hdd/hermes"))).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.mounts\[0\]\.hostPath: is node-local/),
    ]);
  });

  it("refuses HA when one node in ha.nodes lacks the shared storage", () => {
    expect(problems((r) => delete r.proxmox.storages.nas.paths.pve3)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^lxcs\.hermes\.stateMount\.hostPath: is node-local on pve3,/),
      ]),
    );
  });

  it("refuses HA with a rootfs neither shared nor replicated", () => {
    expect(problems((r) => (r.lxcs.hermes.rootfs.datastore = "local-lvm"))).toEqual([
      expect.stringMatching(
        /^lxcs\.hermes\.rootfs\.datastore: is declared local; with lxcs\.hermes\.ha the rootfs must be on a shared storage/,
      ),
    ]);
    expect(problems((r) => (r.lxcs.hermes.rootfs.datastore = "undeclared"))).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.rootfs\.datastore: is not declared in proxmox\.storages/),
    ]);
  });

  it("accepts a ZFS-replicated rootfs and warns what a failover loses", () => {
    const raw = haStack(9);
    raw.lxcs.hermes.rootfs.datastore = "local-zfs";
    const { problems: p, warnings } = parse(raw);
    expect(p).toEqual([]);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/replicated, not shared: .* up to 5 minutes of rootfs writes/),
      ]),
    );
  });

  it("refuses two nodes that disagree on a shared path", () => {
    expect(problems((r) => (r.proxmox.storages.nas.paths.pve2 = "/mnt/nas"))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^proxmox\.storages\.nas\.paths\.pve2: disagrees with proxmox\.storages\.nas\.paths\.gihyeon/,
        ),
      ]),
    );
  });

  it("refuses node-local snapshots of an HA LXC", () => {
    expect(problems((r) => delete r.lxcs.hermes.snapshots)).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.snapshots\.directory: is node-local/),
    ]);
  });

  it("requires proxmox.version with HA, and the placement kind that version has", () => {
    expect(problems((r) => delete r.proxmox.version)).toEqual([
      expect.stringMatching(/^proxmox\.version: is required when lxcs\.hermes\.ha is set/),
    ]);
    expect(problems((r) => (r.lxcs.hermes.ha.group = "agents"), 9)).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.ha\.group: PVE 9 replaced HA groups/),
    ]);
    expect(problems((r) => (r.lxcs.hermes.ha.rule = "agents"), 8)).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.ha\.rule: HA rules exist from PVE 9 on/),
    ]);
    expect(problems((r) => (r.proxmox.version = 7))).toEqual([
      expect.stringMatching(/^proxmox\.version: must be 8 or 9/),
    ]);
  });

  it("requires protect with HA (a node change must be a refusal, never a re-creation)", () => {
    expect(problems((r) => (r.lxcs.hermes.protect = false))).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.protect: must be true with lxcs\.hermes\.ha/),
    ]);
  });

  it("requires the home node to have the highest priority and two nodes at least", () => {
    expect(problems((r) => (r.lxcs.hermes.ha.nodes = { gihyeon: 1, pve2: 2 }))).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.ha\.nodes: the home node gihyeon/),
    ]);
    expect(problems((r) => (r.lxcs.hermes.ha.nodes = { gihyeon: 1 }))).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.ha\.nodes: must list at least two nodes/),
    ]);
    expect(problems((r) => (r.lxcs.hermes.ha.nodes = { gihyeon: 2, pve9: 1, pve2: 1 }))).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.ha\.nodes\.pve9: is not a key of proxmox\.nodes/),
    ]);
  });

  it("refuses bad values with the allowed ones", () => {
    expect(problems((r) => (r.lxcs.hermes.ha.state = "running"))).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.ha\.state: must be one of started, stopped, disabled, ignored/),
    ]);
    expect(problems((r) => (r.lxcs.hermes.ha.maxRestart = 11))).toEqual([
      expect.stringMatching(/^lxcs\.hermes\.ha\.maxRestart: must be at most 10/),
    ]);
    expect(problems((r) => (r.proxmox.storages.nas.kind = "nfs"))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^proxmox\.storages\.nas\.kind: must be shared/)]),
    );
  });
});

// Each HA refusal on every branch, with its whole message (the part after the key path says what to do): the
// survivors of the first Stryker run over haRules.ts, each test naming the mutant it kills.
describe("HA refusals, branch by branch", () => {
  const nodeLocal = (key: string, nodes: string) =>
    `lxcs.hermes.${key}: is node-local on ${nodes}, but lxcs.hermes.ha lets HA start the CT there: put it inside a ` +
    "shared storage (proxmox.storages.<id> with kind shared and a path on every node in lxcs.hermes.ha.nodes)";
  const snapshotsLocal =
    "lxcs.hermes.snapshots.directory: is node-local, but lxcs.hermes.ha moves the CT between nodes: the snapshots " +
    "would stay behind (and die with the node); set it inside a shared storage";

  // Kills: `s.kind === "shared"` made true, or `&&` made `||`, in sharedStorageOf; the paths-on-a-non-shared-storage
  // check made false.
  it("a storage that is not shared has no paths, and a path on it shares nothing", () => {
    expect(problems((r) => (r.proxmox.storages.nas.kind = "replicated"))).toEqual([
      "proxmox.storages.nas.paths: only a shared storage has paths on the nodes (this one is replicated)",
      nodeLocal("stateMount.hostPath", "gihyeon, pve2, pve3"),
      nodeLocal("mounts[0].hostPath", "gihyeon, pve2, pve3"),
      snapshotsLocal,
    ]);
  });

  // Kills: the unknown-node check made false, or its loop emptied.
  it("a storage path on a node the cluster does not have", () => {
    expect(problems((r) => (r.proxmox.storages.nas.paths.pve9 = "/mnt/pve/nas"))).toEqual([
      "proxmox.storages.nas.paths.pve9: is not a key of proxmox.nodes (known: gihyeon, pve2, pve3)",
    ]);
  });

  // Kills: the sort of a storage's paths dropped (the odd one out would be named as the reference), and the message's
  // reason emptied.
  it("names the node that disagrees, whatever order the paths were set in", () => {
    const p = problems(
      (r) =>
        (r.proxmox.storages.nas.paths = { pve3: "/mnt/x", pve2: "/mnt/pve/nas", gihyeon: "/mnt/pve/nas" }),
    );
    expect(p).toEqual([
      "proxmox.storages.nas.paths.pve3: disagrees with proxmox.storages.nas.paths.gihyeon: a shared storage must " +
        "be mounted at the same path on every node (a bind mount with shared=1 names one path; Proxmox starts the " +
        "CT with it wherever HA puts it)",
      nodeLocal("stateMount.hostPath", "pve3"),
      nodeLocal("mounts[0].hostPath", "pve3"),
      snapshotsLocal,
    ]);
  });

  // Kills: `every` made `some` for the snapshot directory (one node without the storage is enough to refuse).
  it("one node without the shared storage refuses every path on it, snapshots included", () => {
    expect(problems((r) => delete r.proxmox.storages.nas.paths.pve3)).toEqual([
      nodeLocal("stateMount.hostPath", "pve3"),
      nodeLocal("mounts[0].hostPath", "pve3"),
      snapshotsLocal,
    ]);
  });

  // Kills: `home === undefined` made false (no node outranks an absent home node, so only that check refuses it).
  it("refuses ha.nodes without the home node", () => {
    expect(problems((r) => (r.lxcs.hermes.ha.nodes = { pve2: 2, pve3: 1 }))).toEqual([
      "lxcs.hermes.ha.nodes: the home node gihyeon (lxcs.hermes.node) must be listed with the highest priority, so " +
        "HA returns the CT to the node the stack records (failback)",
    ]);
  });

  it("accepts a tie with the home node, and exactly two nodes", () => {
    const raw = haStack(9);
    raw.lxcs.hermes.ha.nodes = { gihyeon: 1, pve2: 1 };
    const { config, problems: p } = parse(raw);
    expect(p).toEqual([]);
    expect(config!.lxcs[0].ha!.nodes).toEqual({ gihyeon: 1, pve2: 1 });
  });

  // Kills: `pveMajor === 8` made true in the rule check (a PVE 9 rule refused) and in placementId (the rule ignored).
  it("PVE 9 takes a configured rule id", () => {
    const raw = haStack(9);
    raw.lxcs.hermes.ha.rule = "agents";
    const { config, problems: p } = parse(raw);
    expect(p).toEqual([]);
    expect(config!.lxcs[0].ha).toMatchObject({ pveMajor: 9, placementId: "agents" });
  });

  // Kills: `rootfs.kind === "replicated"` made true (a shared rootfs warned about lost writes).
  it("a shared rootfs is not warned about", () => {
    const { warnings } = parse(haStack(9));
    expect(warnings.filter((w) => w.startsWith("lxcs.hermes.rootfs"))).toEqual([]);
  });

  // Kills: each message's tail (what to run, what to set) emptied.
  it("each refusal says what to do", () => {
    expect(problems((r) => delete r.proxmox.version)).toEqual([
      "proxmox.version: is required when lxcs.hermes.ha is set (8: HA groups, 9: HA rules): read it with " +
        "`pveversion` on a node, then: pulumi config set --path proxmox.version 9",
    ]);
    expect(problems((r) => (r.lxcs.hermes.protect = false))).toEqual([
      "lxcs.hermes.protect: must be true with lxcs.hermes.ha: a changed lxcs.hermes.node makes the provider " +
        "re-create the container (nodeName is ForceNew); protection turns that into a refusal (README, Cluster and HA)",
    ]);
    expect(problems((r) => (r.lxcs.hermes.rootfs.datastore = "local-lvm"))).toEqual([
      "lxcs.hermes.rootfs.datastore: is declared local; with lxcs.hermes.ha the rootfs must be on a shared storage " +
        "(kind shared) or a ZFS pool replicated by pvesr (kind replicated)",
    ]);
    expect(problems((r) => delete r.lxcs.hermes.snapshots)).toEqual([snapshotsLocal]);
    const raw = haStack(9);
    raw.lxcs.hermes.rootfs.datastore = "local-zfs";
    expect(parse(raw).warnings).toContain(
      "lxcs.hermes.rootfs.datastore is replicated, not shared: after a node loss HA starts the CT from the last " +
        "replica, so up to 5 minutes of rootfs writes (Docker images, logs) are lost; the agents' state is on " +
        "shared storage and loses nothing.",
    );
  });
});
