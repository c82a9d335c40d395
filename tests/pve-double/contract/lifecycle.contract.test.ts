/**
 * Lifecycle endpoints and their error texts (lxcApi.ts): start/shutdown/reboot/destroy, resize, create checks,
 * the version gate on `host-managed`, and more than one node.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createBody } from "./fixtures";
import { makeWorld, seedTemplate, World } from "./world";

describe("one node, PVE 8.4", () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld({ haResources: [171] });
    seedTemplate(w);
  });
  afterAll(async () => w?.close());
  const create = async (vmid: number, over: Record<string, string | undefined> = {}) => {
    const body: Record<string, string | undefined> = {
      ...createBody(vmid, w.binds, false),
      protection: "0",
      ...over,
    };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    return w.client.call("POST", `/nodes/${w.node}/lxc`, body as Record<string, string>);
  };

  test("status commands: already running / not running / VM not running (sic)", async () => {
    const a = await create(160);
    await w.client.waitTask(w.node, a.body.data);
    await w.client.waitStatus(w.node, 160, "running");
    const start = await w.client.call("POST", `/nodes/${w.node}/lxc/160/status/start`);
    expect([start.status, start.reason]).toEqual([500, "CT 160 already running"]);
    const destroy = await w.client.call("DELETE", `/nodes/${w.node}/lxc/160`);
    expect(destroy.reason).toBe("unable to destroy CT 160 - container is running");
    const stop = await w.client.call("POST", `/nodes/${w.node}/lxc/160/status/stop`);
    expect((await w.client.waitTask(w.node, stop.body.data)).exitstatus).toBe("OK");
    expect((await w.client.call("POST", `/nodes/${w.node}/lxc/160/status/shutdown`)).reason).toBe(
      "CT 160 not running",
    );
    expect((await w.client.call("POST", `/nodes/${w.node}/lxc/160/status/reboot`)).reason).toBe(
      "VM 160 not running",
    );
    const ifaces = await w.client.call("GET", `/nodes/${w.node}/lxc/160/interfaces`);
    expect(ifaces.body.data).toBeNull();
  });

  test("resize: grows, refuses to shrink or stay, ignores protection (§5.6)", async () => {
    expect((await w.client.call("PUT", `/nodes/${w.node}/lxc/160/config`, { protection: 1 })).status).toBe(
      200,
    );
    const grow = await w.client.call("PUT", `/nodes/${w.node}/lxc/160/resize`, {
      disk: "rootfs",
      size: "+8G",
    });
    expect((await w.client.waitTask(w.node, grow.body.data)).exitstatus).toBe("OK");
    const cfg = await w.client.call("GET", `/nodes/${w.node}/lxc/160/config`);
    expect(cfg.body.data.rootfs).toBe("local-lvm:vm-160-disk-0,size=32G");
    expect(
      (await w.client.call("PUT", `/nodes/${w.node}/lxc/160/resize`, { disk: "rootfs", size: "16G" })).reason,
    ).toBe("unable to shrink disk size");
    expect(
      (await w.client.call("PUT", `/nodes/${w.node}/lxc/160/resize`, { disk: "rootfs", size: "32G" })).reason,
    ).toBe("disk is already at specified size");
    expect((await w.client.call("PUT", `/nodes/${w.node}/lxc/160/config`, { protection: 0 })).status).toBe(
      200,
    );
  });

  test("create checks in Proxmox's order: vmid in use, ssh key, missing rootfs with mount points", async () => {
    expect((await create(160)).reason).toBe("CT 160 already exists on node 'pve'");
    expect((await create(161, { "ssh-public-keys": "not a key" })).reason).toBe(
      "SSH public key validation error",
    );
    expect((await create(161, { rootfs: undefined })).reason).toBe(
      "mount points configured, but 'rootfs' not set - aborting",
    );
    const a = await create(161, { vmid: "abc" });
    expect(a.body.errors.vmid).toBe("type check ('integer') failed - got 'abc'");
    expect(fs.existsSync(w.pve.layout.confPath(w.node, 161))).toBe(false);
  });

  test("a missing bind source fails the create task, and the config is removed (§6.8)", async () => {
    const missing = path.join(w.tmp, "not-mounted", "hermes");
    const a = await create(162, { mp0: `mp=/srv/hermes,volume=${missing}` });
    expect(a.status).toBe(200);
    const t = await w.client.waitTask(w.node, a.body.data);
    expect(t.exitstatus).toBe(`unable to create CT 162 - directory '${missing}' does not exist`);
    const st = await w.client.call("GET", `/nodes/${w.node}/lxc/162/status/current`);
    expect(st.reason).toBe("Configuration file 'nodes/pve/lxc/162.conf' does not exist");
    expect(fs.existsSync(w.pve.layout.volumeDir(w.node, "local-lvm", "vm-162-disk-0"))).toBe(false);
  });

  test("a missing template fails the create task", async () => {
    const a = await create(163, { ostemplate: "local:vztmpl/nope-12.tar.zst", start: "0" });
    const t = await w.client.waitTask(w.node, a.body.data);
    expect(t.exitstatus).toBe("unable to create CT 163 - can't find file 'local:vztmpl/nope-12.tar.zst'");
  });

  test("destroy: never touches bind sources; refuses an HA resource without purge (simulated HA)", async () => {
    fs.writeFileSync(path.join(w.binds[1], "bulk.bin"), "data");
    const d = await w.client.call("DELETE", `/nodes/${w.node}/lxc/160`);
    expect((await w.client.waitTask(w.node, d.body.data)).exitstatus).toBe("OK");
    expect(fs.readFileSync(path.join(w.binds[1], "bulk.bin"), "utf8")).toBe("data");
    expect(fs.existsSync(w.pve.layout.confPath(w.node, 160))).toBe(false);
    const a = await create(171, { start: "0" });
    await w.client.waitTask(w.node, a.body.data);
    expect((await w.client.call("DELETE", `/nodes/${w.node}/lxc/171`)).reason).toBe(
      "unable to remove CT 171 - used in HA resources and purge parameter not set.",
    );
    const p = await w.client.call("DELETE", `/nodes/${w.node}/lxc/171`, { purge: 1 });
    expect((await w.client.waitTask(w.node, p.body.data)).exitstatus).toBe("OK");
  });

  test("PVE 8.4 refuses host-managed in net0 (the provider sends it only to ≥ 9.1)", async () => {
    const a = await create(164, { net0: "bridge=intra01,host-managed=0,ip=dhcp,name=eth0" });
    expect(a.status).toBe(400);
    expect(a.body.errors.net0).toBe(
      "invalid format - invalid key in comma-separated list property: host-managed\n",
    );
    expect((await w.client.call("GET", "/version")).body.data.version).toBe("8.4.14");
  });

  test("unknown paths and nodes", async () => {
    expect((await w.client.call("GET", "/nodes/pve/qemu")).reason).toBe(
      "Method 'GET /nodes/pve/qemu' not implemented",
    );
    expect((await w.client.call("GET", "/nodes/elsewhere/lxc/160/config")).reason).toBe(
      "hostname lookup 'elsewhere' failed - failed to get address info for: elsewhere: Name or service not known",
    );
  });
});

describe("PVE 9.1 and two nodes", () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld({ version: "9.1.1", nodes: [{ name: "pve1" }, { name: "pve2" }] });
    seedTemplate(w);
  });
  afterAll(async () => w?.close());

  test("host-managed is accepted and stored in canonical order", async () => {
    const a = await w.client.call("POST", "/nodes/pve1/lxc", createBody(180, w.binds, true));
    expect((await w.client.waitTask("pve1", a.body.data)).exitstatus).toBe("OK");
    const cfg = await w.client.call("GET", "/nodes/pve1/lxc/180/config");
    expect(cfg.body.data.net0).toMatch(
      /^name=eth0,bridge=intra01,host-managed=0,hwaddr=BC:24:11:[0-9A-F:]{8},ip=dhcp,type=veth$/,
    );
  });

  test("a VMID is unique cluster-wide; a CT is only visible on its own node", async () => {
    const dir = w.pve.layout.templateDir("pve2", "local");
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(
      path.join(w.pve.layout.templateDir("pve1", "local"), "debian-12-standard_12.12-1_amd64.tar.zst"),
      path.join(dir, "debian-12-standard_12.12-1_amd64.tar.zst"),
    );
    const again = await w.client.call("POST", "/nodes/pve2/lxc", createBody(180, w.binds, true));
    expect([again.status, again.reason]).toEqual([500, "CT 180 already exists on node 'pve1'"]);
    const other = await w.client.call("GET", "/nodes/pve2/lxc/180/config");
    expect([other.status, other.reason]).toEqual([
      500,
      "Configuration file 'nodes/pve2/lxc/180.conf' does not exist",
    ]);
    const b = await w.client.call("POST", "/nodes/pve2/lxc", {
      ...createBody(181, w.binds, true),
      protection: "0",
    });
    expect((await w.client.waitTask("pve2", b.body.data)).exitstatus).toBe("OK");
    expect(fs.existsSync(w.pve.layout.confPath("pve2", 181))).toBe(true);
    expect(b.body.data.split(":")[1]).toBe("pve2");
    const nodes = await w.client.call("GET", "/nodes");
    expect(nodes.body.data.map((n: any) => n.node)).toEqual(["pve1", "pve2"]);
  });
});
