/**
 * Cluster-wide reads and node presence (clusterApi.ts): GET /cluster/resources as pve-manager's Cluster.pm lists
 * guests and nodes, the proxy's 595 for every request to an offline node, and the CRM's failback when the node
 * returns (on PVE 8 through a group, `nofailback` honoured).
 */
import type { StorageDef } from "../layout";
import { createBody } from "./fixtures";
import { makeWorld, seedTemplate, World } from "./world";

const storages: StorageDef[] = [
  { id: "local", type: "dir", content: ["vztmpl", "iso", "backup", "import"] },
  { id: "ceph", type: "lvmthin", content: ["rootdir", "images"], shared: true },
];
const nodes = [
  { name: "pve1", storages },
  { name: "pve2", storages },
];

describe("GET /cluster/resources, an offline node, failback (PVE 8 groups)", () => {
  let w: World;
  const post = (p: string, body: Record<string, string>) => w.client.call("POST", p, body);
  beforeAll(async () => {
    w = await makeWorld({ nodes, version: "8.4.14" });
    seedTemplate(w);
    for (const vmid of [320, 321]) {
      const body: Record<string, string> = {
        ...createBody(vmid, w.binds, false),
        rootfs: "ceph:8",
        protection: "0",
      };
      for (const k of ["mp0", "mp1", "mp2"]) body[k] = `${body[k]},shared=1`;
      const a = await post("/nodes/pve1/lxc", body);
      expect((await w.client.waitTask("pve1", a.body.data)).exitstatus).toBe("OK");
      await w.client.waitStatus("pve1", vmid, "running");
    }
    // 320 fails back (group nofailback 0), 321 stays where HA put it (nofailback 1).
    expect((await post("/cluster/ha/groups", { group: "back", nodes: "pve1:2,pve2:1" })).status).toBe(200);
    expect(
      (await post("/cluster/ha/groups", { group: "stay", nodes: "pve1:2,pve2:1", nofailback: "1" })).status,
    ).toBe(200);
    expect((await post("/cluster/ha/resources", { sid: "ct:320", group: "back" })).status).toBe(200);
    expect((await post("/cluster/ha/resources", { sid: "ct:321", group: "stay" })).status).toBe(200);
  });
  afterAll(async () => w?.close());

  test("lists guests with their node and HA state, and the nodes; `type` is vm|storage|node|sdn", async () => {
    const vms = await w.client.call("GET", "/cluster/resources", { type: "vm" });
    expect(vms.body.data).toEqual([
      expect.objectContaining({
        id: "lxc/320",
        vmid: 320,
        node: "pve1",
        type: "lxc",
        status: "running",
        hastate: "started",
      }),
      expect.objectContaining({
        id: "lxc/321",
        vmid: 321,
        node: "pve1",
        type: "lxc",
        status: "running",
        hastate: "started",
      }),
    ]);
    const all = await w.client.call("GET", "/cluster/resources");
    // Cluster.pm's order (:553-656): guests, nodes, storages. A storage entry names its node too.
    expect([...new Set(all.body.data.map((e: { type: string }) => e.type))]).toEqual([
      "lxc",
      "node",
      "storage",
    ]);
    expect(all.body.data.filter((e: { type: string }) => e.type === "node")).toEqual([
      expect.objectContaining({ id: "node/pve1", node: "pve1", status: "online" }),
      expect.objectContaining({ id: "node/pve2", node: "pve2", status: "online" }),
    ]);
    expect(all.body.data).toContainEqual(expect.objectContaining({ id: "storage/pve2/ceph", shared: 1 }));
    const lxc = await w.client.call("GET", "/cluster/resources", { type: "lxc" });
    expect([lxc.status, lxc.body.errors]).toEqual([
      400,
      { type: "value 'lxc' does not have a value in the enumeration 'vm, storage, node, sdn'" },
    ]);
  });

  test("an offline node: 595 for every /nodes/<it>/... request; listed offline, its HA guests `fence`", async () => {
    w.pve.setNodeOffline("pve1");
    for (const [method, p] of [
      ["GET", "/nodes/pve1/lxc/320/config"],
      ["GET", "/nodes/pve1/lxc/320/status/current"],
      ["POST", "/nodes/pve1/lxc/320/status/start"],
      ["GET", "/nodes/pve1/anything/not/implemented"],
    ]) {
      const a = await w.client.call(method, p);
      expect([a.status, a.reason, a.raw]).toEqual([595, "No route to host", ""]);
    }
    expect((await w.client.call("GET", "/nodes/pve2/lxc/320/config")).status).toBe(500); // not there
    expect((await w.client.call("GET", "/nodes")).body.data).toContainEqual(
      expect.objectContaining({ node: "pve1", status: "offline" }),
    );
    const vms = await w.client.call("GET", "/cluster/resources", { type: "vm" });
    expect(vms.body.data[0]).toEqual({
      id: "lxc/320",
      vmid: 320,
      node: "pve1",
      type: "lxc",
      status: "unknown",
      tags: "agent;ai;pulumi",
      hastate: "fence",
    });
    expect(await w.pve.failback()).toEqual([]); // nothing goes to an offline node
    w.pve.bringNodeBack("pve1");
  });

  test("after recovery and the node's return, failback moves home only what has failback on", async () => {
    expect(await w.pve.recoverCt(320, "pve2")).toEqual({ from: "pve1", to: "pve2" });
    w.pve.bringNodeBack("pve1");
    expect(await w.pve.recoverCt(321, "pve2")).toEqual({ from: "pve1", to: "pve2" });
    // pve1 is offline again (321's recovery fenced it): failback waits for it.
    expect(await w.pve.failback()).toEqual([]);
    w.pve.bringNodeBack("pve1");
    expect(await w.pve.failback()).toEqual([{ vmid: 320, from: "pve2", to: "pve1" }]);
    const vms = await w.client.call("GET", "/cluster/resources", { type: "vm" });
    expect(vms.body.data.map((e: { vmid: number; node: string }) => [e.vmid, e.node])).toEqual([
      [320, "pve1"],
      [321, "pve2"],
    ]);
    expect((await w.client.call("GET", "/nodes/pve1/lxc/320/status/current")).body.data.status).toBe(
      "running",
    );
    expect((await w.client.call("GET", "/nodes/pve2/lxc/321/status/current")).body.data.status).toBe(
      "running",
    );
  });
});
