/** components/lib/validators.ts: addresses and SSH public keys. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  BRIDGE_NAME,
  DNS_LABEL,
  MAC_ADDRESS,
  NODE_NAME,
  absolutePathProblem,
  hostnameProblem,
  isIpv4,
  isSameOrInside,
  tagProblem,
  FORBIDDEN_CONTAINER_TREES,
  FORBIDDEN_HOST_EXACT,
  FORBIDDEN_HOST_TREES,
  containerPathProblem,
  hostPathProblem,
  ipv4CidrProblem,
  ipv4InSubnet,
  parseSshPublicKey,
  sshFingerprint,
} from "../../components/lib/validators";
import {
  FORBIDDEN_SNAPSHOT_EXACT,
  FORBIDDEN_SNAPSHOT_TREES,
  snapshotDirectoryProblem,
} from "../../components/config/snapshots";
import { KEY } from "../helpers/sampleKey";

describe("addresses", () => {
  it.each([
    ["10.1.10.30/24", undefined],
    ["10.1.10.30/33", /between 8 and 32/],
    ["10.1.10.255/24", /broadcast/],
    ["10.01.10.3/24", /IPv4 address with prefix/],
    ["10.1.10.3", /IPv4 address with prefix/],
  ])("%s", (cidr, problem) => {
    const reason = ipv4CidrProblem(cidr);
    if (problem === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(problem);
  });
  it("knows subnets", () => {
    expect(ipv4InSubnet("10.1.10.1", "10.1.10.30/24")).toBe(true);
    expect(ipv4InSubnet("10.1.11.1", "10.1.10.30/24")).toBe(false);
    expect(ipv4InSubnet("10.1.11.1", "10.1.10.30/16")).toBe(true);
  });
});

describe("SSH keys", () => {
  it("parses a key and computes the fingerprint ssh-keygen prints", () => {
    const key = parseSshPublicKey(`${KEY} root@node`);
    if (typeof key === "string") throw new Error(key);
    expect(key).toMatchObject({ type: "ssh-ed25519", comment: "root@node" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fp-"));
    const file = path.join(dir, "k.pub");
    fs.writeFileSync(file, `${KEY}\n`);
    const sshKeygen = execFileSync("ssh-keygen", ["-lf", file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(sshKeygen).toContain(sshFingerprint(key));
  });
  it.each([
    ["ssh-ed25519", /must look like/],
    ["ssh-dss AAAAB3NzaC1kc3M=", /key type must be one of/],
    [`${KEY}\nssh-ed25519 AAAA`, /single line/],
  ])("rejects %j", (line, reason) => {
    expect(parseSshPublicKey(line)).toMatch(reason);
  });

  // A line that names its type but carries no key (or a cut one) would pass a type check, then fail the first SSH
  // connection after the LXC exists.
  const blob = (...fields: Buffer[]) =>
    Buffer.concat(
      fields.flatMap((f) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(f.length);
        return [length, f];
      }),
    ).toString("base64");
  const name = (t: string) => Buffer.from(t, "latin1");
  const ed25519Bytes = Buffer.from(KEY.split(" ")[1], "base64").subarray(19);
  it.each([
    ["the type name only", `ssh-ed25519 ${blob(name("ssh-ed25519"))}`],
    ["an empty key", `ssh-ed25519 ${blob(name("ssh-ed25519"), Buffer.alloc(0))}`],
    ["a 31-byte ed25519 key", `ssh-ed25519 ${blob(name("ssh-ed25519"), ed25519Bytes.subarray(0, 31))}`],
    ["trailing bytes", `ssh-ed25519 ${blob(name("ssh-ed25519"), ed25519Bytes, name("x"))}`],
    [
      "a cut length prefix",
      `ssh-ed25519 ${Buffer.from(KEY.split(" ")[1], "base64").subarray(0, 40).toString("base64")}`,
    ],
    ["an RSA line without modulus", `ssh-rsa ${blob(name("ssh-rsa"), Buffer.from([1, 0, 1]))}`],
    [
      "an ECDSA line on the wrong curve",
      `ecdsa-sha2-nistp256 ${blob(name("ecdsa-sha2-nistp256"), name("nistp384"), Buffer.alloc(65, 4))}`,
    ],
  ])("rejects a key line with %s", (_what, line) => {
    expect(parseSshPublicKey(line)).toMatch(/^key blob /);
  });

  it.each([
    ["ed25519", []],
    ["rsa", ["-b", "2048"]],
    ["ecdsa", ["-b", "256"]],
    ["ecdsa", ["-b", "384"]],
    ["ecdsa", ["-b", "521"]],
  ])("accepts what ssh-keygen makes: %s %j", (type, bits) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kg-")), "k");
    execFileSync("ssh-keygen", ["-q", "-t", type, ...bits, "-N", "", "-f", file]);
    const line = fs.readFileSync(`${file}.pub`, "utf8").trim();
    expect(typeof parseSshPublicKey(line)).toBe("object");
  });
});

describe("host directories handed to the gateway", () => {
  it.each([
    "/var/lib/pve-cluster/hermes",
    "/var/lib/vz/hermes",
    "/var/lib/ceph/osd",
    "/var/lib/rrdcached/db",
    "/var/lib/dpkg/info",
    "/var/cache/hermes",
    "/var/spool/hermes",
    "/var/tmp/hermes",
    "/rpool/data/subvol-118-disk-0",
    "/mnt/pve/hdd",
    "/mnt/pve/hdd/images/118",
    "/mnt/pve/hdd/dump",
    "/mnt/pve/nfs/private/118",
    "/etc/pve/lxc",
    "/root/hermes",
  ])("refuses the node's own %s", (p) => {
    expect(hostPathProblem(p)).toMatch(/must not be inside|dedicated subdirectory/);
  });

  it.each(["/var/lib/hermes-lxc/hermes", "/mnt/pve/hdd/hermes", "/srv/hermes", "/tank/hermes"])(
    "accepts a dedicated directory %s",
    (p) => expect(hostPathProblem(p)).toBeUndefined(),
  );
});

// A list entry that an earlier, broader entry already covers is a rule that never runs (as /etc/pve did behind
// /etc): each entry must be the one that refuses itself, and each exact entry must reach the exact check.
describe("no dead path rules", () => {
  it.each([
    ["host trees", FORBIDDEN_HOST_TREES, hostPathProblem, (t: string) => `must not be inside ${t}:`],
    [
      "container trees",
      FORBIDDEN_CONTAINER_TREES,
      containerPathProblem,
      (t: string) => `must not be inside ${t},`,
    ],
    [
      "snapshot trees",
      FORBIDDEN_SNAPSHOT_TREES,
      snapshotDirectoryProblem,
      (t: string) => `must not be inside ${t},`,
    ],
  ])("%s: each entry refuses its own subtree, named", (_what, trees, problem, says) => {
    const shadowed = trees.filter((t) => !problem(`${t}/x`)?.startsWith(says(t)));
    expect(shadowed).toEqual([]);
    expect(new Set(trees).size).toBe(trees.length);
  });

  it.each([
    ["host", FORBIDDEN_HOST_EXACT, hostPathProblem],
    ["snapshot", FORBIDDEN_SNAPSHOT_EXACT, snapshotDirectoryProblem],
  ])(
    "%s exact entries: each is refused as itself and allows a dedicated subdirectory",
    (_what, exact, problem) => {
      const unreached = exact.filter(
        (e) => problem(e) !== `must be a dedicated subdirectory, not ${e} itself`,
      );
      expect(unreached).toEqual([]);
      const below = exact.filter((e) => e !== "/mnt/pve" && problem(`${e}/hermes-data`) !== undefined);
      expect(below).toEqual([]);
    },
  );
});

// The format rules at their edges: each anchor, each bound, each branch of the checks that decide what reaches a
// shell, a file name, a Proxmox config line or a pinned key.
describe("format rules at their edges", () => {
  it.each([
    // [pattern, accepted, refused]
    [
      DNS_LABEL,
      ["a", "a1", "a-b", "x".repeat(63)],
      ["", "-a", "a-", "A", "a_b", "x".repeat(64), "a\nb", "../a", "a.b"],
    ],
    [NODE_NAME, ["pve", "PVE-1", "x".repeat(63)], ["", "-pve", "pve-", "x".repeat(64), "pve 1", "pve\n"]],
    [
      BRIDGE_NAME,
      ["vmbr0", "intra01", "v".repeat(15)],
      ["", "0vmbr", "v".repeat(16), "vm br", "vmbr0;x", "x\n"],
    ],
    [
      MAC_ADDRESS,
      ["BC:24:11:00:00:01", "bc:24:11:aa:bb:cc"],
      [
        "BC:24:11:00:00",
        "BC:24:11:00:00:01:02",
        "BC-24-11-00-00-01",
        "B:24:11:00:00:01",
        "xBC:24:11:00:00:01",
        "BC:24:11:00:00:01x",
        "BC:24:11:00:00:0G",
      ],
    ],
  ] as Array<[RegExp, string[], string[]]>)("%s", (re, good, bad) => {
    expect(good.filter((s) => !re.test(s))).toEqual([]);
    expect(bad.filter((s) => re.test(s))).toEqual([]);
  });

  it.each([
    ["", "must not be empty"],
    ["relative", "must be an absolute path starting with /"],
    ["/", "must not be / (the whole filesystem)"],
    ["/a b", "may only contain letters, digits and . _ @ + - / (no spaces, commas, colons or quotes)"],
    ["/a,b", "may only contain letters, digits and . _ @ + - / (no spaces, commas, colons or quotes)"],
    ["x/a", "must be an absolute path starting with /"],
    ["/a/", "must not end with /"],
    ["/a//b", "must not contain //"],
    ["/a/./b", "must not contain . or .. segments"],
    ["/a/..", "must not contain . or .. segments"],
    [`/${"a".repeat(255)}`, "must be at most 255 characters"],
  ])("absolute path %j: %s", (p, reason) => {
    expect(absolutePathProblem(p)).toBe(reason);
  });

  it("accepts clean paths up to 255 characters, dots inside names included", () => {
    for (const p of ["/a", "/a/b.c", "/a/..b", "/a/.hidden", "/srv/x@y+z_1-2", `/${"a".repeat(254)}`])
      expect({ p, problem: absolutePathProblem(p) }).toEqual({ p, problem: undefined });
  });

  it("isSameOrInside compares whole path segments", () => {
    expect(isSameOrInside("/a/b", "/a/b")).toBe(true);
    expect(isSameOrInside("/a/b/c", "/a/b")).toBe(true);
    expect(isSameOrInside("/a/bc", "/a/b")).toBe(false);
    expect(isSameOrInside("/a", "/a/b")).toBe(false);
  });

  it("host paths: a dedicated directory below a storage is fine; the storage's root and its Proxmox dirs are not", () => {
    expect(hostPathProblem("/mnt/pve/hdd")).toBe(
      "must be a dedicated subdirectory of the storage, not the storage's root",
    );
    for (const dir of ["images", "dump", "template", "private", "snippets", "import"])
      expect(hostPathProblem(`/mnt/pve/hdd/${dir}/x`)).toBe(
        `must not be inside the storage's ${dir}/ directory, which Proxmox manages`,
      );
    expect(hostPathProblem("/mnt/pve/hdd/hermes")).toBeUndefined();
    expect(hostPathProblem("/mnt/hdd/images")).toBeUndefined();
    expect(hostPathProblem("/srv/pve/hdd")).toBeUndefined();
    expect(hostPathProblem("/lost+found/x")).toBe(
      "must not be inside /lost+found: the node's own files would be re-owned",
    );
    expect(hostPathProblem("/a b")).toMatch(/^may only contain/);
  });

  it("container paths: the OS's and Docker's trees are refused, with the tree named", () => {
    expect(containerPathProblem("/var/lib/docker/x")).toBe(
      "must not be inside /var/lib/docker, which the container's OS or Docker owns",
    );
    expect(containerPathProblem("/data")).toBeUndefined();
    expect(containerPathProblem("data")).toBe("must be an absolute path starting with /");
  });

  it("hostnames: lowercase labels, at most 253 characters", () => {
    expect(hostnameProblem("hermes")).toBeUndefined();
    expect(hostnameProblem("hermes.intra.lan")).toBeUndefined();
    expect(hostnameProblem(`${"a.".repeat(126)}a`)).toBeUndefined(); // 253
    expect(hostnameProblem(`${"a.".repeat(126)}ab`)).toBe("must be at most 253 characters");
    for (const bad of ["Hermes", "her_mes", "-hermes", "hermes.", "a..b", ""])
      expect({ bad, problem: hostnameProblem(bad) }).toEqual({
        bad,
        problem: expect.stringMatching(/^must be lowercase DNS labels/),
      });
  });

  it("tags: lowercase, Proxmox's characters, at most 64", () => {
    expect(tagProblem("ai")).toBeUndefined();
    expect(tagProblem("a_b.c+d-e")).toBeUndefined();
    expect(tagProblem("t".repeat(64))).toBeUndefined();
    expect(tagProblem("t".repeat(65))).toBe("must be at most 64 characters");
    expect(tagProblem("AI")).toMatch(/^must be lowercase/);
    for (const bad of [".a", "+a", "-a", "a b", "a;b", ""])
      expect({ bad, p: tagProblem(bad) }).toEqual({ bad, p: expect.stringMatching(/^may only contain/) });
  });

  it.each([
    ["10.1.10.30/8", undefined],
    ["10.1.10.30/32", undefined],
    ["10.1.10.30/7", "prefix length must be between 8 and 32"],
    ["10.1.10.0/24", "is the network address of its subnet, not a host address"],
    ["10.1.10.255/24", "is the broadcast address of its subnet"],
    ["10.1.10.0/31", undefined], // point-to-point: both addresses are hosts
    ["10.1.10.1/31", undefined],
    ["10.1.10.4/30", "is the network address of its subnet, not a host address"],
    ["10.1.10.7/30", "is the broadcast address of its subnet"],
    ["10.1.10.5/30", undefined],
    ["x10.1.10.30/24", "must be an IPv4 address with prefix length, e.g. 10.1.10.30/24"],
    ["10.1.10.30/24x", "must be an IPv4 address with prefix length, e.g. 10.1.10.30/24"],
    ["10.1.10.300/24", "must be an IPv4 address with prefix length, e.g. 10.1.10.30/24"],
  ])("CIDR %s", (cidr, problem) => {
    expect(ipv4CidrProblem(cidr)).toBe(problem);
  });

  it("IPv4: dotted quads only, no leading zeros (which some parsers read as octal)", () => {
    expect(isIpv4("10.1.10.30")).toBe(true);
    expect(isIpv4("0.0.0.0")).toBe(true);
    expect(isIpv4("10.1.10.0")).toBe(true);
    // A zero inside or at the end of an octet is no leading zero.
    for (const good of ["10.1.100.3", "100.10.0.1", "10.100.1.1", "10.1.200.30"])
      expect({ good, ok: isIpv4(good) }).toEqual({ good, ok: true });
    for (const bad of ["010.1.10.30", "10.01.10.30", "10.1.10.030", "10.1.10", "10.1.10.256", "::1"])
      expect({ bad, ok: isIpv4(bad) }).toEqual({ bad, ok: false });
    expect(ipv4InSubnet("10.1.10.30", "10.1.10.30/32")).toBe(true);
    expect(ipv4InSubnet("10.1.10.31", "10.1.10.30/32")).toBe(false);
    expect(ipv4InSubnet("10.200.1.1", "10.1.10.30/8")).toBe(true);
    expect(ipv4InSubnet("11.1.10.30", "10.1.10.30/8")).toBe(false);
  });

  it("SSH keys: spaces between fields, the comment kept whole, base64 strict, the blob's type checked", () => {
    const [type, b64] = KEY.split(" ");
    expect(parseSshPublicKey(`  ${type}   ${b64}   a  b `)).toEqual({ type, base64: b64, comment: "a b" });
    expect(parseSshPublicKey(`${type} ${b64}`)).toEqual({ type, base64: b64 });
    expect(parseSshPublicKey(`${type} ${b64}!`)).toBe("key blob is not base64");
    expect(parseSshPublicKey(`${type} !${b64}`)).toBe("key blob is not base64");
    expect(parseSshPublicKey(`ssh-rsa ${b64}`)).toBe("key blob does not contain a ssh-rsa key");
    expect(parseSshPublicKey(`${type} ${Buffer.alloc(0).toString("base64")}=`)).toMatch(/^key blob /);
    // "A===" passes the base64 check and decodes to no bytes at all: a blob without even a type name.
    expect(parseSshPublicKey(`${type} A===`)).toBe(`key blob does not contain a ${type} key`);
    expect(parseSshPublicKey(`ssh-dss ${b64}`)).toBe(
      "key type must be one of ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com",
    );
    for (const bad of [`${KEY}\r`, `${KEY}\0`]) expect(parseSshPublicKey(bad)).toBe("must be a single line");
  });

  it("SSH keys: security-key types carry their application after the key, and are accepted with it only", () => {
    const f = (...fields: Buffer[]) =>
      Buffer.concat(
        fields.flatMap((x) => {
          const l = Buffer.alloc(4);
          l.writeUInt32BE(x.length);
          return [l, x];
        }),
      ).toString("base64");
    const s = (t: string) => Buffer.from(t, "latin1");
    const ed = Buffer.alloc(32, 7);
    const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 9)]);
    const skEd = "sk-ssh-ed25519@openssh.com";
    const skEc = "sk-ecdsa-sha2-nistp256@openssh.com";
    expect(parseSshPublicKey(`${skEd} ${f(s(skEd), ed, s("ssh:"))}`)).toMatchObject({ type: skEd });
    expect(parseSshPublicKey(`${skEd} ${f(s(skEd), ed)}`)).toBe(
      "key blob does not hold a 32-byte ed25519 public key",
    );
    expect(parseSshPublicKey(`${skEc} ${f(s(skEc), s("nistp256"), point, s("ssh:"))}`)).toMatchObject({
      type: skEc,
    });
    expect(parseSshPublicKey(`${skEc} ${f(s(skEc), s("nistp256"), point)}`)).toBe(
      "key blob does not hold a nistp256 public key",
    );
    // An uncompressed point starts with 4; a compressed one (2 or 3) is not what OpenSSH writes.
    const compressed = Buffer.concat([Buffer.from([2]), Buffer.alloc(64, 9)]);
    expect(
      parseSshPublicKey(`ecdsa-sha2-nistp256 ${f(s("ecdsa-sha2-nistp256"), s("nistp256"), compressed)}`),
    ).toBe("key blob does not hold a nistp256 public key");
    // RSA: an exponent and a modulus of 1024 bits or more.
    const rsa = (e: Buffer, n: Buffer) => `ssh-rsa ${f(s("ssh-rsa"), e, n)}`;
    expect(parseSshPublicKey(rsa(Buffer.from([1, 0, 1]), Buffer.alloc(128, 1)))).toMatchObject({
      type: "ssh-rsa",
    });
    expect(parseSshPublicKey(rsa(Buffer.from([1, 0, 1]), Buffer.alloc(127, 1)))).toBe(
      "key blob does not hold an RSA key of 1024+ bits",
    );
    expect(parseSshPublicKey(rsa(Buffer.alloc(0), Buffer.alloc(128, 1)))).toBe(
      "key blob does not hold an RSA key of 1024+ bits",
    );
  });

  it("SSH keys: an ECDSA point has its curve's exact length (65, 97, 133 bytes), no more, no less", () => {
    const blob = (...fields: Buffer[]) =>
      Buffer.concat(
        fields.flatMap((x) => {
          const l = Buffer.alloc(4);
          l.writeUInt32BE(x.length);
          return [l, x];
        }),
      ).toString("base64");
    const point = (bytes: number) => Buffer.concat([Buffer.from([4]), Buffer.alloc(bytes - 1, 9)]);
    for (const [curve, bytes] of [
      ["nistp256", 65],
      ["nistp384", 97],
      ["nistp521", 133],
    ] as const) {
      const type = `ecdsa-sha2-${curve}`;
      const line = (n: number) => `${type} ${blob(Buffer.from(type), Buffer.from(curve), point(n))}`;
      expect(parseSshPublicKey(line(bytes))).toMatchObject({ type });
      for (const n of [bytes - 1, bytes + 1])
        expect({ n, problem: parseSshPublicKey(line(n)) }).toEqual({
          n,
          problem: `key blob does not hold a ${curve} public key`,
        });
    }
  });

  it("SSH keys: a length prefix that runs past the blob, or a blob that ends inside one, is malformed", () => {
    const [, b64] = KEY.split(" ");
    const raw = Buffer.from(b64, "base64");
    const longer = Buffer.from(raw);
    longer.writeUInt32BE(33, raw.length - 36); // the key field claims one byte more than there is
    expect(parseSshPublicKey(`ssh-ed25519 ${longer.toString("base64")}`)).toBe(
      "key blob is truncated or malformed",
    );
    const dangling = Buffer.concat([raw, Buffer.from([0, 0, 0])]); // three bytes of a next length prefix
    expect(parseSshPublicKey(`ssh-ed25519 ${dangling.toString("base64")}`)).toBe(
      "key blob is truncated or malformed",
    );
    const exact = Buffer.concat([raw, Buffer.from([0, 0, 0, 0])]); // a whole (empty) extra field: not malformed, but extra
    expect(parseSshPublicKey(`ssh-ed25519 ${exact.toString("base64")}`)).toBe(
      "key blob does not hold a 32-byte ed25519 public key",
    );
  });

  it("fingerprints drop only the base64 padding at the end", () => {
    const key = parseSshPublicKey(KEY);
    if (typeof key === "string") throw new Error(key);
    const fp = sshFingerprint(key);
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
