/** components/gateway/snapshotScripts.ts: the snapshot, restore and pre-change command lines the program builds. */
import {
  DEFAULT_SNAPSHOT_PATHS,
  SnapshotPlacement,
  preChangeSnapshotCommand,
  IMAGE_STATE_DIR,
  restoreCommand,
  snapshotCommand,
  snapshotInstallEnv,
} from "../../components/gateway/snapshotScripts";

const P: SnapshotPlacement = {
  id: "hermes-hermes",
  agent: "hermes",
  dataPath: "/srv/hermes/hermes",
  directory: "/mnt/pve/hdd/hermes-snapshots",
  containerName: "hermes-hermes",
  settings: { schedule: "daily", keep: 7, maxAgeDays: 30 },
};
const BIN = DEFAULT_SNAPSHOT_PATHS.binDir;

describe("snapshot command lines", () => {
  it("a snapshot label is one word of [a-z0-9-], whole: anything else is refused, never put in the command", () => {
    expect(snapshotCommand(P, "pre-upgrade")).toBe(`${BIN}/hermes-lxc-snapshot hermes-hermes pre-upgrade`);
    expect(snapshotCommand(P, "a".repeat(32))).toBe(
      `${BIN}/hermes-lxc-snapshot hermes-hermes ${"a".repeat(32)}`,
    );
    for (const bad of ["x;reboot", ";x", "x;", "-x", "", "A", "a".repeat(33), "x y"])
      expect(() => snapshotCommand(P, bad)).toThrow(`snapshot label must be [a-z0-9-]: ${bad}`);
  });

  it("restore takes the latest snapshot unless told otherwise, its argument quoted", () => {
    expect(restoreCommand(P)).toBe(`${BIN}/hermes-lxc-restore hermes-hermes 'latest'`);
    expect(restoreCommand(P, "list")).toBe(`${BIN}/hermes-lxc-restore hermes-hermes 'list'`);
  });

  it("the pre-change snapshot carries a whole sha256 hex digest only", () => {
    const digest = "0123456789abcdef".repeat(4);
    expect(preChangeSnapshotCommand(P, digest)).toBe(
      `HERMES_LXC_CHANGE=${digest} ${BIN}/hermes-lxc-snapshot hermes-hermes pre-change`,
    );
    for (const bad of [`x${digest}`, `${digest}x`, `${digest};reboot`, digest.slice(1), digest.toUpperCase()])
      expect(() => preChangeSnapshotCommand(P, bad)).toThrow(
        "the pre-change digest must be a sha256 hex digest",
      );
  });
});

describe("the snapshot install's environment", () => {
  it("names no VMID on a Docker host (restore then runs docker itself) and the LXC's on a node (restore uses pct exec)", () => {
    expect(snapshotInstallEnv(P).VMID).toBe("");
    expect(snapshotInstallEnv({ ...P, vmId: 101 }).VMID).toBe(101);
  });

  it("installs into Debian's places for a local administrator, its library in its own directory", () => {
    expect(snapshotInstallEnv(P)).toMatchObject({
      BIN_DIR: "/usr/local/sbin",
      LIB_DIR: "/usr/local/lib/hermes-lxc",
      CONF_DIR: "/etc/hermes-lxc/snapshots",
      UNIT_DIR: "/etc/systemd/system",
    });
    // prune-gateway-images.sh's records live beside the other state hermes-lxc keeps on the host, never in /.
    expect(IMAGE_STATE_DIR).toBe("/var/lib/hermes-lxc/images");
  });
});
