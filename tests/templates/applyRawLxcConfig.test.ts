/**
 * templates/apply-raw-lxc-config.sh against a temp copy of /etc/pve/lxc/<vmid>.conf and a fake `pct`: the line lands
 * once in the main section, snapshots stay untouched, one reboot per change, and an interrupted run is completed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { hostWorld, makeFakePct, runScript, sleep, useHostScriptsWorld } from "./hostScriptsWorld";

useHostScriptsWorld();
let root: string;
beforeEach(() => (root = hostWorld.root));

describe("apply-raw-lxc-config.sh", () => {
  const MAIN = [
    "#hermes gateway",
    "#managed by Pulumi: lxc.apparmor.profile: in a comment stays",
    "arch: amd64",
    "cores: 2",
    "features: keyctl=1,nesting=1",
    "hostname: hermes",
    "mp0: /mnt/pve/hdd/hermes,mp=/data",
    "unprivileged: 1",
    "lxc.cgroup2.devices.allow: c 10:200 rwm",
  ];
  const SNAPSHOTS = [
    "",
    "[before-upgrade]",
    "arch: amd64",
    "hostname: hermes",
    "lxc.apparmor.profile: generated",
    "snaptime: 1750000000",
    "",
    "[pve:pending]",
    "lxc.apparmor.profile: unconfined",
    "",
  ].join("\n");
  const UNCONFINED = "lxc.apparmor.profile: unconfined";

  let fake: ReturnType<typeof makeFakePct>;
  let confDir: string;
  let stateDir: string;
  let conf: string;

  beforeEach(() => {
    fake = makeFakePct();
    confDir = path.join(root, "etc-pve-lxc");
    stateDir = path.join(root, "state");
    fs.mkdirSync(confDir);
    conf = path.join(confDir, "118.conf");
  });

  const writeConf = (main: string[]) => fs.writeFileSync(conf, main.join("\n") + "\n" + SNAPSHOTS);
  const mainOf = (text: string) => text.slice(0, text.indexOf("\n[before-upgrade]\n"));
  const snapshotsOf = (text: string) => text.slice(text.indexOf("\n[before-upgrade]\n"));
  const apply = (rawLines: string, extra: Record<string, string> = {}) =>
    runScript(
      "apply-raw-lxc-config.sh",
      {
        VMID: "118",
        RAW_LINES: rawLines,
        CONF_DIR: confDir,
        STATE_DIR: stateDir,
        FAKE_PCT_DIR: fake.dir,
        ...extra,
      },
      { pathPrefix: fake.bin },
    );

  test("adds the line once to the main section and reboots the running container once", async () => {
    writeConf(MAIN);

    const r = await apply(UNCONFINED);

    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("applied\nrebooted 118\n");
    const text = fs.readFileSync(conf, "utf8");
    // Appended after the existing main lines, before the blank line that separates the first snapshot.
    expect(mainOf(text)).toBe([...MAIN, UNCONFINED, ""].join("\n"));
    expect(snapshotsOf(text)).toBe(SNAPSHOTS);
    expect(text.split("\n").filter((l) => l === UNCONFINED)).toHaveLength(2); // ours + the pending section's
    expect(fake.calls()).toEqual(["status 118", "reboot 118"]);
    expect(fs.readFileSync(path.join(stateDir, "118.keys"), "utf8")).toBe("lxc.apparmor.profile\n");
  });

  test("a second run prints unchanged, does not rewrite the file and does not reboot", async () => {
    writeConf(MAIN);
    expect((await apply(UNCONFINED)).stdout).toBe("applied\nrebooted 118\n");
    const before = fs.statSync(conf, { bigint: true });
    const bytes = fs.readFileSync(conf);
    await sleep(30);

    const r = await apply(UNCONFINED);

    expect(r.code).toBe(0);
    expect(r.stdout).toBe("unchanged\n");
    expect(fs.readFileSync(conf).equals(bytes)).toBe(true);
    expect(fs.statSync(conf, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    expect(fake.calls()).toEqual(["status 118", "reboot 118"]); // nothing new
  });

  test("keeps the description, other lxc lines and every snapshot section byte for byte", async () => {
    writeConf(MAIN);

    await apply(`${UNCONFINED}\nlxc.mount.entry: /dev/net dev/net none bind,create=dir`);

    const text = fs.readFileSync(conf, "utf8");
    expect(text.startsWith(MAIN.slice(0, 2).join("\n") + "\n")).toBe(true);
    expect(mainOf(text)).toContain("lxc.cgroup2.devices.allow: c 10:200 rwm\n");
    expect(snapshotsOf(text)).toBe(SNAPSHOTS);
    expect(fs.readFileSync(path.join(stateDir, "118.keys"), "utf8")).toBe(
      "lxc.apparmor.profile\nlxc.mount.entry\n",
    );
  });

  test("turning it off (empty RAW_LINES) removes the line again and reboots once", async () => {
    writeConf(MAIN);
    await apply(UNCONFINED);
    fs.rmSync(path.join(fake.dir, "calls.log"));

    const r = await apply("");

    expect(r.code).toBe(0);
    expect(r.stdout).toBe("applied\nrebooted 118\n");
    const text = fs.readFileSync(conf, "utf8");
    expect(text).toBe(MAIN.join("\n") + "\n" + SNAPSHOTS); // back to the original bytes
    expect(fake.calls()).toEqual(["status 118", "reboot 118"]);
    expect(fs.existsSync(path.join(stateDir, "118.keys"))).toBe(false);

    const again = await apply("");
    expect(again.stdout).toBe("unchanged\n");
    expect(fake.calls()).toEqual(["status 118", "reboot 118"]);
  });

  test("replaces an existing conflicting line of the same key (in any PVE syntax)", async () => {
    writeConf([
      ...MAIN.slice(0, 4),
      "lxc.apparmor.profile: generated",
      ...MAIN.slice(4),
      "lxc.apparmor.profile = lxc-container-default",
    ]);

    const r = await apply(UNCONFINED);

    expect(r.stdout).toBe("applied\nrebooted 118\n");
    const text = fs.readFileSync(conf, "utf8");
    expect(mainOf(text)).toBe([...MAIN, UNCONFINED, ""].join("\n"));
    expect(snapshotsOf(text)).toContain("lxc.apparmor.profile: generated"); // the snapshot's copy stays
  });

  test("does not reboot a stopped container", async () => {
    writeConf(MAIN);

    const r = await apply(UNCONFINED, { FAKE_STOPPED_CALLS: "1" });

    expect(r.code).toBe(0);
    expect(r.stdout).toBe("applied\n");
    expect(r.stderr).toContain("container 118 is not running");
    expect(fake.calls()).toEqual(["status 118"]);
  });

  test("a run that dies after writing the conf is completed by the next run (reboot not lost)", async () => {
    writeConf(MAIN);
    fs.writeFileSync(path.join(fake.dir, "fail-status"), "");

    const broken = await apply(UNCONFINED);
    expect(broken.code).not.toBe(0);
    expect(mainOf(fs.readFileSync(conf, "utf8"))).toContain(UNCONFINED);

    fs.rmSync(path.join(fake.dir, "fail-status"));
    const r = await apply(UNCONFINED);

    expect(r.code).toBe(0);
    expect(r.stdout).toBe("unchanged\nrebooted 118\n");
    expect(fake.calls()).toEqual(["status 118", "status 118", "reboot 118"]);
    expect((await apply(UNCONFINED)).stdout).toBe("unchanged\n");
    expect(fake.calls()).toHaveLength(3);
  });

  test.each([
    ["no colon", "lxc.apparmor.profile unconfined"],
    ["not an lxc key", "apparmor.profile: unconfined"],
    ["upper-case key", "lxc.AppArmor.profile: unconfined"],
    ["empty value", "lxc.apparmor.profile: "],
    ["no space after the colon", "lxc.apparmor.profile:unconfined"],
    ["a carriage return", "lxc.apparmor.profile: unconfined\r"],
    ["a bad second line", `${UNCONFINED}\nrootfs: local-lvm:vm-118-disk-0`],
  ])("rejects an invalid line (%s) and changes nothing", async (_what, rawLines) => {
    writeConf(MAIN);
    const bytes = fs.readFileSync(conf);

    const r = await apply(rawLines);

    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("apply-raw-lxc-config.sh: invalid RAW_LINES line");
    expect(fs.readFileSync(conf).equals(bytes)).toBe(true);
    expect(fake.calls()).toEqual([]);
  });

  test.each([
    [{ VMID: "" }, "VMID is required"],
    [{ VMID: "99" }, "VMID must be an integer between 100 and 999999999"],
    [{ VMID: "118; reboot" }, "VMID must be an integer between 100 and 999999999"],
    [{ VMID: "119" }, "<CONF_DIR>/119.conf does not exist: is container 119 on this node?"],
    [{ CONF_DIR: "etc/pve/lxc" }, "CONF_DIR: 'etc/pve/lxc' is not an absolute path"],
    [{ STATE_DIR: "/var/lib/../tmp" }, "STATE_DIR: '/var/lib/../tmp' contains a '..' segment"],
  ])("rejects invalid parameters %o", async (override, message) => {
    writeConf(MAIN);
    const r = await apply(UNCONFINED, override);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`apply-raw-lxc-config.sh: ${message.replace("<CONF_DIR>", confDir)}`);
    expect(fake.calls()).toEqual([]);
  });
});
