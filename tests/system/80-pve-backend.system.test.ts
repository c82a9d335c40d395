/**
 * The PVE double's LXC backend (tests/pve-double/lxcBackend.ts, on tests/system/ct.sh) on its own: a CT created
 * from the served template the way `vzcreate` does it, started, read, hot-plugged, shut down and destroyed, with the
 * node's own tools (`pct` over the node's SSH, /etc/pve/lxc in the node sessions) seeing it. The double itself
 * (auth, tasks, the conf model) is proven elsewhere; here the conf is written the way the double writes it.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CtConfig, MountSpec, TaskContext } from "../pve-double/backend";
import { Layout } from "../pve-double/layout";
import { LxcBackend, renderConf } from "../pve-double/lxcBackend";
import { templateFromRootfs, TemplateServer } from "../pve-double/templateServer";
import { RUNTIME, systemEnv } from "./harness";

const env = systemEnv();
const { node } = env;
const NODE = env.file.pveNode;
// A vmid of this world only (veth names are global: veth<vmid>i0).
const VMID = env.vmid * 10 + 2;
const ct = { node: NODE, vmid: VMID };
const layout = new Layout(RUNTIME);
const backend = new LxcBackend();
const password = `pw-canary-${randomBytes(8).toString("hex")}`;
const bindSource = path.join(RUNTIME, "backend-bind");
const rootfsDir = layout.volumeDir(NODE, "local-lvm", `vm-${VMID}-disk-0`);
const ip = `${env.file.netPrefix}.${30}`;

const taskLog: string[] = [];
const task = (): TaskContext => ({
  upid: `UPID:${NODE}:00000000:00000000:00000000:test:${VMID}:root@pam:`,
  log: (l) => taskLog.push(l),
  signal: new AbortController().signal,
});

const config: CtConfig = {
  props: {
    arch: "amd64",
    cores: "1",
    features: "keyctl=1,nesting=1",
    hostname: "backend-ct",
    memory: "1024",
    mp0: `${bindSource},mp=/srv/kept`,
    net0: `name=eth0,bridge=${env.file.bridge},gw=${env.file.netPrefix}.1,hwaddr=BC:24:11:00:${(VMID % 256).toString(16).padStart(2, "0").toUpperCase()}:02,ip=${ip}/24,type=veth`,
    ostype: "debian",
    rootfs: `local-lvm:vm-${VMID}-disk-0,size=8G`,
    swap: "512",
    unprivileged: "1",
  },
  lxc: [],
};
const mounts: MountSpec[] = [
  { key: "rootfs", target: "/", type: "volume", source: rootfsDir, readOnly: false },
  { key: "mp0", target: "/srv/kept", type: "bind", source: bindSource, readOnly: false },
];
/** What the double does before each backend call: the conf on disk, where the node sees it as /etc/pve/lxc. */
const writeConf = (c: CtConfig) => fs.writeFileSync(layout.confPath(NODE, VMID), renderConf(c));

const server = new TemplateServer();
let templatePath = "";

beforeAll(async () => {
  await backend.init(layout);
  fs.mkdirSync(bindSource, { recursive: true });
  fs.writeFileSync(path.join(bindSource, "keep.txt"), "user data\n");
  execFileSync("chown", ["-R", `${env.ownerId}:${env.ownerId}`, bindSource]);
  // The template as the double's download-url leaves it in the `local` storage: fetched over HTTP from the server.
  const t = templateFromRootfs(env.file.rootfsTarball);
  server.add(t.name, t.file);
  const base = await server.start();
  const dir = layout.templateDir(NODE, "local");
  fs.mkdirSync(dir, { recursive: true });
  templatePath = path.join(dir, t.name);
  // Asynchronously: the server runs in this process.
  const res = await fetch(server.url(base, t.name));
  expect(res.status).toBe(200);
  fs.writeFileSync(templatePath, Buffer.from(await res.arrayBuffer()));
  expect(execFileSync("sha512sum", [templatePath], { encoding: "utf8" }).split(" ")[0]).toBe(t.sha512);
}, 300_000);

afterAll(async () => {
  await backend.close();
  await server.close();
  if (fs.existsSync(path.join(layout.lxcPath, String(VMID)))) {
    await backend.destroy(ct, mounts, task()).catch(() => undefined);
  }
  fs.rmSync(layout.confPath(NODE, VMID), { force: true });
  fs.rmSync(bindSource, { recursive: true, force: true });
  fs.rmSync(rootfsDir, { recursive: true, force: true });
});

