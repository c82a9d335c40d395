/**
 * Auth as Proxmox does it (auth.ts): stateless tickets, many valid at once; CSRF on every non-GET; the 401 texts
 * and their delay; API tokens acting as root@pam!<id> with the 403 texts of check_ct_modify_config_perm.
 */
import * as fs from "node:fs";
import { createBody } from "./fixtures";
import { makeWorld, ROOT_PASSWORD, seedTemplate, World } from "./world";

let w: World;
beforeAll(async () => {
  w = await makeWorld({ apiTokens: { "root@pam!ci": "5f2b8c1e-0000-4000-8000-000000000001" } });
  seedTemplate(w);
});
afterAll(async () => w?.close());

test("two provider halves log in within ms of each other: both tickets stay valid (B3, the first stub's bug)", async () => {
  const sdk = w.newClient();
  const framework = w.newClient();
  const [a, b] = await Promise.all([
    sdk.login("root@pam", ROOT_PASSWORD),
    framework.login("root@pam", ROOT_PASSWORD),
  ]);
  expect(a.status).toBe(200);
  expect(b.status).toBe(200);
  // A third login later must not invalidate the first two either.
  await new Promise((r) => setTimeout(r, 1100));
  const third = w.newClient();
  expect((await third.login("root@pam", ROOT_PASSWORD)).status).toBe(200);
  expect(third.ticket).not.toBe(sdk.ticket);
  for (const c of [sdk, framework, third]) {
    expect(
      (await c.call("GET", `/nodes/${w.node}/storage/local/content`, { content: "vztmpl" })).status,
    ).toBe(200);
    // and non-GET calls with each half's own CSRF token
    expect((await c.call("POST", `/nodes/${w.node}/lxc/999/status/start`)).reason).toBe(
      `Configuration file 'nodes/${w.node}/lxc/999.conf' does not exist`,
    );
  }
});

test("a wrong password: 401 `authentication failure`, delayed (B16)", async () => {
  const c = w.newClient();
  const t0 = Date.now();
  const a = await c.login("root@pam", "wrong");
  expect(a.status).toBe(401);
  expect(a.reason).toBe("authentication failure");
  expect(a.body).toEqual({ data: null, message: "authentication failure\n" });
  expect(Date.now() - t0).toBeGreaterThanOrEqual(190); // the world shortens Proxmox's 3 s to 200 ms
  expect((await c.login("root@pam@pam", ROOT_PASSWORD)).status).toBe(401);
  expect((await c.login("admin@pve", ROOT_PASSWORD)).status).toBe(401);
});

test("no ticket, a forged ticket, an expired-looking ticket: 401 with Proxmox's texts and no body", async () => {
  const c = w.newClient();
  let a = await c.call("GET", "/version");
  expect([a.status, a.reason, a.raw]).toEqual([401, "No ticket", ""]);
  c.ticket = `${w.client.ticket}x`;
  a = await c.call("GET", "/version");
  expect([a.status, a.reason]).toEqual([401, "Authentication failed!"]);
  c.ticket = w.client.ticket!.replace(/:([0-9A-F]{8})::/, ":00000001::");
  a = await c.call("GET", "/version");
  expect([a.status, a.reason]).toEqual([401, "Authentication failed!"]);
});

test("CSRF: every non-GET with a ticket needs the token of that user; GET does not", async () => {
  const path = `/nodes/${w.node}/lxc/999/status/start`;
  let a = await w.client.call("POST", path, {}, { noCsrf: true });
  expect([a.status, a.reason]).toEqual([401, "Permission denied - invalid csrf token"]);
  const saved = w.client.csrf;
  w.client.csrf = saved!.replace(/:.*/, ":AAAA");
  a = await w.client.call("PUT", `/nodes/${w.node}/lxc/999/config`, { cores: 1 });
  expect(a.status).toBe(401);
  w.client.csrf = saved;
  a = await w.client.call("GET", "/version", {}, { noCsrf: true });
  expect(a.status).toBe(200);
});

test("an API token acts as root@pam!<id>: no CSRF needed, and the 403 texts for root-only changes (§5.8)", async () => {
  const t = w.newClient();
  t.apiToken = "root@pam!ci=5f2b8c1e-0000-4000-8000-000000000001";
  expect((await t.call("GET", "/version")).status).toBe(200);
  const a = await t.call("POST", `/nodes/${w.node}/lxc`, createBody(130, w.binds, false));
  expect(a.status).toBe(403);
  // Proxmox walks the parameters in Perl hash order: either root-only rule may be hit first.
  expect([
    "Permission check failed (mount point type bind is only allowed for root@pam)",
    "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)",
  ]).toContain(a.reason);
  const noBind = { ...createBody(131, w.binds, false) };
  delete noBind.mp0;
  delete noBind.mp1;
  delete noBind.mp2;
  const b = await t.call("POST", `/nodes/${w.node}/lxc`, noBind);
  expect(b.reason).toBe(
    "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)",
  );
  const nestingOnly = { ...noBind, features: "nesting=1" };
  const c = await t.call("POST", `/nodes/${w.node}/lxc`, nestingOnly);
  expect(c.status).toBe(200);
  await t.waitTask(w.node, c.body.data);
  const hook = await t.call("PUT", `/nodes/${w.node}/lxc/131/config`, { hookscript: "local:snippets/x.sh" });
  expect(hook.reason).toBe("Permission check failed (changing the hookscript is only allowed for root@pam)");
  const dev = await t.call("PUT", `/nodes/${w.node}/lxc/131/config`, { dev0: "/dev/null" });
  expect(dev.reason).toBe(
    "Permission check failed (configuring device passthrough is only allowed for root@pam)",
  );
  const task = await t.call("GET", `/nodes/${w.node}/tasks/${encodeURIComponent(c.body.data)}/status`);
  expect(task.body.data.user).toBe("root@pam!ci");
  t.apiToken = "root@pam!ci=wrong";
  expect((await t.call("GET", "/version")).reason).toBe("Authentication failed!");
  const log = fs.readFileSync(w.pve.requestLog, "utf8");
  expect(log).not.toContain("5f2b8c1e-0000-4000-8000-000000000001");
});
