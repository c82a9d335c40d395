/**
 * The harness itself: the emulated node and the CT are what they claim to be. If one of these fails, every later
 * result in the tier is suspect.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { host, hostStat, SYSTEST_DIR, systemEnv } from "./harness";

describe("system harness", () => {
  const env = systemEnv();
  const { node, lxc, vmid } = env;

  test("the node answers over SSH with a pinned host key, and its sessions get the pct shim", async () => {
    expect(await node.sh("command -v pct")).toBe(`${env.file.runtime}/bin/pct`);
    // A PVE node's root has a plain PATH; this machine's ~/.bashrc (pyenv) must not leak into node sessions.
    expect(await node.sh("command -v python3")).toBe("/usr/bin/python3");
    expect(await node.sh(`pct status ${vmid}`)).toBe("status: running");
    expect(await node.sh(`pct exec ${vmid} -- cat /etc/hostname`)).toBe("hermes");
  });

  test("the pct shim emulates exactly status/exec/reboot and refuses anything else", async () => {
    const other = await node.exec(`pct config ${vmid}`, undefined, { allowFailure: true });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("pct shim: unsupported call: pct config");
    const unknown = await node.exec("pct status 4242", undefined, { allowFailure: true });
    expect(unknown.code).toBe(255);
    expect(unknown.stderr).toContain("4242.conf' does not exist");
    const status = await node.exec(`pct exec ${vmid} -- sh -c 'exit 7'`, undefined, { allowFailure: true });
    expect(status.code).toBe(7);
  });

  test("the CT's host key read through the node (pct exec) is the pinned one", async () => {
    const viaNode = await node.sh(`pct exec ${vmid} -- cat /etc/ssh/ssh_host_ed25519_key.pub`);
    expect(viaNode.split(" ").slice(0, 2).join(" ")).toBe(env.file.ct.hostKey);
    expect(fs.readFileSync(env.file.ct.knownHosts, "utf8").trim()).toBe(
      `${env.file.ct.host} ${env.file.ct.hostKey}`,
    );
    expect(await lxc.sh("hostname")).toBe("hermes");
  });

  test("a host key other than the pinned one is refused (CT and node)", async () => {
    const dir = fs.mkdtempSync(path.join(env.file.runtime, "bogus-"));
    host("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
    const pub = fs.readFileSync(path.join(dir, "k.pub"), "utf8").split(" ").slice(0, 2).join(" ");
    fs.writeFileSync(path.join(dir, "kh.ct"), `${env.file.ct.host} ${pub}\n`);
    fs.writeFileSync(path.join(dir, "kh.node"), `[127.0.0.1]:${env.file.node.port} ${pub}\n`);
    for (const [target, kh] of [
      [lxc, "kh.ct"],
      [node, "kh.node"],
    ] as const) {
      const r = await target.exec("true", undefined, { allowFailure: true }, path.join(dir, kh));
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    }
  });

  test("no ssh invocation in the tier disables host key checking", () => {
    for (const f of fs.readdirSync(SYSTEST_DIR)) {
      if (!/\.(ts|sh|js)$/.test(f) && f !== "pct") continue;
      const text = fs.readFileSync(path.join(SYSTEST_DIR, f), "utf8");
      expect({ f, bad: /StrictHostKeyChecking=(no|accept-new|off)/i.test(text) }).toEqual({ f, bad: false });
    }
    expect(node.sshArgs()).toEqual(expect.arrayContaining(["StrictHostKeyChecking=yes"]));
    expect(lxc.sshArgs()).toEqual(expect.arrayContaining(["StrictHostKeyChecking=yes"]));
  });

  test("the CT is unprivileged with Proxmox's mapping, and its rootfs was shifted keeping setuid bits", async () => {
    expect((await lxc.sh("cat /proc/self/uid_map")).split(/\s+/)).toEqual(["0", "100000", "65536"]);
    expect((await lxc.sh("cat /proc/self/gid_map")).split(/\s+/)).toEqual(["0", "100000", "65536"]);
    expect(hostStat(path.join(env.file.ctRootfs, "usr/bin/su"))).toBe("100000:100000 4755");
    expect(hostStat(path.join(env.file.ctRootfs, "etc/shadow"))).toMatch(/^100000:10004\d /); // group shadow
    expect(await lxc.sh("stat -c '%u:%g %a' /usr/bin/su")).toBe("0:0 4755");
  });

  test("bind mounts: host dirs owned 110000:110000 0750 appear in the CT as 10000:10000", async () => {
    for (const d of Object.values(env.file.hostDirs)) expect(hostStat(d)).toBe("110000:110000 750");
    expect(await lxc.sh("stat -c '%n %u:%g %a' /srv/hermes /data /fast")).toBe(
      ["/srv/hermes 10000:10000 750", "/data 10000:10000 750", "/fast 10000:10000 750"].join("\n"),
    );
  });

  test("the CT reaches Debian's mirror through the bridge's NAT, with the host's resolver", async () => {
    expect(await lxc.sh("getent hosts deb.debian.org | head -n1")).toMatch(/deb\.debian\.org/);
    expect(await lxc.sh("ip route show default")).toContain(`via ${systemEnv().file.netPrefix}.1`);
  });
});
