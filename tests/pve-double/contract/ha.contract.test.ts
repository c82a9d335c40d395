/**
 * The /cluster/ha endpoints (haApi.ts) as pve-ha-manager defines them, on a two-node cluster sharing one storage
 * directory, and the HA recovery move (recoverCt) the relocation drill uses: stop on the dead node, config renamed
 * to the new node, start there, the same volumes and bind sources.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StorageDef } from "../layout";
import { createBody } from "./fixtures";
import { makeWorld, seedTemplate, World } from "./world";

const storages: StorageDef[] = [
  { id: "local", type: "dir", content: ["vztmpl", "iso", "backup", "import"] },
  { id: "local-lvm", type: "lvmthin", content: ["rootdir", "images"] },
  { id: "ceph", type: "lvmthin", content: ["rootdir", "images"], shared: true },
];
const nodes = [
  { name: "pve1", storages },
  { name: "pve2", storages },
];

async function createCt(w: World, vmid: number, hostManaged: boolean) {
  const body: Record<string, string> = {
    ...createBody(vmid, w.binds, hostManaged),
    rootfs: "ceph:8",
    protection: "0",
  };
  for (const k of ["mp0", "mp1", "mp2"]) body[k] = `${body[k]},shared=1`;
  const a = await w.client.call("POST", "/nodes/pve1/lxc", body);
  expect(a.status).toBe(200);
  expect((await w.client.waitTask("pve1", a.body.data)).exitstatus).toBe("OK");
  await w.client.waitStatus("pve1", vmid, "running");
}

describe("HA on PVE 9: resources and node-affinity rules", () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld({ nodes, version: "9.1.1" });
    seedTemplate(w);
    await createCt(w, 300, true);
  });
  afterAll(async () => w?.close());
  const post = (p: string, body: Record<string, string>) => w.client.call("POST", p, body);

  test("create, read and list an HA resource with the provider's parameters", async () => {
    const r = await post("/cluster/ha/resources", {
      sid: "ct:300",
      state: "started",
      failback: "1",
      max_restart: "1",
      max_relocate: "2",
      comment: "hermes-lxc (managed by Pulumi)",
    });
    expect([r.status, r.body.data]).toEqual([200, null]);
    const read = await w.client.call("GET", "/cluster/ha/resources/ct:300");
    expect(read.body.data).toMatchObject({
      sid: "ct:300",
      type: "ct",
      state: "started",
      failback: 1,
      max_restart: 1,
      max_relocate: 2,
    });
    expect(read.body.data.digest).toMatch(/^[0-9a-f]{40}$/);
    const list = await w.client.call("GET", "/cluster/ha/resources");
    expect(list.body.data.map((x: { sid: string }) => x.sid)).toEqual(["ct:300"]);
    const status = await w.client.call("GET", "/nodes/pve1/lxc/300/status/current");
    expect(status.body.data.ha.managed).toBe(1);
  });

  test("resource refusals, in Resources.pm's words", async () => {
    const again = await post("/cluster/ha/resources", { sid: "ct:300" });
    expect([again.status, again.reason]).toEqual([500, "resource ID 'ct:300' already defined"]);
    expect((await post("/cluster/ha/resources", { sid: "ct:999" })).reason).toBe(
      "resource 'ct:999' does not exist in cluster",
    );
    expect((await post("/cluster/ha/resources", { sid: "300", type: "vm" })).reason).toBe(
      "types does not match",
    );
    expect((await post("/cluster/ha/resources", { sid: "ct:300", group: "agents" })).reason).toBe(
      "invalid parameter 'group': ha groups have been migrated to rules",
    );
    const bad = await post("/cluster/ha/resources", { sid: "ct:301", state: "running", bogus: "1" });
    expect([bad.status, bad.body.errors]).toEqual([
      400,
      {
        state:
          "value 'running' does not have a value in the enumeration 'started, stopped, enabled, disabled, ignored'",
        bogus: "property is not defined in schema and the schema does not allow additional properties",
      },
    ]);
    // What the provider's read maps to "does not exist" (bpg proxmox/api/client.go: 500 + "no such resource").
    const missing = await w.client.call("GET", "/cluster/ha/resources/ct:301");
    expect([missing.status, missing.reason]).toEqual([500, "no such resource 'ct:301'"]);
    expect((await w.client.call("DELETE", "/cluster/ha/resources/ct:301")).reason).toBe(
      "cannot delete service 'ct:301', not HA managed!",
    );
  });

  test("groups are refused once migrated (none left on PVE 9)", async () => {
    const g = await post("/cluster/ha/groups", { group: "agents", nodes: "pve1:2,pve2:1" });
    expect(g.reason).toBe("cannot create group: ha groups have been migrated to rules");
  });

  test("a node-affinity rule: created with the home node first; its refusals", async () => {
    const r = await post("/cluster/ha/rules", {
      rule: "hermes-hermes",
      type: "node-affinity",
      resources: "ct:300",
      nodes: "pve1:2,pve2:1",
      strict: "0",
    });
    expect(r.status).toBe(200);
    const read = await w.client.call("GET", "/cluster/ha/rules/hermes-hermes");
    expect(read.body.data).toMatchObject({
      rule: "hermes-hermes",
      type: "node-affinity",
      resources: "ct:300",
      nodes: "pve1:2,pve2:1",
      strict: 0,
      order: 1,
    });
    expect(
      (
        await post("/cluster/ha/rules", {
          rule: "other",
          type: "node-affinity",
          resources: "ct:301",
          nodes: "pve1",
        })
      ).reason,
    ).toBe("cannot use unmanaged resource(s) ct:301.");
    expect(
      (
        await post("/cluster/ha/rules", {
          rule: "other",
          type: "node-affinity",
          resources: "ct:300",
          nodes: "pve9:1",
        })
      ).reason,
    ).toBe("cannot use non-existent node(s) pve9.");
    const twice = await post("/cluster/ha/rules", {
      rule: "other",
      type: "node-affinity",
      resources: "ct:300",
      nodes: "pve2",
    });
    expect([twice.status, twice.body.errors]).toEqual([
      400,
      { resources: "resource 'ct:300' is already used in another node affinity rule" },
    ]);
    const noNodes = await post("/cluster/ha/rules", {
      rule: "other",
      type: "node-affinity",
      resources: "ct:300",
    });
    expect([noNodes.status, noNodes.body.errors]).toEqual([
      400,
      { nodes: "property is missing and it is not optional" },
    ]);
    expect((await w.client.call("GET", "/cluster/ha/rules/nope")).reason).toBe("no such ha rule 'nope'");
  });

  test("an HA-managed CT cannot be destroyed without purge", async () => {
    await w.client.call("PUT", "/nodes/pve1/lxc/300/config", { protection: "0" });
    const d = await w.client.call("DELETE", "/nodes/pve1/lxc/300");
    expect(d.reason).toBe("unable to remove CT 300 - used in HA resources and purge parameter not set.");
  });

  test("recovery after a node loss: the config moves, the CT runs on pve2 with the same volumes", async () => {
    const rootfs = w.pve.layout.volumeDir("pve1", "ceph", "vm-300-disk-0");
    expect(rootfs).toBe(w.pve.layout.volumeDir("pve2", "ceph", "vm-300-disk-0")); // one shared directory
    fs.writeFileSync(path.join(w.binds[0], "memory.md"), "the agent's memories\n");
    const before = await w.client.call("GET", "/nodes/pve1/lxc/300/config");

    expect(await w.pve.recoverCt(300, "pve2")).toEqual({ from: "pve1", to: "pve2" });

    // While pve1 is down (fenced), every request for it gets pveproxy's 595: the provider's read errors.
    const down = await w.client.call("GET", "/nodes/pve1/lxc/300/config");
    expect([down.status, down.reason, down.raw]).toEqual([595, "No route to host", ""]);
    const resources = await w.client.call("GET", "/cluster/resources", { type: "vm" });
    expect(resources.body.data).toEqual([
      expect.objectContaining({
        id: "lxc/300",
        vmid: 300,
        node: "pve2",
        type: "lxc",
        status: "running",
        hastate: "started",
      }),
    ]);
    // Once pve1 is back and before failback, the read of the node in state finds nothing: why a plain refresh
    // then drops the CT.
    w.pve.bringNodeBack("pve1");
    const stale = await w.client.call("GET", "/nodes/pve1/lxc/300/config");
    expect([stale.status, stale.reason]).toEqual([
      500,
      "Configuration file 'nodes/pve1/lxc/300.conf' does not exist",
    ]);
    const live = await w.client.call("GET", "/nodes/pve2/lxc/300/config");
    expect(live.body.data.rootfs).toBe(before.body.data.rootfs);
    expect(live.body.data.mp0).toBe(before.body.data.mp0);
    expect((await w.client.call("GET", "/nodes/pve2/lxc/300/status/current")).body.data.status).toBe(
      "running",
    );
    expect(fs.existsSync(rootfs)).toBe(true);
    expect(fs.readFileSync(path.join(w.binds[0], "memory.md"), "utf8")).toBe("the agent's memories\n");
    // The VMID is still taken cluster-wide: a re-create (what `up` plans after a drop) can never succeed.
    const create = await w.client.call("POST", "/nodes/pve1/lxc", {
      ...createBody(300, w.binds, true),
      rootfs: "ceph:8",
    });
    expect(create.reason).toBe("CT 300 already exists on node 'pve2'");
    // Failback (the rule prefers pve1:2, failback on): the CRM relocates the CT home.
    expect(await w.pve.failback()).toEqual([{ vmid: 300, from: "pve2", to: "pve1" }]);
    expect(await w.pve.failback()).toEqual([]);
    expect((await w.client.call("GET", "/nodes/pve1/lxc/300/status/current")).body.data.status).toBe(
      "running",
    );
  });

  test("deleting the resource (purge by default) drops the rule left empty", async () => {
    expect((await w.client.call("DELETE", "/cluster/ha/resources/ct:300")).status).toBe(200);
    expect((await w.client.call("GET", "/cluster/ha/rules")).body.data).toEqual([]);
    const status = await w.client.call("GET", "/nodes/pve1/lxc/300/status/current");
    expect(status.body.data.ha.managed).toBe(0);
  });
});

describe("HA on PVE 8: groups, no rules, no failback on resources", () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld({ nodes, version: "8.4.14" });
    seedTemplate(w);
    await createCt(w, 310, false);
  });
  afterAll(async () => w?.close());

  test("a group with priorities and a resource in it", async () => {
    const g = await w.client.call("POST", "/cluster/ha/groups", {
      group: "hermes-hermes",
      nodes: "pve1:2,pve2:1",
      restricted: "0",
      nofailback: "0",
      comment: "hermes-lxc (managed by Pulumi)",
    });
    expect(g.status).toBe(200);
    expect((await w.client.call("GET", "/cluster/ha/groups/hermes-hermes")).body.data).toMatchObject({
      group: "hermes-hermes",
      type: "group",
      nodes: "pve1:2,pve2:1",
      restricted: 0,
      nofailback: 0,
    });
    const r = await w.client.call("POST", "/cluster/ha/resources", { sid: "ct:310", group: "hermes-hermes" });
    expect(r.status).toBe(200);
    expect((await w.client.call("GET", "/cluster/ha/resources/ct:310")).body.data.group).toBe(
      "hermes-hermes",
    );
    const up = await w.client.call("PUT", "/cluster/ha/resources/ct:310", { group: "nope" });
    expect(up.reason).toBe("HA group 'nope' does not exist");
  });

  test("failback is not a resource property before PVE 9; rules do not exist", async () => {
    const r = await w.client.call("POST", "/cluster/ha/resources", { sid: "ct:311", failback: "1" });
    expect([r.status, r.body.errors]).toEqual([
      400,
      { failback: "property is not defined in schema and the schema does not allow additional properties" },
    ]);
    const rules = await w.client.call("GET", "/cluster/ha/rules");
    expect([rules.status, rules.reason]).toEqual([501, "Method 'GET /cluster/ha/rules' not implemented"]);
  });
});
