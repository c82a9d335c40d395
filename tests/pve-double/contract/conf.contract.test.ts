/**
 * The PVE-format config (pveConf.ts, propertyString.ts) and the update rules of §5.5: canonical property strings,
 * description as `#` lines, digest, `[pve:pending]` with the fast-plug / hot-plug / pending-until-start rules.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { parseConf, writeConf } from "../pveConf";
import { formatSize, parsePropertyString, printPropertyString } from "../propertyString";
import { MP_DESC, ROOTFS_DESC } from "../pveConf";
import { createBody } from "./fixtures";
import { makeWorld, seedTemplate, World } from "./world";

describe("property strings (pve-common JSONSchema.pm)", () => {
  test("the default key first, required keys next, the rest sorted; sizes as 24G", () => {
    const mp = parsePropertyString(
      MP_DESC,
      "mp=/srv/hermes,volume=/var/lib/hermes-lxc/hermes,backup=0,ro=true",
    );
    expect(printPropertyString(MP_DESC, mp)).toBe("/var/lib/hermes-lxc/hermes,mp=/srv/hermes,backup=0,ro=1");
    const root = parsePropertyString(
      ROOTFS_DESC,
      "acl=0,size=34359738368,quota=0,replicate=0,volume=local-lvm:vm-118-disk-0",
    );
    expect(printPropertyString(ROOTFS_DESC, root)).toBe(
      "local-lvm:vm-118-disk-0,acl=0,quota=0,replicate=0,size=32G",
    );
    expect([formatSize(1024), formatSize(1536), formatSize(4 * 1024 ** 3)]).toEqual(["1K", "1536", "4G"]);
    expect(() => parsePropertyString(ROOTFS_DESC, "local:1,bogus=1")).toThrow(
      "invalid key in comma-separated list property: bogus",
    );
  });

  test("description: `#` lines encoded, read back with a trailing newline; digest is the file's SHA-1", () => {
    const raw =
      "#line one%3A with colon\n#\n#line three\narch: amd64\ncores: 2\nlxc.apparmor.profile: unconfined\n";
    const conf = parseConf(raw);
    expect(conf.main.props.description).toBe("line one: with colon\n\nline three\n");
    expect(conf.digest).toBe(createHash("sha1").update(raw).digest("hex"));
    expect(writeConf(conf)).toBe(raw);
  });
});

describe("update rules on a live CT (§5.5)", () => {
  let w: World;
  const VMID = 150;
  const cfg = async (current = false) =>
    (await w.client.call("GET", `/nodes/${w.node}/lxc/${VMID}/config`, current ? { current: 1 } : {})).body
      .data;
  const put = (params: Record<string, string | number>) =>
    w.client.call("PUT", `/nodes/${w.node}/lxc/${VMID}/config`, params);
  const file = () => fs.readFileSync(w.pve.layout.confPath(w.node, VMID), "utf8");

  beforeAll(async () => {
    w = await makeWorld();
    seedTemplate(w);
    const body = {
      ...createBody(VMID, w.binds, false),
      protection: "0",
      description: "line one: colon\nline two",
    };
    const a = await w.client.call("POST", `/nodes/${w.node}/lxc`, body);
    await w.client.waitTask(w.node, a.body.data);
    await w.client.waitStatus(w.node, VMID, "running");
  });
  afterAll(async () => w?.close());

  test("the file on disk is Proxmox's format", () => {
    const text = file();
    expect(text.startsWith("#line one%3A colon\n#line two\narch: amd64\n")).toBe(true);
    const keys = text
      .split("\n")
      .filter((l) => /^[a-z]/.test(l))
      .map((l) => l.split(":")[0]);
    expect(keys).toEqual([...keys].sort());
    expect(text).toMatch(/^rootfs: local-lvm:vm-150-disk-0,size=24G$/m);
    expect(text).toMatch(/^mp1: .*\/host\/hdd,mp=\/data$/m);
    expect(text).toMatch(/^unprivileged: 1$/m);
  });

  test("features on a running CT stay pending; GET merges them, current=1 does not; a reboot applies them", async () => {
    expect((await put({ features: "fuse=1,keyctl=1,nesting=1" })).status).toBe(200);
    expect(file()).toMatch(/\n\[pve:pending\]\nfeatures: fuse=1,keyctl=1,nesting=1\n$/);
    expect((await cfg()).features).toBe("fuse=1,keyctl=1,nesting=1");
    expect((await cfg(true)).features).toBe("keyctl=1,nesting=1");
    const r = await w.client.call("POST", `/nodes/${w.node}/lxc/${VMID}/status/reboot`);
    await w.client.waitTask(w.node, r.body.data);
    expect(file()).not.toContain("[pve:pending]");
    expect(w.sim.startedWith.get(VMID)?.props.features).toBe("fuse=1,keyctl=1,nesting=1");
  });

  test("fast-plug keys apply at once; memory goes through the backend's hot-plug; nameserver waits", async () => {
    const before = w.sim.hotplugged.length;
    expect((await put({ hostname: "hermes2", onboot: 0, memory: 2048, nameserver: "10.0.0.1" })).status).toBe(
      200,
    );
    const text = file();
    const [main, pending] = text.split("[pve:pending]");
    expect(main).toMatch(/^hostname: hermes2$/m);
    expect(main).toMatch(/^onboot: 0$/m);
    expect(main).toMatch(/^memory: 2048$/m);
    expect(pending).toBe("\nnameserver: 10.0.0.1\n");
    expect(w.sim.hotplugged.slice(before)).toEqual([{ vmid: VMID, keys: ["memory"] }]);
    const c = await cfg();
    expect(c.onboot).toBe(0);
    expect(c.nameserver).toBe("10.0.0.1");
  });

  test("a stopped CT applies everything at once", async () => {
    const s = await w.client.call("POST", `/nodes/${w.node}/lxc/${VMID}/status/shutdown`);
    await w.client.waitTask(w.node, s.body.data);
    expect((await put({ searchdomain: "lan" })).status).toBe(200);
    expect(file()).not.toContain("[pve:pending]");
    expect(file()).toMatch(/^nameserver: 10.0.0.1$/m);
    expect((await put({ delete: "searchdomain" })).status).toBe(200);
    expect((await cfg()).searchdomain).toBeUndefined();
  });

  test("refusals: no options, unknown key, bad type, digest, read-only unprivileged, protection on disks, lock", async () => {
    let a = await put({});
    expect([a.status, a.reason]).toEqual([500, "no options specified"]);
    a = await put({ bogus: 1 });
    expect(a.status).toBe(400);
    expect(a.body.errors.bogus).toBe(
      "property is not defined in schema and the schema does not allow additional properties",
    );
    a = await put({ cores: "two" });
    expect(a.body.errors.cores).toBe("type check ('integer') failed - got 'two'");
    a = await put({ cores: 2, digest: "0".repeat(40) });
    expect(a.reason).toBe("detected modified configuration - file changed by other user? Try again.");
    a = await put({ unprivileged: 0 });
    expect(a.reason).toBe("unable to modify read-only option: 'unprivileged'");
    expect((await put({ protection: 1 })).status).toBe(200);
    a = await put({ mp0: `mp=/srv/other,volume=${w.binds[0]}` });
    expect(a.reason).toBe(`can't update CT ${VMID} drive 'mp0' - protection mode enabled`);
    a = await put({ delete: "mp2" });
    expect(a.reason).toBe(`can't remove CT ${VMID} drive 'mp2' - protection mode enabled`);
    expect((await put({ protection: 0 })).status).toBe(200);
    fs.appendFileSync(w.pve.layout.confPath(w.node, VMID), "lock: backup\n");
    a = await put({ cores: 1 });
    expect(a.reason).toBe("CT is locked (backup)");
    expect((await w.client.call("GET", `/nodes/${w.node}/lxc/${VMID}/status/current`)).body.data.lock).toBe(
      "backup",
    );
  });
});
