/**
 * The `snapshots` block of LXCs and Docker hosts: defaults, the schedule subset of systemd's OnCalendar, retention
 * bounds, and where snapshots may not go (system trees, bind-mounted directories), each refusal naming its key path.
 * Plus the pure pieces the components build on: what triggers a pre-change snapshot, the installed commands.
 */
import { spawnSync } from "node:child_process";
import { parseStackConfig } from "../../components/config/stack";
import { scheduleProblem, snapshotDirectory } from "../../components/config/snapshots";
import { gatewayContainerSpec } from "../../components/gateway/gatewaySpec";
import {
  preChangeSnapshotCommand,
  recreateDigest,
  restoreCommand,
  snapshotInstallEnv,
} from "../../components/gateway/snapshotScripts";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";
import { problemsOf } from "../helpers/configProblems";

type Mutable = any;
const opts = { readFile: readProjectFile };

const withDockerHost = (raw: Mutable, snapshots: unknown) => {
  raw.dockerHosts = {
    box: {
      address: "192.0.2.10",
      hostKey: raw.proxmox.nodes.gihyeon.hostKey,
      dataRoot: "/srv/agents",
      snapshots,
    },
  };
  raw.agents.other = { dockerHost: "box", workspaceMounts: [{ source: "/tank/shared" }] };
};

