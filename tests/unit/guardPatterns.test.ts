/**
 * The patterns that guard hosts, secrets and access in components/config, at their edges: first and last character
 * classes, length bounds, anchors at both ends and the `${` look-ahead. Each is a module-level constant, which
 * Stryker calls a "static" mutant and leaves out of a run with --ignoreStatic (README, Benchmarks); these tests are
 * what catches a one-character change to them. Each case is the shortest value on the wrong side of one edge.
 */
import { z } from "zod";
import { envName } from "../../components/config/fields";
import { clusterFields, haSchema } from "../../components/config/ha";
import { lxcSchema } from "../../components/config/lxc";
import { ANY_ID } from "../../components/config/platforms/platform";

const accepts = (schema: z.ZodType, value: unknown) => schema.safeParse(value).success;

describe("ANY_ID: an allow-list entry hermes can match", () => {
  // Printable ASCII but `*` (everyone) and `,` (hermes splits on it); 1-256 characters; no `${` anywhere.
  it.each(["a", "!", ")", "+", "-", "~", "$", "{", "}$", "a$b{c", "a".repeat(256), "@alice:example.org"])(
    "accepts %j",
    (id) => expect(ANY_ID.test(id)).toBe(true),
  );
  it.each([
    ["empty", ""],
    ["257 characters", "a".repeat(257)],
    ["* (everyone)", "*"],
    ["a comma", "a,b"],
    ["a blank", "a b"],
    ["a leading blank", " a"],
    ["a trailing blank", "a "],
    ["DEL", "\x7f"],
    ["non-ASCII first", "éa"],
    ["non-ASCII last", "aé"],
    ["a newline", "a\nb"],
    ["${ first", "${A}"],
    ["${ after one character", "a${A}"],
    ["${ after two characters", "ab${"],
    ["${ at the end", "abcdef${"],
  ])("refuses %s", (_what, id) => expect(ANY_ID.test(id)).toBe(false));
});

describe("envName: a .env variable name", () => {
  it.each(["A", "_", "A1", "_9", "A_B", "Z".repeat(128)])("accepts %j", (n) =>
    expect(accepts(envName, n)).toBe(true),
  );
  it.each([
    ["empty", ""],
    ["129 characters", "Z".repeat(129)],
    ["a digit first", "1A"],
    ["lowercase", "a"],
    ["lowercase later", "Ab"],
    ["a dash", "A-B"],
    ["a leading blank", " A"],
    ["a trailing blank", "A "],
    ["a newline", "A\nB"],
  ])("refuses %s", (_what, n) => expect(accepts(envName, n)).toBe(false));
});

describe("Proxmox storage ids (proxmox.storages keys, rootfs and template datastores)", () => {
  const storages = clusterFields.storages;
  const asStorageKey = (id: string) => accepts(storages, { [id]: { kind: "local" } });
  const rootfs = lxcSchema.shape.rootfs;
  const asRootfs = (id: string) => accepts(rootfs, { datastore: id });

  it.each(["a", "Z", "a_.-9", "a" + "x".repeat(99)])("accepts %j", (id) => {
    expect(asStorageKey(id)).toBe(true);
    expect(asRootfs(id)).toBe(true);
  });
  it.each([
    ["empty", ""],
    ["101 characters", "a" + "x".repeat(100)],
    ["a digit first", "1a"],
    ["_ first", "_a"],
    ["a blank", "a b"],
    ["a slash", "a/b"],
    ["a colon", "a:b"],
    ["a trailing newline", "a\n"],
  ])("refuses %s", (_what, id) => {
    expect(asStorageKey(id)).toBe(false);
    expect(asRootfs(id)).toBe(false);
  });
});

