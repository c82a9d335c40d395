/** components/config/preflight.ts: what is checked on this machine before any resource exists. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clientKeyInfo, clientKeyProblems, localToolProblems } from "../../components/config/preflight";

let dir: string;
const keygen = (name: string, args: string[]) => {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", ...args, "-f", file]);
  return {
    path: file,
    text: fs.readFileSync(file, "utf8"),
    pub: fs.readFileSync(`${file}.pub`, "utf8").trim(),
  };
};
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "preflight-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const lxc = (name: string, rootSshKeys: string[]) => ({ lxcs: [{ name, rootSshKeys }] }) as never;

describe("clientKeyInfo", () => {
  it.each([
    ["ed25519", ["-t", "ed25519"]],
    ["rsa", ["-t", "rsa", "-b", "2048"]],
  ])("reads the public half of an unprotected %s key as ssh-keygen writes it", (name, args) => {
    const key = keygen(`plain-${name}`, [...args, "-N", ""]);
    const info = clientKeyInfo(key.text);
    expect(info).toEqual({ publicKey: key.pub.split(" ").slice(0, 2).join(" "), encrypted: false });
  });

  it("knows a passphrase-protected key without the passphrase", () => {
    const key = keygen("protected", ["-t", "ed25519", "-N", "correct horse"]);
    expect(clientKeyInfo(key.text)).toEqual({
      publicKey: key.pub.split(" ").slice(0, 2).join(" "),
      encrypted: true,
    });
  });
});

describe("clientKeyProblems", () => {
  it("accepts a key the LXC will hold, comment or not", () => {
    const key = keygen("ok", ["-t", "ed25519", "-N", "", "-C", "me@laptop"]);
    expect(clientKeyProblems(lxc("hermes", ["ssh-ed25519 AAAAC3Nza other", key.pub]), key)).toEqual([]);
    expect(clientKeyProblems(lxc("hermes", []), undefined)).toEqual([]);
  });

  it("refuses a stack whose LXC would not accept the program's own key, saying how to add it", () => {
    const key = keygen("missing", ["-t", "ed25519", "-N", ""]);
    const [problem] = clientKeyProblems(
      lxc("hermes", ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHcDDZA owner"]),
      key,
    );
    expect(problem).toMatch(
      /^lxcs\.hermes\.rootSshKeys: does not hold the public key of ssh\.privateKeyPath/,
    );
    expect(problem).toContain(
      `pulumi config set --path 'lxcs.hermes.rootSshKeys[1]' "$(cat ${key.path}.pub)"`,
    );
  });

  it("refuses a passphrase-protected key, pointing at ssh-agent", () => {
    const key = keygen("locked", ["-t", "ed25519", "-N", "correct horse"]);
    const [problem] = clientKeyProblems(lxc("hermes", [key.pub]), key);
    expect(problem).toMatch(/^ssh\.privateKeyPath: .* is protected by a passphrase.*ssh-add/);
  });
});

describe("localToolProblems", () => {
  it("needs an ssh client as soon as there is a Docker host, and says how to get one", () => {
    const none = { lxcs: [], dockerHosts: [] } as never;
    const some = { lxcs: [], dockerHosts: [{}] } as never;
    expect(localToolProblems(none, () => false)).toEqual([]);
    expect(localToolProblems(some, () => true)).toEqual([]);
    expect(localToolProblems(some, () => false)).toEqual([
      expect.stringMatching(/^ssh: no `ssh` client .*openssh-client/),
    ]);
  });
});
