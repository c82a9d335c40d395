/**
 * The node-side scripts (templates/prepare-host-dirs.sh, apply-raw-lxc-config.sh, wait-for-container.sh) run on
 * the emulated node over SSH, against the real unprivileged CT, through the pct shim.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { host, hostStat, lastLine, sleep, systemEnv } from "./harness";

const env = systemEnv();
const { node, lxc, vmid } = env;

describe("prepare-host-dirs.sh on the node", () => {
  const base = path.join(env.file.runtime, "host-prep");
  const hdd = path.join(base, "hdd");
  const ssd = path.join(base, "ssd");
  const owned = [path.join(hdd, "hermes"), path.join(ssd, "hermes")];
  const params = {
    OWNER_UID: 110000,
    OWNER_GID: 110000,
    DIR_MODE: "0750",
    OWNED_DIRS: owned.join(" "),
    ENSURE_PARENTS: `${hdd} ${ssd}`,
  };

  beforeAll(() => fs.rmSync(base, { recursive: true, force: true }));

  test("creates the bind-mount sources owned 110000:110000 mode 0750, parents root 0755", async () => {
    const res = await node.run("prepare-host-dirs.sh", params);
    expect(res.stdout.trim().split("\n")).toEqual(owned.map((d) => `created ${d}`));
    for (const d of owned) expect(hostStat(d)).toBe("110000:110000 750");
    expect(hostStat(hdd)).toBe("0:0 755");
  });

  test("a second run changes nothing and says ok", async () => {
    const res = await node.run("prepare-host-dirs.sh", params);
    expect(res.stdout.trim().split("\n")).toEqual(owned.map((d) => `ok ${d}`));
  });

  test("drift is fixed on the directory itself; existing data below it is never walked", async () => {
    const data = path.join(owned[0], "existing");
    fs.mkdirSync(data);
    for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(data, `f${i}`), "x");
    host("chown", ["-R", "0:0", owned[0]]);
    host("chmod", ["0755", owned[0]]);
    const res = await node.run("prepare-host-dirs.sh", params);
    expect(res.stdout.trim().split("\n")).toEqual([`fixed ${owned[0]}`, `ok ${owned[1]}`]);
    expect(hostStat(owned[0])).toBe("110000:110000 750");
    // The user's files keep their owner: the script re-owns the directory, not its contents.
    expect(hostStat(data)).toBe("0:0 755");
    expect(hostStat(path.join(data, "f199"))).toBe("0:0 644");
  });

  test("the CT's own bind-mount sources (prepared by the harness) are reported ok", async () => {
    const dirs = Object.values(env.file.hostDirs);
    const res = await node.run("prepare-host-dirs.sh", {
      ...params,
      OWNED_DIRS: dirs.join(" "),
      ENSURE_PARENTS: "",
    });
    expect(res.stdout.trim().split("\n")).toEqual(dirs.map((d) => `ok ${d}`));
  });
});

describe("wait-for-container.sh on the node", () => {
  const wait = (extra: Record<string, string | number> = {}) =>
    node.run(
      "wait-for-container.sh",
      { VMID: vmid, TIMEOUT_SECONDS: 60, POLL_SECONDS: 1, ...extra },
      undefined,
      {
        allowFailure: true,
      },
    );

  afterEach(async () => {
    // Whatever a test did to sshd, the CT's sshd is running again for the next one.
    await node.exec(`pct exec ${vmid} -- systemctl start ssh.service`);
  });

  test("a ready CT: prints its address and the host key, which matches the one pinned through pct exec", async () => {
    const res = await wait();
    expect(res.code).toBe(0);
    expect(res.stdout.trim().split("\n")).toEqual([
      `address=${env.file.ct.host}`,
      `host_key=${env.file.ct.hostKey}`,
    ]);
  });

  test("sshd not up yet: it keeps polling, then proceeds once sshd answers", async () => {
    await node.exec(`pct exec ${vmid} -- systemctl stop ssh.service`);
    const pending = wait();
    await sleep(5000);
    await node.exec(`pct exec ${vmid} -- systemctl start ssh.service`);
    const res = await pending;
    expect(res.code).toBe(0);
    expect(res.durationMs).toBeGreaterThanOrEqual(4500);
    expect(res.stderr).toContain("sshd=not answering on port 22");
    expect(lastLine(res.stdout)).toBe(`host_key=${env.file.ct.hostKey}`);
  });

  test("sshd never up: a clear timeout naming the last state", async () => {
    await node.exec(`pct exec ${vmid} -- systemctl stop ssh.service`);
    const res = await wait({ TIMEOUT_SECONDS: 5 });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain(
      `container ${vmid} not ready after 5s; last state: status=running address=${env.file.ct.host} host_key=present sshd=not answering on port 22`,
    );
    expect(res.durationMs).toBeLessThan(15000);
  });
});

describe("apply-raw-lxc-config.sh on the node (pct reboot through the shim)", () => {
  const params = (raw: string) => ({
    VMID: vmid,
    RAW_LINES: raw,
    CONF_DIR: env.file.pveConfDir,
    STATE_DIR: path.join(env.file.runtime, "raw-lxc-state"),
  });
  const initEnv = () => lxc.sh("tr '\\0' '\\n' </proc/1/environ | grep '^HERMES_SYSTEST_RAW=' || true");
  // Start time of the CT's init (field 22 of /proc/1/stat, clock ticks since host boot): changes with each CT start.
  const initStart = () => node.sh(`pct exec ${vmid} -- cut -d' ' -f22 /proc/1/stat`);
  const waitUp = async () => {
    const res = await node.run("wait-for-container.sh", { VMID: vmid, TIMEOUT_SECONDS: 90, POLL_SECONDS: 1 });
    expect(lastLine(res.stdout)).toBe(`host_key=${env.file.ct.hostKey}`);
  };

  test("new raw lines are written, the CT is rebooted once, and LXC applies them at start", async () => {
    const before = await initStart();
    const res = await node.run("apply-raw-lxc-config.sh", params("lxc.environment: HERMES_SYSTEST_RAW=1"));
    expect(res.stdout.trim().split("\n")).toEqual(["applied", `rebooted ${vmid}`]);
    // The shim's reboot returns once the CT runs; its sshd comes up later: wait-for-container covers that gap.
    await waitUp();
    expect(await initStart()).not.toBe(before);
    expect(await initEnv()).toBe("HERMES_SYSTEST_RAW=1");
    expect(fs.readFileSync(path.join(env.file.pveConfDir, `${vmid}.conf`), "utf8")).toContain(
      "lxc.environment: HERMES_SYSTEST_RAW=1",
    );
  });

  test("the same lines again: unchanged, no reboot", async () => {
    const before = await initStart();
    const res = await node.run("apply-raw-lxc-config.sh", params("lxc.environment: HERMES_SYSTEST_RAW=1"));
    expect(res.stdout.trim()).toBe("unchanged");
    expect(await initStart()).toBe(before);
  });

  test("removing the lines reverts the conf and reboots once more", async () => {
    const res = await node.run("apply-raw-lxc-config.sh", params(""));
    expect(res.stdout.trim().split("\n")).toEqual(["applied", `rebooted ${vmid}`]);
    await waitUp();
    expect(await initEnv()).toBe("");
    expect(fs.readFileSync(path.join(env.file.pveConfDir, `${vmid}.conf`), "utf8")).not.toContain(
      "lxc.environment",
    );
  });
});
