/** components/lib/knownHosts.ts: the pinned known_hosts files and ssh options for Docker. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dockerSshOptions, hostKeyAlias, writeKnownHostsFile } from "../../components/lib/knownHosts";
import { KEY } from "../helpers/sampleKey";

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
    const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnPG+KHhMa40o6Q2ojUYCldoBbWwTm+IdT2jvF5PNjV";
    writeKnownHostsFile(dir, alias, other);
    expect(fs.readFileSync(file, "utf8")).toBe(`${alias} ${other}\n`);
    // ssh itself accepts the file format: look the alias up the way the client will.
    expect(execFileSync("ssh-keygen", ["-F", alias, "-f", file], { encoding: "utf8" })).toContain(other);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  it("never disables host key checking", () => {
    const opts = dockerSshOptions("/k/alias", "alias", "/keys/id").join(" ");
    expect(opts).toContain("StrictHostKeyChecking=yes");
    expect(opts).toContain("UserKnownHostsFile=/k/alias");
    expect(opts).not.toMatch(/StrictHostKeyChecking=(no|accept-new)|\/dev\/null/);
  });
});
