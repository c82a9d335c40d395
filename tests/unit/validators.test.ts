/** components/lib/validators.ts: addresses and SSH public keys. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
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
