/**
 * The template path (nodeApi.ts): query-url-metadata is a real HEAD; download-url is a `download` task with
 * pve-common's checksum and refuse-to-overwrite rules; the content list reads the real files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { makeWorld, TEMPLATE, World } from "./world";

let w: World;
beforeAll(async () => {
  w = await makeWorld();
});
afterAll(async () => w?.close());

const download = (extra: Record<string, string> = {}) =>
  w.client.call("POST", `/nodes/${w.node}/storage/local/download-url`, {
    content: "vztmpl",
    filename: TEMPLATE,
    url: w.templateUrl,
    "verify-certificates": "1",
    ...extra,
  });

test("query-url-metadata sends a real HEAD: filename, size (a number), mimetype; a 404 is Proxmox's text", async () => {
  const a = await w.client.call("GET", `/nodes/${w.node}/query-url-metadata`, {
    url: w.templateUrl,
    "verify-certificates": "1",
  });
  expect(a.body.data).toEqual({
    filename: TEMPLATE,
    size: expect.any(Number),
    mimetype: "application/octet-stream",
  });
  const b = await w.client.call("GET", `/nodes/${w.node}/query-url-metadata`, {
    url: `${w.templateBase}/missing.tar.zst`,
  });
  expect([b.status, b.reason]).toEqual([500, "invalid server response: '404 Not Found'"]);
});

test("download with a wrong checksum fails and leaves no file; with the right one it lands", async () => {
  const bad = await download({ checksum: "00".repeat(64), "checksum-algorithm": "sha512" });
  const t = await w.client.waitTask(w.node, bad.body.data);
  expect(t.exitstatus).toMatch(/^checksum mismatch: got '[0-9a-f]{128}' != expect '0{128}'$/);
  const dir = w.pve.layout.templateDir(w.node, "local");
  expect(fs.readdirSync(dir)).toEqual([]);
  const good = await download({ checksum: w.templateSha512, "checksum-algorithm": "sha512" });
  expect((await w.client.waitTask(w.node, good.body.data)).exitstatus).toBe("OK");
  expect(fs.readdirSync(dir)).toEqual([TEMPLATE]);
  const content = await w.client.call("GET", `/nodes/${w.node}/storage/local/content`, { content: "vztmpl" });
  expect(content.body.data).toEqual([
    {
      volid: `local:vztmpl/${TEMPLATE}`,
      format: "tzst",
      size: fs.statSync(path.join(dir, TEMPLATE)).size,
      ctime: expect.any(Number),
      content: "vztmpl",
    },
  ]);
});

test("an existing file: refused without checksum, adopted with the matching one, refused with another (§6.3)", async () => {
  const dest = path.join(w.pve.layout.templateDir(w.node, "local"), TEMPLATE);
  const none = await download();
  expect((await w.client.waitTask(w.node, none.body.data)).exitstatus).toBe(
    `refusing to override existing file '${dest}'`,
  );
  const same = await download({ checksum: w.templateSha512, "checksum-algorithm": "sha512" });
  expect((await w.client.waitTask(w.node, same.body.data)).exitstatus).toBe("OK");
  const log = await w.client.call("GET", `/nodes/${w.node}/tasks/${encodeURIComponent(same.body.data)}/log`);
  expect(log.body.data.map((l: any) => l.t).join("\n")).toContain(
    "OK, got correct file already, no need to download",
  );
  const other = await download({ checksum: "ab".repeat(64), "checksum-algorithm": "sha512" });
  expect((await w.client.waitTask(w.node, other.body.data)).exitstatus).toMatch(/, aborting$/);
});

test("checks before the task: extension, content type, storage type, the checksum's algorithm", async () => {
  let a = await download({ filename: "debian.iso" });
  expect([a.status, a.body.errors]).toEqual([400, { filename: "wrong file extension" }]);
  a = await w.client.call("POST", `/nodes/${w.node}/storage/local-lvm/download-url`, {
    content: "vztmpl",
    filename: TEMPLATE,
    url: w.templateUrl,
  });
  expect(a.reason).toBe("can't upload to storage type 'lvmthin', not a file based storage!");
  a = await w.client.call("POST", `/nodes/${w.node}/storage/nope/download-url`, {
    content: "vztmpl",
    filename: TEMPLATE,
    url: w.templateUrl,
  });
  expect(a.reason).toBe("storage 'nope' does not exist");
  a = await download({ "checksum-algorithm": "sha512" });
  expect(a.status).toBe(400);
  const fetchFail = await download({
    filename: "other-12.tar.zst",
    url: `${w.templateBase}/missing.tar.zst`,
  });
  expect((await w.client.waitTask(w.node, fetchFail.body.data)).exitstatus).toMatch(
    /^download failed: command 'wget .*' failed: exit code 8$/,
  );
});
