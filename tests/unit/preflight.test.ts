/** components/config/preflight.ts: what is checked on this machine before any resource exists. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  PLACEHOLDER_HOST_KEY,
  PLACEHOLDER_PUBLIC_KEY,
  clientKeyInfo,
  clientKeyProblems,
  localToolProblems,
  placeholderProblems,
} from "../../components/config/preflight";
import { parseStackConfig, RawStackConfig } from "../../components/config/stack";
import { homelabWithSecrets, loadStackFile, readProjectFile } from "../helpers/stackFile";
import { KEY } from "../helpers/sampleKey";

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
    ["rsa", ["-t", "rsa", "-b", "1024"]], // the format is under test: the smallest size ssh-keygen makes
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

describe("clientKeyInfo on the other formats", () => {
  it("knows an encrypted PEM key (ssh-keygen -m PEM) by its Proc-Type header, and an unencrypted one as usable", () => {
    const locked = keygen("pem-locked", ["-t", "rsa", "-b", "1024", "-m", "PEM", "-N", "correct horse"]);
    expect(locked.text).toMatch(/Proc-Type: 4,ENCRYPTED/);
    expect(clientKeyInfo(locked.text)).toEqual({ encrypted: true });
    const open = keygen("pem-open", ["-t", "rsa", "-b", "1024", "-m", "PEM", "-N", ""]);
    expect(clientKeyInfo(open.text)).toEqual({ encrypted: false });
    // Its public half cannot be read without decrypting: no rootSshKeys check, no false alarm.
    expect(clientKeyProblems(lxc("hermes", []), open)).toEqual([]);
    expect(clientKeyProblems(lxc("hermes", []), locked)).toEqual([
      expect.stringMatching(/^ssh\.privateKeyPath: .* is protected by a passphrase/),
    ]);
  });

  it("reads the cipher of an openssh-key-v1 file that lists no key", () => {
    const str = (s: string) => {
      const b = Buffer.from(s, "latin1");
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return Buffer.concat([len, b]);
    };
    const file = (cipher: string) => {
      const body = Buffer.concat([
        Buffer.from("openssh-key-v1\0", "latin1"),
        str(cipher),
        str(cipher === "none" ? "none" : "bcrypt"),
        str(""),
        Buffer.alloc(4),
      ]);
      return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.toString("base64")}\n-----END OPENSSH PRIVATE KEY-----\n`;
    };
    expect(clientKeyInfo(file("aes256-ctr"))).toEqual({ encrypted: true });
    expect(clientKeyInfo(file("none"))).toEqual({ encrypted: false });
  });
});

describe("clientKeyInfo on what is not an OpenSSH key", () => {
  it("reads no public key from an OPENSSH block of another format (a key it cannot vouch for is not checked)", () => {
    const key = keygen("other-magic", ["-t", "ed25519", "-N", ""]);
    const body = key.text.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    const blob = Buffer.from(body, "base64");
    // The same bytes under another format name: a future openssh-key-v2 may lay them out differently.
    blob.write("openssh-key-v2", 0, "latin1");
    const other = `-----BEGIN OPENSSH PRIVATE KEY-----\n${blob.toString("base64")}\n-----END OPENSSH PRIVATE KEY-----\n`;
    expect(clientKeyInfo(other)).toEqual({ encrypted: false });
    expect(clientKeyProblems(lxc("hermes", []), { path: key.path, text: other })).toEqual([]);
  });

  it("reads nothing from a truncated OpenSSH key, and does not call it protected", () => {
    const key = keygen("truncated", ["-t", "ed25519", "-N", ""]);
    const body = key.text.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    const cut = Buffer.from(body, "base64").subarray(0, 40).toString("base64");
    const text = `-----BEGIN OPENSSH PRIVATE KEY-----\n${cut}\n-----END OPENSSH PRIVATE KEY-----\n`;
    expect(clientKeyInfo(text)).toEqual({ encrypted: false });
  });

  it("knows an encrypted PEM key by the header OpenSSL reads, exactly", () => {
    const pem = (header: string) =>
      `-----BEGIN RSA PRIVATE KEY-----\n${header}\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n`;
    expect(clientKeyInfo(pem("Proc-Type: 4,ENCRYPTED"))).toEqual({ encrypted: true });
    expect(clientKeyInfo(pem("Proc-Type: 4,MIC-ONLY"))).toEqual({ encrypted: false });
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

  it("refuses a passphrase-protected key, pointing at ssh-agent and at removing ssh.privateKeyPath", () => {
    const key = keygen("locked", ["-t", "ed25519", "-N", "correct horse"]);
    const [problem] = clientKeyProblems(lxc("hermes", [key.pub]), key);
    expect(problem).toMatch(/^ssh\.privateKeyPath: .* is protected by a passphrase.*ssh-add/);
    expect(problem).toContain(`(ssh-add ${key.path}) and remove ssh.privateKeyPath`);
    expect(problem).toContain("pulumi config rm --path ssh.privateKeyPath");
  });

  it("finds the key in rootSshKeys however the line is spaced (as the schema accepts it)", () => {
    const key = keygen("spaced", ["-t", "ed25519", "-N", ""]);
    const [type, blob] = key.pub.split(" ");
    for (const line of [`  ${type} ${blob} me@laptop `, `${type}   ${blob}   me@laptop`]) {
      expect(clientKeyProblems(lxc("hermes", [line]), key)).toEqual([]);
    }
    // Through the schema: the stack's own line, spaced, is a valid rootSshKeys entry.
    const raw = homelabWithSecrets() as any;
    raw.lxcs.hermes.rootSshKeys = [`  ${type}  ${blob}  me@laptop`];
    const { config } = parseStackConfig(raw, { readFile: readProjectFile });
    expect(clientKeyProblems(config, key)).toEqual([]);
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

  it("needs it with LXCs too, and with LXCs and Docker hosts together; it looks for `ssh`", () => {
    const onlySsh = (name: string) => name === "ssh";
    for (const config of [
      { lxcs: [{}], dockerHosts: [] },
      { lxcs: [{}], dockerHosts: [{}] },
    ] as never[]) {
      expect(localToolProblems(config, () => false)).toEqual([
        expect.stringMatching(/^ssh: no `ssh` client/),
      ]);
      expect(localToolProblems(config, onlySsh)).toEqual([]);
    }
  });
});

describe("placeholderProblems", () => {
  const parse = (raw: RawStackConfig) => parseStackConfig(raw, { readFile: readProjectFile }).config;
  const example = () => {
    const raw = loadStackFile("example");
    raw.agentSecrets = { hermes: { llmApiKey: "k", telegramBotToken: "123456:token" } };
    raw.proxmoxPassword = "pw";
    return raw as any;
  };

  it("Pulumi.example.yaml parses, and each of its placeholders is refused with what to run instead", () => {
    const problems = placeholderProblems(parse(example()));
    expect(problems.map((p) => p.slice(0, p.indexOf(":")))).toEqual([
      "proxmox.endpoint",
      "proxmox.nodes.pve.address",
      "proxmox.nodes.pve.hostKey",
      "lxcs.hermes.rootSshKeys[0]",
      "agents.hermes.llm.baseUrl",
    ]);
    const [endpoint, address, hostKey, rootKey, llm] = problems;
    expect(llm).toContain("pulumi config set --path 'agents.hermes.llm.baseUrl' <value>");
    expect(endpoint).toContain("pulumi config set --path 'proxmox.endpoint' <value>");
    expect(address).toContain(".invalid names never resolve");
    expect(hostKey).toContain("cat /etc/ssh/ssh_host_ed25519_key.pub");
    expect(hostKey).toContain("pulumi config set --path 'proxmox.nodes.pve.hostKey' '<that line>'");
    // ssh-keyscan only with the fingerprint comparison that makes it safe.
    expect(hostKey).toContain(
      "ssh-keyscan -t ed25519 pve.example.invalid | ssh-keygen -lf - prints its fingerprint: use that line only if " +
        "the fingerprint is the one ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub prints on the console",
    );
    expect(rootKey).toContain(
      `pulumi config set --path 'lxcs.hermes.rootSshKeys[0]' "$(cat ~/.ssh/id_ed25519.pub)"`,
    );
    // The example carries exactly the placeholders the program knows.
    const text = readProjectFile("Pulumi.example.yaml");
    expect(text).toContain(PLACEHOLDER_HOST_KEY);
    expect(text).toContain(PLACEHOLDER_PUBLIC_KEY);
  });

  it("accepts the example once each placeholder is replaced", () => {
    const raw = example();
    raw.proxmox.endpoint = "https://pve.lan:8006/";
    raw.proxmox.nodes.pve.address = "pve.lan";
    raw.proxmox.nodes.pve.hostKey = KEY;
    raw.lxcs.hermes.rootSshKeys = [KEY];
    raw.agents.hermes.llm.baseUrl = "https://openrouter.ai/api/v1";
    expect(placeholderProblems(parse(raw))).toEqual([]);
  });

  it("accepts the homelab stack (real-looking values are not second-guessed)", () => {
    expect(placeholderProblems(parse(homelabWithSecrets()))).toEqual([]);
  });

  it("names the public key to put in rootSshKeys after ssh.privateKeyPath, or the agent's", () => {
    const raw = example();
    raw.ssh.privateKeyPath = "~/.ssh/hermes";
    const [withFile] = placeholderProblems(parse(raw)).filter((p) => p.startsWith("lxcs."));
    expect(withFile).toMatch(/'lxcs\.hermes\.rootSshKeys\[0\]' "\$\(cat ~\/\.ssh\/hermes\.pub\)"$/);
    delete raw.ssh.privateKeyPath;
    const [withAgent] = placeholderProblems(parse(raw)).filter((p) => p.startsWith("lxcs."));
    expect(withAgent).toMatch(/"\$\(ssh-add -L \| head -n 1\)"$/);
  });

  it("quotes ssh.privateKeyPath into the command only when it is a plain path (it is meant to be pasted)", () => {
    const raw = example();
    const advice = (keyPath: string) => {
      raw.ssh.privateKeyPath = keyPath;
      const [problem] = placeholderProblems(parse(raw)).filter((p) => p.startsWith("lxcs."));
      return problem.slice(problem.lastIndexOf("rootSshKeys[0]' ") + "rootSshKeys[0]' ".length);
    };
    expect(advice("~/.ssh/id-ed25519_hermes+2.key")).toBe('"$(cat ~/.ssh/id-ed25519_hermes+2.key.pub)"');
    for (const unsafe of ["~/.ssh/my key", "~/.ssh/id;reboot", "$(reboot)/id", "`reboot`", '~/.ssh/"id"']) {
      expect(advice(unsafe)).toBe('"$(cat <ssh.privateKeyPath>.pub)"');
    }
  });

  it("says why a placeholder host key is refused and where to read the real one", () => {
    const [hostKey] = placeholderProblems(parse(example())).filter((p) => p.includes(".hostKey:"));
    expect(hostKey).toContain("not a real host key (every SSH connection is checked against it)");
    expect(hostKey).toContain(
      "Read the real one on the machine's console, or in an SSH session you already trust",
    );
  });

  it("knows a placeholder key however its line is spaced", () => {
    const raw = example();
    raw.proxmox.endpoint = "https://pve.lan:8006/";
    raw.proxmox.nodes.pve.address = "pve.lan";
    raw.agents.hermes.llm.baseUrl = "https://openrouter.ai/api/v1";
    raw.proxmox.nodes.pve.hostKey = `  ${PLACEHOLDER_HOST_KEY.replace(" ", "   ")}`;
    raw.lxcs.hermes.rootSshKeys = [` ${PLACEHOLDER_PUBLIC_KEY.replace(" ", "  ")}`];
    expect(placeholderProblems(parse(raw)).map((p) => p.slice(0, p.indexOf(":")))).toEqual([
      "proxmox.nodes.pve.hostKey",
      "lxcs.hermes.rootSshKeys[0]",
    ]);
  });

  it("takes a name as a placeholder only when it is in .invalid, the top-level domain itself included", () => {
    const raw = example();
    raw.proxmox.nodes.pve.hostKey = KEY;
    raw.lxcs.hermes.rootSshKeys = [KEY];
    raw.agents.hermes.llm.baseUrl = "https://openrouter.ai/api/v1";
    raw.proxmox.nodes.pve.address = "pve.lan";
    const refused = (host: string) => {
      raw.proxmox.endpoint = `https://${host}:8006/`;
      return placeholderProblems(parse(raw)).map((p) => p.slice(0, p.indexOf(":")));
    };
    for (const placeholder of ["invalid", "pve.invalid", "pve.example.invalid."]) {
      expect(refused(placeholder)).toEqual(["proxmox.endpoint"]);
    }
    for (const real of ["invalid.lan", "pve.invalid.example.org", "notinvalid", "pve.notinvalid"]) {
      expect(refused(real)).toEqual([]);
    }
  });

  it("tells, for each placeholder, what to put there and the command for its own key path", () => {
    const raw = example();
    raw.dockerHosts = {
      real: { address: "10.1.10.50", hostKey: KEY },
      box: { address: "box.example.invalid", hostKey: PLACEHOLDER_HOST_KEY },
    };
    const byKey = Object.fromEntries(
      placeholderProblems(parse(raw)).map((p) => [p.slice(0, p.indexOf(":")), p]),
    );
    // A real Docker host next to a placeholder one is not second-guessed.
    expect(Object.keys(byKey).filter((k) => k.startsWith("dockerHosts."))).toEqual([
      "dockerHosts.box.address",
      "dockerHosts.box.hostKey",
    ]);
    const set = (keyPath: string, what: string) =>
      `set ${what}: pulumi config set --path '${keyPath}' <value>`;
    expect(byKey["proxmox.endpoint"]).toContain(
      set("proxmox.endpoint", "your node's API URL, https://<node>:8006/"),
    );
    expect(byKey["proxmox.nodes.pve.address"]).toContain(
      set("proxmox.nodes.pve.address", "the node's address or DNS name"),
    );
    expect(byKey["dockerHosts.box.address"]).toContain(
      set("dockerHosts.box.address", "the host's address or DNS name"),
    );
    expect(byKey["agents.hermes.llm.baseUrl"]).toContain(
      set("agents.hermes.llm.baseUrl", "your LLM endpoint (any OpenAI-compatible /v1 URL)"),
    );
    expect(byKey["dockerHosts.box.hostKey"]).toContain(
      "pulumi config set --path 'dockerHosts.box.hostKey' '<that line>'",
    );
    expect(byKey["dockerHosts.box.hostKey"]).toContain("ssh-keyscan -t ed25519 box.example.invalid |");
  });

  it("refuses placeholders on Docker hosts and LLM endpoints too", () => {
    const raw = example();
    raw.dockerHosts = {
      box: { address: "box.example.invalid", hostKey: PLACEHOLDER_HOST_KEY },
      // DNS names are case-insensitive: .INVALID is the same placeholder.
      loud: { address: "LOUD.Example.INVALID", hostKey: KEY },
    };
    raw.agents.hermes.llm.baseUrl = "https://llm.example.invalid/v1";
    const keys = placeholderProblems(parse(raw)).map((p) => p.slice(0, p.indexOf(":")));
    expect(keys).toEqual(
      expect.arrayContaining([
        "dockerHosts.box.address",
        "dockerHosts.box.hostKey",
        "dockerHosts.loud.address",
        "agents.hermes.llm.baseUrl",
      ]),
    );
  });
});
