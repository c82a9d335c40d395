/** Pure helpers: id arithmetic, address and key parsing, readiness output, known_hosts, remote commands. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROXMOX_UNPRIVILEGED_ID_BASE, hostIdFor, hostOwnerForGateway } from "../../components/lib/idmap";
import { dockerSshOptions, hostKeyAlias, writeKnownHostsFile } from "../../components/lib/knownHosts";
import { parseReadiness } from "../../components/lib/readiness";
import { renderRemoteCommand, shellQuote } from "../../components/lib/remoteScript";
import {
  ipv4CidrProblem,
  ipv4InSubnet,
  parseSshPublicKey,
  sshFingerprint,
} from "../../components/lib/validators";

// A real key and the fingerprint `ssh-keygen -lf` printed for it.
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHgglag4SI7pzi/6EJDdhb1jbS8gUsCU/g5eGalfjcXp";

describe("id map arithmetic", () => {
  it("maps the gateway uid 10000 to host uid 110000", () => {
    expect(hostOwnerForGateway({ uid: 10000, gid: 10000 })).toEqual({ uid: 110000, gid: 110000 });
    expect(hostIdFor(0)).toBe(PROXMOX_UNPRIVILEGED_ID_BASE);
    expect(hostIdFor(65535)).toBe(165535);
  });
  it("refuses ids outside the 65536-wide map", () => {
    expect(() => hostIdFor(65536)).toThrow(/outside the 0..65535 id map/);
    expect(() => hostIdFor(-1)).toThrow(/outside/);
    expect(() => hostIdFor(1.5)).toThrow(/outside/);
  });
});

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
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fp-")), "k.pub");
    fs.writeFileSync(file, `${KEY}\n`);
    const sshKeygen = execFileSync("ssh-keygen", ["-lf", file], { encoding: "utf8" });
    expect(sshKeygen).toContain(sshFingerprint(key));
  });
  it.each([
    ["ssh-ed25519", /must look like/],
    ["ssh-dss AAAAB3NzaC1kc3M=", /key type must be one of/],
    [`${KEY}\nssh-ed25519 AAAA`, /single line/],
  ])("rejects %j", (line, reason) => {
    expect(parseSshPublicKey(line)).toMatch(reason);
  });
});

describe("readiness output", () => {
  it("reads address and host key", () => {
    const r = parseReadiness(`address=10.1.10.57\nhost_key=${KEY}\n`);
    expect(r.address).toBe("10.1.10.57");
    expect(r.hostKey).toBe(KEY);
    expect(r.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
  it.each([
    ["host_key=" + KEY, /no valid address/],
    ["address=10.1.10.57", /no host_key/],
    ["address=10.1.10.57\nhost_key=ssh-ed25519 AAAA", /host key is invalid/],
    ["address=not-an-ip\nhost_key=" + KEY, /no valid address/],
  ])("rejects %j", (out, reason) => expect(() => parseReadiness(out)).toThrow(reason));
});

describe("known_hosts for the Docker provider", () => {
  it("pins by alias, rewrites on a new key, and leaves an unchanged file alone", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kh-"));
    const alias = hostKeyAlias("hermes-lxc", "homelab", "hermes");
    const file = writeKnownHostsFile(dir, alias, KEY);
    expect(fs.readFileSync(file, "utf8")).toBe(`${alias} ${KEY}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const mtime = fs.statSync(file).mtimeMs;
    writeKnownHostsFile(dir, alias, KEY);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
    const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHcDDZA14JFJK5+s/+dL7u2XBUbcctn4/N+tI8ZjOoR";
    writeKnownHostsFile(dir, alias, other);
    expect(fs.readFileSync(file, "utf8")).toBe(`${alias} ${other}\n`);
    // ssh itself accepts the file format: look the alias up the way the client will.
    expect(execFileSync("ssh-keygen", ["-F", alias, "-f", file], { encoding: "utf8" })).toContain(other);
  });
  it("never disables host key checking", () => {
    const opts = dockerSshOptions("/k/alias", "alias", "/keys/id").join(" ");
    expect(opts).toContain("StrictHostKeyChecking=yes");
    expect(opts).toContain("UserKnownHostsFile=/k/alias");
    expect(opts).not.toMatch(/StrictHostKeyChecking=(no|accept-new)|\/dev\/null/);
  });
});

describe("remote command rendering", () => {
  const nasty = `it's "quoted" $HOME \`id\` $(id) ; rm -rf / \\ \n second line`;
  it("passes any value through bash unchanged", () => {
    const cmd = renderRemoteCommand("probe", 'printf "%s|%s" "$A" "$B"', { A: nasty, B: 42 });
    expect(execFileSync("bash", ["-c", cmd], { encoding: "utf8" })).toBe(`${nasty}|42`);
  });
  it("is deterministic and names the script", () => {
    const a = renderRemoteCommand("probe", "echo $0", { B: "1", A: "2" });
    expect(a).toBe(renderRemoteCommand("probe", "echo $0", { A: "2", B: "1" }));
    expect(execFileSync("bash", ["-c", a], { encoding: "utf8" }).trim()).toBe("probe");
  });
  it("rejects bad names and NUL", () => {
    expect(() => renderRemoteCommand("probe", "true", { "A;B": "x" })).toThrow(/not \[A-Z_\]/);
    expect(() => shellQuote("a\0b")).toThrow(/NUL/);
    expect(() => renderRemoteCommand("x y", "true", {})).toThrow(/script name/);
  });
});
