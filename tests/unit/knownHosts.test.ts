/** components/lib/knownHosts.ts: the pinned known_hosts files and ssh options for Docker. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  dockerSshOptions,
  expandHome,
  hostKeyAlias,
  writeKnownHostsFile,
} from "../../components/lib/knownHosts";
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
  it("passes exactly these options to OpenSSH: pinned key, no prompt, the stack's key only", () => {
    expect(dockerSshOptions("/k/alias", "alias", "~/.ssh/id")).toEqual([
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "UserKnownHostsFile=/k/alias",
      "-o",
      "HostKeyAlias=alias",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=15",
      "-o",
      "ControlMaster=auto",
      "-o",
      "ControlPath=/k/cm-%C",
      "-o",
      "ControlPersist=60",
      "-o",
      "IdentitiesOnly=yes",
      "-i",
      path.join(os.homedir(), ".ssh/id"),
    ]);
    // With the ssh-agent (no key file), ssh offers the agent's keys: no -i, no IdentitiesOnly.
    expect(dockerSshOptions("/k/alias", "alias").join(" ")).not.toMatch(/IdentitiesOnly|-i /);
  });

  it("creates the directory 0700 and the file 0600 (the pins decide which host the deployment trusts)", () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), "kh-"));
    const dir = path.join(parent, "known");
    const file = writeKnownHostsFile(dir, "a", KEY);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(["a"]);
    fs.rmSync(parent, { recursive: true, force: true });
  });

  it("refuses to pin what is not a public key, and writes nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kh-"));
    expect(() => writeKnownHostsFile(dir, "a", "ssh-ed25519 not-base64!")).toThrow(
      /cannot pin host key for a: /,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("aliases are one file name each: no path separator or blank survives into them", () => {
    expect(hostKeyAlias("hermes-lxc", "homelab", "node-pve1")).toBe(
      "hermes-lxc.hermes-lxc.homelab.node-pve1",
    );
    expect(hostKeyAlias("p", "org/stack", "../a b")).toBe("hermes-lxc.p.org-stack...-a-b");
  });

  it("expands ~ and ~/ only", () => {
    expect(expandHome("~")).toBe(os.homedir());
    expect(expandHome("~/x")).toBe(path.join(os.homedir(), "x"));
    expect(expandHome("/a/~/x")).toBe("/a/~/x");
    expect(expandHome("~x")).toBe("~x");
  });
});
