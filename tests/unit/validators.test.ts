/** components/lib/validators.ts: addresses and SSH public keys. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ipv4CidrProblem,
  ipv4InSubnet,
  parseSshPublicKey,
  sshFingerprint,
} from "../../components/lib/validators";
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
});
