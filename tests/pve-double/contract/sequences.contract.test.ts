/**
 * The provider's recorded request sequences (fixtures.ts, from proxmox-api.md §3 and §4) against the double,
 * with the answer types the provider parses (proxmox-api.md §3.5 "Types matter").
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  createBody,
  CT_CREATE,
  DESTROY_PROTECTED,
  DISK_GROW_PROTECTED,
  DOWNLOAD_CREATE,
  REDOWNLOAD_NO_CHECKSUM,
  REFRESH,
  REPLACE_DELETE,
  UPDATE_REBOOT,
} from "./fixtures";
import { expectUpid, play } from "./play";
import { makeWorld, TEMPLATE, World } from "./world";

const VMID = 118;
let w: World;
let vars: Record<string, string>;

beforeAll(async () => {
  w = await makeWorld({ nodes: [{ name: "gihyeon" }] });
  vars = {
    node: w.node,
    vmid: String(VMID),
    url: w.templateUrl,
    templateDir: w.pve.layout.templateDir(w.node, "local"),
  };
});
afterAll(async () => w?.close());

/** Integer and boolean keys the provider reads as JSON numbers (containers_types.go:215-246; CustomBool is
 *  true only for the raw bytes 1/true, common_types.go:69-74). */
const NUMERIC_KEYS = [
  "console",
  "cores",
  "memory",
  "onboot",
  "protection",
  "swap",
  "template",
  "tty",
  "unprivileged",
];

function expectProviderTypes(config: Record<string, unknown>): void {
  for (const k of NUMERIC_KEYS)
    if (k in config) expect({ k, type: typeof config[k] }).toEqual({ k, type: "number" });
  expect(config.rootfs).toMatch(/(^|,)size=\d+G(,|$)/);
  expect(typeof config.description).toBe("string");
  expect(config.description as string).toMatch(/\n$/);
  expect(typeof config.digest).toBe("string");
}

describe("download.File create (§3.3, B1)", () => {
  test("metadata, download task, content list: the fields and types the provider reads", async () => {
    const played = await play(w, DOWNLOAD_CREATE, vars);
    const [login, meta, dl, content] = played;
    expect(typeof login.answer.body.data.ticket).toBe("string");
    expect(typeof login.answer.body.data.CSRFPreventionToken).toBe("string");
    expect(login.answer.body.data.username).toBe("root@pam");
    expect(login.answer.body.data.NeedTFA).toBeUndefined();
    expect(meta.answer.body.data.filename).toBe(TEMPLATE);
    expect(typeof meta.answer.body.data.size).toBe("number");
    expect(dl.task.type).toBe("download");
    expect(dl.task.id).toBe(TEMPLATE);
    const item = content.answer.body.data.find((c: any) => c.volid === `local:vztmpl/${TEMPLATE}`);
    expect(item).toBeDefined();
    expect(typeof item.size).toBe("number");
    expect(item.size).toBe(meta.answer.body.data.size);
  });

  test("a re-download without checksum fails as B4 did: refusing to override, then log and task DELETE", async () => {
    await play(w, REDOWNLOAD_NO_CHECKSUM, vars);
  });
});

