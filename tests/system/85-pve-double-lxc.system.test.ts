/**
 * The Proxmox VE API double on real LXC: plain HTTPS requests, in the order and with the bodies the proxmoxve
 * provider sends (../../shared reference proxmox-api.md §3), against the double started on the tier's runtime
 * directory with the LXC backend. Its conf directory is what the node's SSH sessions see as /etc/pve/lxc.
 *
 * Also two §6 findings that need no Pulumi engine: a feature change on a running CT stays pending while the API
 * reads it as applied (finding 5), and a bind source that does not exist fails the create (finding 8).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PveClient } from "../pve-double/contract/client";
import { RunningDouble, startDouble } from "../pve-double/double";
import { LxcBackend } from "../pve-double/lxcBackend";
import { templateFromRootfs, TemplateServer } from "../pve-double/templateServer";
import { RUNTIME, systemEnv } from "./harness";

const env = systemEnv();
const NODE = env.file.pveNode;
const VMID = env.vmid * 10 + 3;
const IP = `${env.file.netPrefix}.31`;
const PASSWORD = `double-root-${process.pid}-${Date.now()}`;
const ROOT_PW = `ct-root-pw-${process.pid}-${Date.now()}`;
const bindSource = path.join(RUNTIME, "double-bind");
const server = new TemplateServer();
let pve: RunningDouble;
let client: PveClient;
let templateUrl = "";
let templateName = "";
let templateSha = "";
let logStart = 0;

const lxcConfig = () => fs.readFileSync(path.join(pve.layout.lxcPath, String(VMID), "config"), "utf8");
const requests = (): Array<Record<string, any>> =>
  fs
    .readFileSync(pve.requestLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .slice(logStart);

async function ok(method: string, p: string, params: Record<string, string | number> = {}): Promise<any> {
  const a = await client.call(method, p, params);
  if (a.status !== 200) throw new Error(`${method} ${p}: ${a.status} ${a.reason}`);
  return a.body.data;
}
async function task(method: string, p: string, params: Record<string, string | number> = {}): Promise<any> {
  const upid = (await ok(method, p, params)) as string;
  return client.waitTask(NODE, upid, 250);
}
async function waitStatus(want: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if ((await ok("GET", `/nodes/${NODE}/lxc/${VMID}/status/current`)).status === want) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`CT ${VMID} never became ${want}`);
}

beforeAll(async () => {
  const t = templateFromRootfs(env.file.rootfsTarball);
  server.add(t.name, t.file);
  templateUrl = server.url(await server.start(), t.name);
  templateName = t.name;
  templateSha = t.sha512;
  fs.mkdirSync(bindSource, { recursive: true });
  fs.writeFileSync(path.join(bindSource, "memories.md"), "kept\n");
  fs.chownSync(bindSource, env.ownerId, env.ownerId);
  pve = await startDouble({
    rootPassword: PASSWORD,
    stateDir: RUNTIME,
    nodes: [{ name: NODE }],
    backend: new LxcBackend(),
  });
  logStart = fs.readFileSync(pve.requestLog, "utf8").split("\n").filter(Boolean).length;
  client = new PveClient(pve.url, fs.readFileSync(pve.caFile));
  expect((await client.login("root@pam", PASSWORD)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  const st = await client.call("GET", `/nodes/${NODE}/lxc/${VMID}/status/current`);
  if (st.status === 200) {
    await client.call("PUT", `/nodes/${NODE}/lxc/${VMID}/config`, { protection: 0 });
    if (st.body.data.status === "running") await task("POST", `/nodes/${NODE}/lxc/${VMID}/status/stop`);
    await task("DELETE", `/nodes/${NODE}/lxc/${VMID}`);
  }
  await pve?.stop();
  await server.close();
  fs.rmSync(bindSource, { recursive: true, force: true });
});

describe("the PVE double on real LXC, driven over HTTPS", () => {
  test("download-url fetches the template over HTTP with its sha512, and the content list shows it", async () => {
    const meta = await ok("GET", `/nodes/${NODE}/query-url-metadata`, {
      url: templateUrl,
      "verify-certificates": 1,
    });
    expect(meta.filename).toBe(templateName);
    const t = await task("POST", `/nodes/${NODE}/storage/local/download-url`, {
      content: "vztmpl",
      filename: templateName,
      node: NODE,
      storage: "local",
      url: templateUrl,
      "verify-certificates": 1,
      checksum: templateSha,
      "checksum-algorithm": "sha512",
    });
    expect(t.exitstatus).toBe("OK");
    const content = (await ok("GET", `/nodes/${NODE}/storage/local/content`, { content: "vztmpl" })) as any[];
    expect(content.map((c) => c.volid)).toContain(`local:vztmpl/${templateName}`);
  });

  test("a missing bind source fails the create task with Proxmox's text, and leaves no CT (finding 8)", async () => {
    const missing = path.join(RUNTIME, "double-missing");
    const t = await task("POST", `/nodes/${NODE}/lxc`, {
      vmid: VMID,
      ostemplate: `local:vztmpl/${templateName}`,
      rootfs: "volume=local-lvm:8",
      mp0: `mp=/srv/missing,volume=${missing}`,
      unprivileged: 1,
    });
    expect(t.exitstatus).toBe(`unable to create CT ${VMID} - directory '${missing}' does not exist`);
    expect((await client.call("GET", `/nodes/${NODE}/lxc/${VMID}/config`)).status).toBe(500);
    expect(fs.existsSync(path.join(pve.layout.lxcPath, String(VMID)))).toBe(false);
  });

  test("create with start=1: a running unprivileged CT with the post-create effects and its address", async () => {
    const t = await task("POST", `/nodes/${NODE}/lxc`, {
      arch: "amd64",
      cores: 1,
      description: "pve double on LXC",
      features: "keyctl=1,nesting=1",
      hostname: "double-ct",
      memory: 1024,
      mp0: `mp=/srv/hermes,volume=${bindSource}`,
      net0: `bridge=${env.file.bridge},gw=${env.file.netPrefix}.1,ip=${IP}/24,name=eth0`,
      ostemplate: `local:vztmpl/${templateName}`,
      ostype: "debian",
      password: ROOT_PW,
      rootfs: "volume=local-lvm:8",
      "ssh-public-keys": fs.readFileSync(`${env.file.sshKey}.pub`, "utf8").trim(),
      start: 1,
      swap: 512,
      unprivileged: 1,
      vmid: VMID,
    });
    expect(t.exitstatus).toBe("OK");
    await waitStatus("running");
    const conf = await ok("GET", `/nodes/${NODE}/lxc/${VMID}/config`);
    expect(conf.hostname).toBe("double-ct");
    expect(conf.mp0).toBe(`${bindSource},mp=/srv/hermes`);
    // The node's own tools see the CT the double made: /etc/pve/lxc is its conf dir, and pct reaches it.
    expect(await env.node.sh(`grep -c '^hostname: double-ct$' /etc/pve/lxc/${VMID}.conf`)).toBe("1");
    expect(await env.node.sh(`pct exec ${VMID} -- cat /srv/hermes/memories.md`)).toBe("kept");
    expect(
      await env.node.sh(`pct exec ${VMID} -- sed -n '/BEGIN PVE/,/END PVE/p' /root/.ssh/authorized_keys`),
    ).toContain(fs.readFileSync(`${env.file.sshKey}.pub`, "utf8").trim());
    let ifaces: any[] = [];
    for (let i = 0; i < 40; i++) {
      ifaces = (await ok("GET", `/nodes/${NODE}/lxc/${VMID}/interfaces`)) as any[];
      if (ifaces.some((f) => f["ip-addresses"]?.some((a: any) => a["ip-address"] === IP))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const eth0 = ifaces.find((f) => f.name === "eth0");
    expect(eth0["ip-addresses"]).toContainEqual(
      expect.objectContaining({ "ip-address": IP, "ip-address-type": "inet" }),
    );
  });

  test("memory is hot-plugged into the running CT's cgroup: no restart", async () => {
    const before = await ok("GET", `/nodes/${NODE}/lxc/${VMID}/status/current`);
    await ok("PUT", `/nodes/${NODE}/lxc/${VMID}/config`, { memory: 1536 });
    const limit = await env.node.sh(
      `pct exec ${VMID} -- sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes'`,
    );
    expect(Number(limit)).toBe(1536 * 1024 * 1024);
    const after = await ok("GET", `/nodes/${NODE}/lxc/${VMID}/status/current`);
    expect(after.pid ?? after.uptime).toBeDefined();
    expect(after.uptime).toBeGreaterThanOrEqual(before.uptime);
  });

  test("a feature change stays pending on a running CT while the API reads it as applied (finding 5)", async () => {
    expect(lxcConfig()).toContain("lxc.seccomp.profile = /usr/share/lxc/config/common.seccomp");
    await ok("PUT", `/nodes/${NODE}/lxc/${VMID}/config`, { features: "nesting=1" });
    // What the provider reads (no `current`): the new value, as if applied.
    expect((await ok("GET", `/nodes/${NODE}/lxc/${VMID}/config`)).features).toBe("nesting=1");
    expect((await ok("GET", `/nodes/${NODE}/lxc/${VMID}/config`, { current: 1 })).features).toBe(
      "keyctl=1,nesting=1",
    );
    // The running CT still has keyctl (its LXC config is unchanged) until a reboot applies the pending change.
    expect(lxcConfig()).toContain("lxc.seccomp.profile = /usr/share/lxc/config/common.seccomp");
    expect((await task("POST", `/nodes/${NODE}/lxc/${VMID}/status/reboot`)).exitstatus).toBe("OK");
    await waitStatus("running");
    expect(lxcConfig()).toMatch(/lxc\.seccomp\.profile = .*seccomp-keyctl/);
    expect((await ok("GET", `/nodes/${NODE}/lxc/${VMID}/config`, { current: 1 })).features).toBe("nesting=1");
  });

  test("shutdown then delete: the CT and its rootfs volume go, the bind source stays", async () => {
    expect(
      (await task("POST", `/nodes/${NODE}/lxc/${VMID}/status/shutdown`, { forceStop: 1, timeout: 30 }))
        .exitstatus,
    ).toBe("OK");
    await waitStatus("stopped");
    expect((await task("DELETE", `/nodes/${NODE}/lxc/${VMID}`)).exitstatus).toBe("OK");
    const gone = await client.call("GET", `/nodes/${NODE}/lxc/${VMID}/status/current`);
    expect(gone.status).toBe(500);
    expect(gone.reason).toBe(`Configuration file 'nodes/${NODE}/lxc/${VMID}.conf' does not exist`);
    expect(fs.existsSync(pve.layout.volumeDir(NODE, "local-lvm", `vm-${VMID}-disk-0`))).toBe(false);
    expect(fs.readFileSync(path.join(bindSource, "memories.md"), "utf8")).toBe("kept\n");
  });

  test("no password in the request log", () => {
    const log = JSON.stringify(requests());
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain(ROOT_PW);
    expect(log).toContain("<redacted>");
  });
});