describe("snapshots config", () => {
  it("defaults: daily, keep 7, 30 days, a root-only directory per LXC on the node", () => {
    const { config } = parseStackConfig(homelabWithSecrets(), opts);
    const lxc = config.lxcs[0];
    expect(lxc.snapshots).toEqual({ schedule: "daily", keep: 7, maxAgeDays: 30 });
    expect(snapshotDirectory(lxc.name, lxc.snapshots)).toBe("/var/lib/hermes-lxc-snapshots/hermes");
  });

  it.each([
    "off",
    "hourly",
    "daily",
    "weekly",
    "03:30",
    "23:59:59",
    "*-*-* 03:30",
    "Mon,Thu 03:30",
    "Sun *-*-* 04:00",
  ])("accepts the schedule %s", (s) => {
    expect(scheduleProblem(s)).toBeUndefined();
    expect(problemsOf((r) => (r.lxcs.hermes.snapshots = { schedule: s }))).toEqual([]);
  });

  it.each([
    "24:00",
    "3:30",
    "monthly",
    "Daily",
    "daily\nExecStart=/bin/sh",
    "*-*-* 03:30; rm -rf /",
    "Mon..Fri 03:30",
    "",
    "mon 03:30",
  ])("refuses the schedule %j, naming the key and what is allowed", (s) => {
    expect(problemsOf((r) => (r.lxcs.hermes.snapshots = { schedule: s }))).toEqual([
      expect.stringMatching(
        /^lxcs\.hermes\.snapshots\.schedule: must be off, hourly, daily, weekly, or a time/,
      ),
    ]);
  });

  it("shows the accepted forms of a time of day by example", () => {
    expect(scheduleProblem("monthly")).toBe(
      "must be off, hourly, daily, weekly, or a time of day in systemd OnCalendar form: " +
        "'03:30', '*-*-* 03:30', 'Mon,Thu 03:30' (24-hour HH:MM[:SS], weekdays Mon..Sun)",
    );
  });

  it.each([
    ["keep", 0, /^lxcs\.hermes\.snapshots\.keep: must be at least 1$/],
    ["keep", 1001, /^lxcs\.hermes\.snapshots\.keep: must be at most 1000$/],
    ["maxAgeDays", 0, /^lxcs\.hermes\.snapshots\.maxAgeDays: must be at least 1$/],
    ["maxAgeDays", "7d", /^lxcs\.hermes\.snapshots\.maxAgeDays: must be a whole number between 1 and 3650/],
    [
      "retain",
      3,
      /^lxcs\.hermes\.snapshots: unknown key 'retain'; allowed keys: schedule, keep, maxAgeDays, directory/,
    ],
  ])("refuses %s = %j", (key, value, message) => {
    expect(problemsOf((r) => (r.lxcs.hermes.snapshots = { [key]: value }))).toEqual([
      expect.stringMatching(message),
    ]);
  });

  it("accepts string numbers (pulumi config set --path stores text)", () => {
    const raw = homelabWithSecrets() as Mutable;
    raw.lxcs.hermes.snapshots = { keep: "14", maxAgeDays: "90", directory: "/mnt/pve/nfs-backup/hermes" };
    const lxc = parseStackConfig(raw, opts).config.lxcs[0];
    expect(lxc.snapshots).toEqual({
      schedule: "daily",
      keep: 14,
      maxAgeDays: 90,
      directory: "/mnt/pve/nfs-backup/hermes",
    });
  });

  it.each([
    ["/etc/hermes", /must not be inside \/etc/],
    ["/tmp/snaps", /must not be inside \/tmp/],
    ["/var/lib/docker/x", /must not be inside \/var\/lib\/docker/],
    ["/mnt/pve", /must be a dedicated subdirectory, not \/mnt\/pve itself/],
    ["relative/path", /must be an absolute path/],
    ["/srv/snap shots", /may only contain/],
    ["/srv/a/../b", /\. or \.\. segments/],
  ])("refuses the directory %s as a system path", (dir, message) => {
    const problems = problemsOf((r) => (r.lxcs.hermes.snapshots = { directory: dir }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^lxcs\.hermes\.snapshots\.directory: /);
    expect(problems[0]).toMatch(message);
  });

  it.each([
    ["/var/lib/hermes-lxc/hermes/snapshots", "lxcs.hermes.stateMount.hostPath"],
    ["/var/lib/hermes-lxc", "lxcs.hermes.stateMount.hostPath"],
    ["/mnt/pve/hdd/hermes/.snapshots", "lxcs.hermes.mounts[0].hostPath"],
  ])("refuses the directory %s, nested with a bind mount", (dir, other) => {
    expect(problemsOf((r) => (r.lxcs.hermes.snapshots = { directory: dir }))).toEqual([
      `lxcs.hermes.snapshots.directory: is nested with ${other}; snapshots must be stored outside every ` +
        "bind-mounted directory (a restore replaces the data, and the agent must not reach them)",
    ]);
  });

  it("on a Docker host: refuses a directory inside dataRoot or a workspace mount source", () => {
    expect(problemsOf((r) => withDockerHost(r, { directory: "/srv/agents/.snap" }))).toEqual([
      expect.stringMatching(
        /^dockerHosts\.box\.snapshots\.directory: is nested with dockerHosts\.box\.dataRoot;/,
      ),
    ]);
    expect(problemsOf((r) => withDockerHost(r, { directory: "/tank" }))).toEqual([
      expect.stringMatching(
        /^dockerHosts\.box\.snapshots\.directory: is nested with agents\.other\.workspaceMounts\[0\]\.source;/,
      ),
    ]);
    expect(problemsOf((r) => withDockerHost(r, { schedule: "off" }))).toEqual([]);
  });
});

describe("what takes a pre-change snapshot", () => {
  const { config } = parseStackConfig(homelabWithSecrets(), opts);
  const agent = config.agents[0];
  const spec = gatewayContainerSpec(agent, { maxSize: "10m", maxFile: 3 });
  const id = "sha256:" + "a".repeat(64);
  const base = recreateDigest(id, spec);

  it("a new image id, a published port, another mount: a new digest", () => {
    expect(recreateDigest("sha256:" + "b".repeat(64), spec)).not.toBe(base);
    expect(recreateDigest(id, { ...spec, ports: [{ internal: 8642, external: 8642 }] })).not.toBe(base);
    expect(recreateDigest(id, { ...spec, volumes: [] })).not.toBe(base);
    expect(recreateDigest(id, { ...spec, envs: [...spec.envs, "HERMES_DASHBOARD=1"] })).not.toBe(base);
  });

  it("memory and CPU limits (updated in place): the same digest", () => {
    expect(recreateDigest(id, { ...spec, memoryMb: 1024, memorySwapMb: 1024, cpus: "0.5" })).toBe(base);
  });

  it("the command carries the digest and calls the installed snapshot command with the pre-change label", () => {
    const placement = {
      id: "hermes-hermes",
      agent: "hermes",
      dataPath: "/var/lib/hermes-lxc/hermes/hermes",
      directory: "/var/lib/hermes-lxc-snapshots/hermes",
      containerName: "hermes-hermes",
      vmId: 118,
      settings: config.lxcs[0].snapshots,
    };
    expect(preChangeSnapshotCommand(placement, base)).toBe(
      `HERMES_LXC_CHANGE=${base} /usr/local/sbin/hermes-lxc-snapshot hermes-hermes pre-change`,
    );
    expect(() => preChangeSnapshotCommand(placement, "x; reboot")).toThrow(/sha256 hex digest/);
    expect(restoreCommand(placement, "hermes-20261130T010203Z-pre-change.tar.zst")).toBe(
      "/usr/local/sbin/hermes-lxc-restore hermes-hermes 'hermes-20261130T010203Z-pre-change.tar.zst'",
    );
    const env = snapshotInstallEnv(placement);
    expect(env).toMatchObject({
      SNAPSHOT_ID: "hermes-hermes",
      DATA_DIR: "/var/lib/hermes-lxc/hermes/hermes",
      SNAPSHOT_ROOT: "/var/lib/hermes-lxc-snapshots/hermes",
      SCHEDULE: "daily",
      KEEP: 7,
      MAX_AGE_DAYS: 30,
      VMID: 118,
      UNIT_DIR: "/etc/systemd/system",
    });
  });
});

describe("the schedule subset is one systemd accepts", () => {
  // systemd-analyze calendar is the authority on OnCalendar values: everything the model accepts must parse there.
  it("systemd-analyze calendar parses every accepted form", () => {
    for (const s of ["hourly", "daily", "weekly", "03:30", "23:59:59", "*-*-* 03:30", "Mon,Thu 03:30"]) {
      const r = spawnSync("systemd-analyze", ["calendar", s], { encoding: "utf8" });
      expect([s, r.status, r.stderr]).toEqual([s, 0, ""]);
    }
  });
});