describe("HA group and rule ids (lxcs.<n>.ha.group, .rule)", () => {
  it.each(["ab", "Z9", "a_.-", "a" + "x".repeat(127)])("accepts %j", (id) => {
    expect(accepts(haSchema, { group: id })).toBe(true);
    expect(accepts(haSchema, { rule: id })).toBe(true);
  });
  it.each([
    ["one character", "a"],
    ["129 characters", "a" + "x".repeat(128)],
    ["a digit first", "1ab"],
    ["- first", "-ab"],
    ["a blank", "a b"],
    ["a slash", "ab/c"],
    ["a colon", "ab:c"],
    ["a trailing newline", "ab\n"],
  ])("refuses %s", (_what, id) => {
    expect(accepts(haSchema, { group: id })).toBe(false);
    expect(accepts(haSchema, { rule: id })).toBe(false);
  });

  it("takes every HA state pve-ha-manager knows and nothing else", () => {
    for (const state of ["started", "stopped", "disabled", "ignored"])
      expect(haSchema.parse({ state }).state).toBe(state);
    expect(accepts(haSchema, { state: "enabled" })).toBe(false);
    expect(haSchema.parse({}).state).toBe("started");
  });

  it("proxmox.version: 8 and 9, as numbers or digit strings, nothing else", () => {
    const version = clusterFields.version;
    expect(version.parse("8")).toBe(8);
    expect(version.parse("9")).toBe(9);
    expect(version.parse(8)).toBe(8);
    expect(version.parse(9)).toBe(9);
    for (const bad of [7, 10, "7", "", "8 "]) expect(accepts(version, bad)).toBe(false);
  });

  it("a storage is shared, replicated or local", () => {
    for (const kind of ["shared", "replicated", "local"])
      expect(accepts(clusterFields.storages, { s: { kind } })).toBe(true);
    expect(accepts(clusterFields.storages, { s: { kind: "nfs" } })).toBe(false);
  });
});

describe("LXC templates and raw config lines (they reach the node's /etc/pve/lxc/<vmid>.conf)", () => {
  const template = lxcSchema.shape.template;
  const fileId = (id: string) => accepts(template, { fileId: id });
  const url = (u: string) => accepts(template, { url: u });
  const checksum = (c: string) => accepts(template, { url: "https://h/t.tar.zst", checksum: c });
  const raw = (line: string) => accepts(lxcSchema.shape.rawConfig, { extraLines: [line] });

  it("template fileId: <storage>:vztmpl/<file>", () => {
    for (const ok of ["local:vztmpl/a", "a:vztmpl/debian-12_1.0+b.tar.zst", `a:vztmpl/${"f".repeat(255)}`])
      expect(fileId(ok)).toBe(true);
    for (const bad of [
      "local:iso/a",
      "1local:vztmpl/a",
      "local:vztmpl/",
      `a:vztmpl/${"f".repeat(256)}`,
      "local:vztmpl/a b",
      "local:vztmpl/../a b",
      "local:vztmpl/a/b",
      " local:vztmpl/a",
      "local:vztmpl/a\n",
    ])
      expect(fileId(bad)).toBe(false);
  });

  it("template url: http(s), no quotes, blanks or $, a .tar.zst/.gz/.xz file", () => {
    for (const ok of ["https://h/t.tar.zst", "http://h/t.tar.gz", "https://h/t.tar.xz"])
      expect(url(ok)).toBe(true);
    for (const bad of [
      "ftp://h/t.tar.zst",
      "https://h/t.tar.bz2",
      "https://h/t.tar.zst.sig",
      "https://h/$(id).tar.zst",
      "https://h/a b.tar.zst",
      "https://h/a'b.tar.zst",
      " https://h/t.tar.zst",
      "https://.tar.zst",
    ])
      expect(url(bad)).toBe(false);
  });

  it("template checksum: 32-128 lowercase hex digits", () => {
    for (const ok of ["0".repeat(32), "f".repeat(128), "0123456789abcdef".repeat(4)])
      expect(checksum(ok)).toBe(true);
    for (const bad of [
      "0".repeat(31),
      "f".repeat(129),
      "A".repeat(32),
      `${"0".repeat(32)} `,
      `g${"0".repeat(31)}`,
    ])
      expect(checksum(bad)).toBe(false);
  });

  it("raw lines: one `lxc.<key>: <value>` line", () => {
    for (const ok of ["lxc.cap.drop: sys_admin", "lxc.a: b", `lxc.${"k".repeat(64)}: ${"v".repeat(1024)}`])
      expect(raw(ok)).toBe(true);
    for (const bad of [
      "lxc.: b",
      `lxc.${"k".repeat(65)}: b`,
      `lxc.a: ${"v".repeat(1025)}`,
      "lxc.a: ",
      "lxc.a:b",
      "lxcXa: b",
      "lxc.A: b",
      "lxc.a b: c",
      "mp0: /etc,mp=/mnt",
      " lxc.a: b",
      "lxc.a: b\nlxc.apparmor.profile: unconfined",
      "lxc.a: b\r",
      "lxc.a: b\u0085",
      "lxc.a: b\u2028",
      "lxc.a: b\u2029",
      "lxc.a: b\0",
    ])
      expect(raw(bad)).toBe(false);
  });
});
