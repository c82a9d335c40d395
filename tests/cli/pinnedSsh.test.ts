/**
 * Pin first, then connect, with the real OpenSSH client against a throwaway sshd on loopback (its own host key):
 * the README's bootstrap pin and login line, and the ssh command the stack outputs hand out (pinnedSshOptions).
 * Each one either verifies the pinned key or refuses; none asks to trust a key, and none connects to a machine whose
 * key is not the pinned one. (No login happens: the client offers no accepted key, so a verified host ends at
 * "Permission denied", after the host key check, and a refused one at "Host key verification failed".)
 */
import { ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { pinnedSshOptions, writeKnownHostsFile } from "../../components/lib/knownHosts";
import { commandLines, filled, readmeBlock } from "./harness";

let dir: string;
let home: string;
let port: number;
let sshd: ChildProcess;
let hostKey: string;
let otherKey: string;

const VERIFIED_THEN_NO_LOGIN = /Permission denied/;
const REFUSED = /Host key verification failed/;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Runs a command line in bash with the test's HOME. A user who answers "yes" to every question ssh asks is played
 * by SSH_ASKPASS: were a command to ask whether to trust a key (StrictHostKeyChecking=ask, ssh's default), the key
 * would be accepted, and the test would see it.
 */
function run(line: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-c", line],
      {
        env: {
          PATH: "/usr/bin:/bin",
          HOME: home,
          SSH_ASKPASS: path.join(dir, "say-yes"),
          SSH_ASKPASS_REQUIRE: "force",
          DISPLAY: ":0",
        },
        encoding: "utf8",
        timeout: 30_000,
      },
      (_e, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
  });
}

const keyLine = (file: string) => fs.readFileSync(file, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-pin-"));
  home = path.join(dir, "home");
  fs.mkdirSync(path.join(home, ".ssh"), { recursive: true, mode: 0o700 });
  for (const k of ["host", "other"]) {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, k)]);
  }
  hostKey = keyLine(path.join(dir, "host.pub"));
  fs.writeFileSync(path.join(dir, "say-yes"), "#!/bin/sh\necho yes\n", { mode: 0o755 });
  otherKey = keyLine(path.join(dir, "other.pub"));
  port = await freePort();
  fs.mkdirSync("/run/sshd", { recursive: true });
  sshd = spawn(
    "/usr/sbin/sshd",
    [
      "-D",
      "-e",
      "-f",
      "/dev/null",
      "-h",
      path.join(dir, "host"),
      "-o",
      `ListenAddress=127.0.0.1:${port}`,
      "-o",
      "PidFile=none",
      "-o",
      "PasswordAuthentication=no",
      "-o",
      "KbdInteractiveAuthentication=no",
      "-o",
      `AuthorizedKeysFile=${path.join(dir, "none")}`,
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => (c.end(), resolve(true)));
      c.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("sshd did not start");
}, 60_000);

afterAll(() => {
  sshd?.kill();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * The README's pin-node block: its echo (the pin) and its ssh line (the check), with the reader's values. The node
 * listens on a port of its own here, so known_hosts names it `[127.0.0.1]:<port>` and ssh gets `-p <port>`.
 */
function readmePin(key: string): { pin: string; check: string } {
  const lines = commandLines(readmeBlock("pin-node"));
  const pin = filled(
    lines.find((l) => l.startsWith("echo "))!,
    {
      node: `[127.0.0.1]:${port}`,
      "host key line": key,
    },
  );
  const check = filled(
    lines.find((l) => /^ssh /.test(l))!,
    { node: "127.0.0.1" },
  ).replace(/^ssh /, `ssh -p ${port} `);
  return { pin, check };
}

describe("pin first, then connect", () => {
  beforeEach(() => fs.rmSync(path.join(home, ".ssh", "hermes-lxc"), { recursive: true, force: true }));

  it("the README's login line refuses before anything is pinned (it does not offer to trust the key)", async () => {
    const { check } = readmePin(hostKey);
    const out = await run(check);
    expect(out).toMatch(REFUSED);
    expect(out).not.toMatch(/Are you sure you want to continue connecting|Permanently added/);
  });

  it("after the README's pin, the same line verifies the node's key", async () => {
    const { pin, check } = readmePin(hostKey);
    fs.mkdirSync(path.join(home, ".ssh", "hermes-lxc"), { recursive: true, mode: 0o700 });
    expect(await run(pin)).toBe("");
    expect(await run(check)).toMatch(VERIFIED_THEN_NO_LOGIN);
  });

  it("a pinned key that is not the node's refuses (an impostor, or a reinstalled node)", async () => {
    const { pin, check } = readmePin(otherKey);
    fs.mkdirSync(path.join(home, ".ssh", "hermes-lxc"), { recursive: true, mode: 0o700 });
    await run(pin);
    expect(await run(check)).toMatch(REFUSED);
  });

  describe("the ssh command the stack outputs give", () => {
    const khDir = () => path.join(home, ".ssh", "hermes-lxc");
    const outputCommand = () =>
      `${pinnedSshOptions(khDir(), "hermes-lxc.p.s.node-pve", port)} root@127.0.0.1 true`;

    it("refuses on a machine where the program has not written the pinned file yet", async () => {
      const out = await run(outputCommand());
      expect(out).toMatch(REFUSED);
      expect(out).not.toMatch(/Permanently added/);
    });

    it("verifies once the program wrote it, and refuses another key", async () => {
      writeKnownHostsFile(khDir(), "hermes-lxc.p.s.node-pve", hostKey);
      expect(await run(outputCommand())).toMatch(VERIFIED_THEN_NO_LOGIN);
      writeKnownHostsFile(khDir(), "hermes-lxc.p.s.node-pve", otherKey);
      expect(await run(outputCommand())).toMatch(REFUSED);
    });
  });
});
