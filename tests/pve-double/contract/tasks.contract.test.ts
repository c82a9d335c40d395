/**
 * Real tasks (tasks.ts): UPIDs from real worker pids and their /proc start time, running then stopped with an
 * exitstatus, logs, DELETE, and 400 `no such task`.
 */
import * as fs from "node:fs";
import { procStartTime } from "../tasks";
import { createBody } from "./fixtures";
import { makeWorld, seedTemplate, World } from "./world";

let w: World;
beforeAll(async () => {
  w = await makeWorld();
  seedTemplate(w);
});
afterAll(async () => w?.close());

const upidPath = (w: World, upid: string, tail = "") =>
  `/nodes/${w.node}/tasks/${encodeURIComponent(upid)}${tail}`;

test("a vzcreate task: real worker pid + pstart in the UPID, running with `lock: create` on the CT, then stopped/OK", async () => {
  w.sim.delays.create = 2000; // long enough to look while it runs, even on a loaded CI machine
  try {
    const a = await w.client.call("POST", `/nodes/${w.node}/lxc`, createBody(140, w.binds, false));
    const upid: string = a.body.data;
    const [, node, pidHex, pstartHex, startHex, type, id, user] = upid.split(":");
    expect([node, type, id, user]).toEqual([w.node, "vzcreate", "140", "root@pam"]);
    const pid = parseInt(pidHex, 16);
    expect(procStartTime(pid)).toBe(parseInt(pstartHex, 16));
    expect(Math.abs(parseInt(startHex, 16) - Date.now() / 1000)).toBeLessThan(5);
    const s1 = await w.client.call("GET", upidPath(w, upid, "/status"));
    expect(s1.body.data).toMatchObject({
      status: "running",
      pid,
      pstart: parseInt(pstartHex, 16),
      type: "vzcreate",
      upid,
    });
    expect(s1.body.data.exitstatus).toBeUndefined();
    const st = await w.client.call("GET", `/nodes/${w.node}/lxc/140/status/current`);
    expect(st.body.data.lock).toBe("create");
    const cfg = await w.client.call("GET", `/nodes/${w.node}/lxc/140/config`);
    expect(cfg.body.data).toEqual({ lock: "create", digest: expect.any(String) });
    const done = await w.client.waitTask(w.node, upid);
    expect(done).toMatchObject({ status: "stopped", exitstatus: "OK" });
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
    const log = await w.client.call("GET", upidPath(w, upid, "/log"));
    expect(log.body.total).toBe(log.body.data.length);
    expect(log.body.data[0]).toEqual({ n: 1, t: expect.stringContaining("extracting archive") });
    expect(log.body.data[log.body.data.length - 1].t).toBe("TASK OK");
  } finally {
    w.sim.delays.create = 0;
  }
});

test("a failing task: exitstatus is the error text, the log ends in TASK ERROR", async () => {
  w.sim.hangOnShutdown.add(140);
  try {
    await w.client.waitStatus(w.node, 140, "running"); // the create's own vzstart
    const a = await w.client.call("POST", `/nodes/${w.node}/lxc/140/status/shutdown`, { timeout: 1 });
    const st = await w.client.waitTask(w.node, a.body.data);
    expect(st.exitstatus).toBe("container did not stop");
    const log = await w.client.call("GET", upidPath(w, a.body.data, "/log"));
    expect(log.body.data.at(-1).t).toBe("TASK ERROR: container did not stop");
  } finally {
    w.sim.hangOnShutdown.delete(140);
  }
});

test("DELETE of a running task stops its worker; the task ends with an error", async () => {
  w.sim.hangOnShutdown.add(140);
  try {
    const a = await w.client.call("POST", `/nodes/${w.node}/lxc/140/status/shutdown`, { timeout: 30 });
    const upid = a.body.data;
    const pid = parseInt(upid.split(":")[2], 16);
    expect((await w.client.call("GET", upidPath(w, upid, "/status"))).body.data.status).toBe("running");
    const del = await w.client.call("DELETE", upidPath(w, upid));
    expect(del.status).toBe(200);
    expect(del.body.data).toBeNull();
    const st = await w.client.call("GET", upidPath(w, upid, "/status"));
    expect(st.body.data).toMatchObject({ status: "stopped", exitstatus: "received interrupt" });
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
  } finally {
    w.sim.hangOnShutdown.delete(140);
  }
});

test("unknown and unparsable UPIDs: 400 with the upid error (the provider retries 400 while polling)", async () => {
  const fake = `UPID:${w.node}:00001234:00005678:6B000000:vzstart:140:root@pam:`;
  let a = await w.client.call("GET", upidPath(w, fake, "/status"));
  expect([a.status, a.reason, a.body.errors]).toEqual([
    400,
    "Parameter verification failed.",
    { upid: "no such task" },
  ]);
  a = await w.client.call("GET", upidPath(w, "UPID:nonsense", "/log"));
  expect(a.body.errors).toEqual({ upid: "unable to parse worker upid" });
  a = await w.client.call("DELETE", upidPath(w, fake));
  expect(a.body.errors).toEqual({ upid: "no such task" });
});