describe("ContainerLegacy create, read, update, grow, destroy (§3.4-§3.7)", () => {
  test("create (B1): UPID, unlocked and running after, typed config", async () => {
    const played = await play(w, CT_CREATE, vars, createBody(VMID, w.binds, false));
    expect(played[0].answer.body.data.version).toMatch(/^\d+\.\d+\.\d+$/);
    expectUpid(played[1].answer.body.data, w.node);
    expect(played[1].task.type).toBe("vzcreate");
    expect(played[2].answer.body.data.lock).toBeUndefined();
    const config = played[4].answer.body.data;
    expectProviderTypes(config);
    expect(config.rootfs).toBe("local-lvm:vm-118-disk-0,size=24G");
    expect(config.mp0).toBe(`${w.binds[0]},mp=/srv/hermes`);
    expect(config.net0).toMatch(
      /^name=eth0,bridge=intra01,hwaddr=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},ip=dhcp,type=veth$/,
    );
    expect(config.features).toBe("keyctl=1,nesting=1");
    expect(config.description).toBe("hermes-agent gateway (managed by Pulumi: hermes-lxc)\n");
    expect(config.tags).toBe("agent;ai;pulumi");
    expect(config.protection).toBe(1);
    expect(config.cpulimit).toBe(0);
    // start=1 forks a vzstart task from the create worker (asynchronous, as in Proxmox): the provider's checks
    // see it starting or running, and it runs soon after.
    const status = played[5].answer.body.data;
    expect(["running", "stopped"]).toContain(status.status);
    expect(typeof status.vmid).toBe("number");
    await w.client.waitStatus(w.node, VMID, "running");
    const ifaces = (await w.client.call("GET", `/nodes/${w.node}/lxc/${VMID}/interfaces`)).body.data;
    expect(ifaces.map((i: any) => i.name)).toEqual(["lo", "eth0"]);
    for (const i of ifaces) {
      expect(typeof i.name).toBe("string");
      for (const a of i["ip-addresses"]) expect(["inet", "inet6"]).toContain(a["ip-address-type"]);
    }
  });

  test("raw lxc.* lines written on the node come back as [key, value] pairs", async () => {
    const conf = w.pve.layout.confPath(w.node, VMID);
    fs.appendFileSync(
      conf,
      "lxc.cgroup2.devices.allow: c 10:200 rwm\nlxc.mount.entry: /dev/net dev/net none bind,create=dir 0 0\n",
    );
    const a = await w.client.call("GET", `/nodes/${w.node}/lxc/${VMID}/config`);
    expect(a.body.data.lxc).toEqual([
      ["lxc.cgroup2.devices.allow", "c 10:200 rwm"],
      ["lxc.mount.entry", "/dev/net dev/net none bind,create=dir 0 0"],
    ]);
  });

  test("refresh (§3.5): the same typed answers again", async () => {
    const played = await play(w, REFRESH, vars);
    expectProviderTypes(played[1].answer.body.data);
  });

  test("update with reboot (B7): cores fast-plugged, memory hot-plugged, cpulimit deleted, description kept", async () => {
    const before = w.sim.hotplugged.length;
    const played = await play(w, UPDATE_REBOOT, vars);
    const config = played[3].answer.body.data;
    expectProviderTypes(config);
    expect(config.cores).toBe(3);
    expect(config.memory).toBe(6144);
    expect(config.cpulimit).toBeUndefined();
    expect(config.tags).toBe("agent;ai;probe;pulumi");
    expect(config.description).toBe("hermes-agent gateway (managed by Pulumi: hermes-lxc)\n");
    expect(w.sim.hotplugged.slice(before).map((h) => h.keys[0])).toEqual(["cpulimit", "memory"]);
    expect(played[2].task.type).toBe("vzreboot");
    expect(fs.readFileSync(w.pve.layout.confPath(w.node, VMID), "utf8")).not.toContain("[pve:pending]");
  });

  test("disk grow with protection on (B8, §6.1): resized, then the config PUT is refused", async () => {
    await play(w, DISK_GROW_PROTECTED, vars);
    const a = await w.client.call("GET", `/nodes/${w.node}/lxc/${VMID}/config`);
    expect(a.body.data.rootfs).toBe("local-lvm:vm-118-disk-0,size=32G");
  });

  test("destroy with protection set on the node (B13, §6.4): stopped, then DELETE refused three times", async () => {
    await play(w, DESTROY_PROTECTED, vars);
    const a = await w.client.call("GET", `/nodes/${w.node}/lxc/${VMID}/status/current`);
    expect(a.body.data.status).toBe("stopped");
  });

  test("replacement's delete half (B10b): protection off, shutdown, DELETE, then status must fail; bind sources kept", async () => {
    fs.writeFileSync(path.join(w.binds[0], "memories.db"), "precious\n");
    await w.client.call("POST", `/nodes/${w.node}/lxc/${VMID}/status/start`);
    await w.client.waitStatus(w.node, VMID, "running");
    await play(w, REPLACE_DELETE, vars);
    expect(fs.readFileSync(path.join(w.binds[0], "memories.db"), "utf8")).toBe("precious\n");
    expect(fs.existsSync(w.pve.layout.volumeDir(w.node, "local-lvm", "vm-118-disk-0"))).toBe(false);
    expect(fs.existsSync(path.join(w.pve.layout.templateDir(w.node, "local"), TEMPLATE))).toBe(true);
  });

  test("the request log has every call of the run, and no secret", () => {
    const log = w.readLog();
    expect(log.length).toBeGreaterThan(30);
    for (const e of log) {
      expect(typeof e.method).toBe("string");
      expect(typeof e.status).toBe("number");
    }
    const raw = fs.readFileSync(w.pve.requestLog, "utf8");
    expect(raw).not.toContain("correct horse battery staple");
    expect(log.filter((e) => e.path.endsWith("/access/ticket"))[0].params.password).toBe("<redacted>");
    const creates = log.filter((e) => e.method === "POST" && e.path === `/api2/json/nodes/${w.node}/lxc`);
    expect(creates).toHaveLength(1);
    expect(creates[0].params["ssh-public-keys"]).toContain("ssh-ed25519");
  });
});
