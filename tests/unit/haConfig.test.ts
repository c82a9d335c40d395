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