describe("the PVE double's LXC backend", () => {
  test("create: the template extracted with shifted ids and pct create's post-create effects", async () => {
    writeConf({ ...config, props: { ...config.props, lock: "create" } });
    await backend.create(
      {
        ct,
        config,
        templatePath,
        mounts,
        password,
        sshPublicKeys: fs.readFileSync(`${env.file.sshKey}.pub`, "utf8").trim(),
      },
      task(),
    );
    writeConf(config);
    const st = (p: string) =>
      execFileSync("stat", ["-c", "%u:%g %a", path.join(rootfsDir, p)], { encoding: "utf8" });
    expect(st("usr/bin/su").trim()).toBe("100000:100000 4755");
    const shadowRoot = fs
      .readFileSync(path.join(rootfsDir, "etc/shadow"), "utf8")
      .split("\n")[0]
      .split(":")[1];
    expect(shadowRoot).toMatch(/^\$6\$/);
    const salt = shadowRoot.split("$")[2];
    expect(
      execFileSync("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], { input: password })
        .toString()
        .trim(),
    ).toBe(shadowRoot);
    const keys = fs.readFileSync(path.join(rootfsDir, "root/.ssh/authorized_keys"), "utf8").split("\n");
    expect(keys[0]).toBe("# --- BEGIN PVE ---");
    expect(keys[1]).toBe(fs.readFileSync(`${env.file.sshKey}.pub`, "utf8").trim());
    expect(keys[2]).toBe("# --- END PVE ---");
    for (const t of ["rsa", "ecdsa", "ed25519"]) {
      expect(fs.readFileSync(path.join(rootfsDir, `etc/ssh/ssh_host_${t}_key.pub`), "utf8")).toMatch(
        / root@backend-ct\n$/,
      );
    }
    expect(fs.readFileSync(path.join(rootfsDir, "etc/hostname"), "utf8")).toBe("backend-ct\n");
    expect(fs.readFileSync(path.join(rootfsDir, "etc/network/interfaces"), "utf8")).toContain(
      `iface eth0 inet static\n\taddress ${ip}/24\n\tgateway ${env.file.netPrefix}.1\n`,
    );
    expect(fs.readFileSync(path.join(rootfsDir, "etc/machine-id"), "utf8")).toBe("");
    expect(taskLog.join("\n")).toContain("extracting archive");
    expect(taskLog.join("\n")).not.toContain(password);
  });

  test("start: running, its address read from its own network namespace, and the node's pct sees it", async () => {
    await backend.start(ct, config, mounts, task());
    const status = await backend.status(ct);
    expect(status.running).toBe(true);
    expect(status.pid).toBeGreaterThan(1);
    let links = await backend.interfaces(ct);
    for (let i = 0; i < 20 && !links.some((l) => l.addr_info?.some((a) => a.local === ip)); i++) {
      await new Promise((r) => setTimeout(r, 500));
      links = await backend.interfaces(ct);
    }
    const eth0 = links.find((l) => l.ifname === "eth0");
    expect(eth0?.address?.toUpperCase()).toBe(config.props.net0.match(/hwaddr=([^,]+)/)![1]);
    expect(eth0?.addr_info?.map((a) => a.local)).toContain(ip);
    // The node's own view: its /etc/pve/lxc is the double's conf dir, and pct reaches the CT.
    expect(await node.sh(`cat /etc/pve/lxc/${VMID}.conf`)).toContain("hostname: backend-ct");
    expect(await node.sh(`pct status ${VMID}`)).toBe("status: running");
    expect(await node.sh(`pct exec ${VMID} -- cat /srv/kept/keep.txt`)).toBe("user data");
    expect(await node.sh(`pct exec ${VMID} -- stat -c %u:%g /srv/kept/keep.txt`)).toBe("10000:10000");
  });

  test("memory hot-plug sets the running CT's cgroup limit", async () => {
    const bigger = { ...config, props: { ...config.props, memory: "1536" } };
    await backend.hotplug(ct, bigger, ["memory"]);
    const limit = await node.sh(
      `pct exec ${VMID} -- sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes'`,
    );
    expect(Number(limit)).toBe(1536 * 1024 * 1024);
    await expect(backend.hotplug(ct, bigger, ["net0"])).rejects.toThrow(/not emulated/);
  });

  test("shutdown, then a start with a missing bind source fails with Proxmox's text", async () => {
    await backend.shutdown(ct, { timeout: 30, forceStop: true }, task());
    expect((await backend.status(ct)).running).toBe(false);
    expect(await node.sh(`pct status ${VMID}`)).toBe("status: stopped");
    const missing = path.join(RUNTIME, "backend-missing");
    const broken = { ...config, props: { ...config.props, mp1: `${missing},mp=/srv/missing` } };
    await expect(backend.start(ct, broken, mounts, task())).rejects.toThrow(
      `directory '${missing}' does not exist`,
    );
    expect((await backend.status(ct)).running).toBe(false);
  });

  test("destroy removes the rootfs volume and the LXC, never the bind source", async () => {
    await backend.destroy(ct, mounts, task());
    expect(fs.existsSync(rootfsDir)).toBe(false);
    expect(fs.existsSync(path.join(layout.lxcPath, String(VMID)))).toBe(false);
    expect(fs.readFileSync(path.join(bindSource, "keep.txt"), "utf8")).toBe("user data\n");
    expect(fs.statSync(bindSource).uid).toBe(env.ownerId);
  });

  test("create with a missing bind source fails before anything is extracted", async () => {
    const missing = path.join(RUNTIME, "backend-missing");
    const m: MountSpec[] = [mounts[0], { ...mounts[1], source: missing }];
    const c = { ...config, props: { ...config.props, mp0: `${missing},mp=/srv/kept` } };
    await expect(backend.create({ ct, config: c, templatePath, mounts: m }, task())).rejects.toThrow(
      `directory '${missing}' does not exist`,
    );
    expect(fs.existsSync(path.join(rootfsDir, "etc"))).toBe(false);
  });
});
