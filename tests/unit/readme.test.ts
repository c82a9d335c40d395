/**
 * What the README tells a newcomer to type, checked as text (the CLI tier runs the marked blocks for real):
 * every pulumi command names its stack, every ssh verifies a pinned key, every sample key is a placeholder the
 * pre-flight refuses, and no file but the homelab stack carries the homelab's own keys.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { PLACEHOLDER_MARKER } from "../../components/config/preflight";
import { README, fencedBlocks, inlineSpans, shellCommands } from "../helpers/readme";
import { PROJECT_DIR } from "../helpers/stackFile";

/** pulumi subcommands that act on no stack. */
const STACKLESS = /^pulumi (login|logout|version|whoami|about|plugin|new)\b/;

/** Whether a pulumi command names its stack: -s/--stack, or `stack init <name>` / `stack select <name>`. */
function namesStack(cmd: string): boolean {
  return (
    STACKLESS.test(cmd) ||
    /\s(-s|--stack)(\s+|=)\S/.test(cmd) ||
    /^pulumi stack (init|select|rm) (?!-)\S+/.test(cmd)
  );
}

const shellBlocks = () => fencedBlocks().filter((b) => ["bash", "sh", ""].includes(b.lang));
const allCommands = () =>
  shellBlocks().flatMap((b) => shellCommands(b.body).map((c) => ({ c, line: b.line })));

describe("README: every pulumi command names its stack", () => {
  it("in every shell block", () => {
    const pulumiCommands = allCommands().filter(({ c }) => /^pulumi\s/.test(c));
    expect(pulumiCommands.length).toBeGreaterThan(30);
    expect(pulumiCommands.filter(({ c }) => !namesStack(c))).toEqual([]);
  });

  it("in every inline command with arguments (a bare `pulumi up` in prose names the step, not a command)", () => {
    const commands = inlineSpans().filter(
      (s) =>
        /^pulumi \S+ \S+/.test(s) &&
        !/^pulumi (config set|stack output) --/.test(s) &&
        s !== "pulumi stack init",
    );
    expect(commands.length).toBeGreaterThan(10);
    expect(commands.filter((c) => !namesStack(c))).toEqual([]);
  });
});

describe("README: pin first, then connect", () => {
  const sshCommands = () => allCommands().filter(({ c }) => /^(ssh|ssh-copy-id|scp|sftp)\s/.test(c));

  it("every ssh, ssh-copy-id and scp verifies a pinned key (StrictHostKeyChecking=yes, its own known_hosts file)", () => {
    expect(sshCommands().length).toBeGreaterThan(1);
    expect(
      sshCommands().filter(
        ({ c }) => !/-o StrictHostKeyChecking=yes\b/.test(c) || !/-o UserKnownHostsFile=\S+/.test(c),
      ),
    ).toEqual([]);
  });

  it("the key is pinned before the first connection", () => {
    const pin = README.indexOf("~/.ssh/hermes-lxc/bootstrap_known_hosts");
    const firstConnect = README.search(/^(ssh|ssh-copy-id) /m);
    expect(pin).toBeGreaterThan(0);
    expect(pin).toBeLessThan(firstConnect);
  });

  it("ssh-keyscan only with its fingerprint compared, and never StrictHostKeyChecking=no or accept-new", () => {
    const scans = allCommands()
      .map(({ c }) => c)
      .filter((c) => /^ssh-keyscan\b/.test(c));
    expect(scans.length).toBeGreaterThan(0);
    for (const line of README.split("\n").filter((l) => /^\s*ssh-keyscan\b/.test(l))) {
      expect(line).toMatch(/\| ssh-keygen -lf -/);
    }
    for (const block of shellBlocks())
      expect(block.body).not.toMatch(/StrictHostKeyChecking=(no|accept-new)/);
  });
});

describe("README: the Proxmox API's CA", () => {
  it("every SSL_CERT_DIR export is the every-shell block's (system roots kept, the nodes' CAs added)", () => {
    const exports = README.split("\n").filter((l) => /^export SSL_CERT_DIR=/.test(l));
    expect(exports.length).toBeGreaterThanOrEqual(3);
    const values = new Set(exports.map((l) => l.replace(/\s+#.*$/, "")));
    expect([...values]).toEqual(['export SSL_CERT_DIR="/etc/ssl/certs:$HOME/.config/hermes-lxc/ca"']);
  });
});

describe("sample keys", () => {
  const KEY_RE = /\b(ssh-(?:ed25519|rsa)|ecdsa-sha2-nistp\d+) (AAAA[A-Za-z0-9+/=]{20,})/g;
  const keysIn = (text: string) => [...text.matchAll(KEY_RE)].map((m) => m[2]);

  it("every key in the README and the example stack is a recognisable placeholder", () => {
    const example = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.example.yaml"), "utf8");
    const keys = [...keysIn(README), ...keysIn(example)];
    expect(keys.length).toBeGreaterThanOrEqual(3);
    expect(keys.filter((k) => !k.includes(PLACEHOLDER_MARKER))).toEqual([]);
  });

  it("the homelab stack's own keys appear in no other file of the repository", () => {
    const homelab = yaml.load(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.homelab.yaml"), "utf8")) as any;
    const own = [
      ...Object.values(homelab.config["hermes-lxc:proxmox"].nodes).map((n: any) => n.hostKey.split(/\s+/)[1]),
      ...homelab.config["hermes-lxc:lxcs"].hermes.rootSshKeys.map((k: string) => k.split(/\s+/)[1]),
    ];
    expect(own.length).toBe(2);
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
    })
      .split("\n")
      .filter((f) => f && f !== "Pulumi.homelab.yaml" && fs.existsSync(path.join(PROJECT_DIR, f)));
    const copies = files.filter((f) => {
      const p = path.join(PROJECT_DIR, f);
      if (!fs.statSync(p).isFile() || fs.statSync(p).size > 5_000_000) return false;
      const text = fs.readFileSync(p, "latin1");
      return own.some((k) => text.includes(k));
    });
    expect(copies).toEqual([]);
  });
});

describe("Pulumi.example.yaml: every value a user must decide is marked CHANGE", () => {
  const lines = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.example.yaml"), "utf8").split("\n");
  /** The line of `key:` (the n-th one), and whether it or the comment lines just above it say CHANGE. */
  function marked(key: string, nth = 0): boolean {
    // rootSshKeys: its entry, the placeholder key, is the value to change.
    const re = key === "rootSshKeys" ? /^\s*- ssh-ed25519 / : new RegExp(`^\\s*(- )?${key}:`);
    const at = lines.map((l, i) => (re.test(l) ? i : -1)).filter((i) => i >= 0)[nth];
    if (at === undefined) throw new Error(`no ${key}: in Pulumi.example.yaml`);
    let i = at;
    if (lines[i].includes("# CHANGE")) return true;
    while (i > 0 && /^\s*#/.test(lines[i - 1])) if (/CHANGE/.test(lines[--i])) return true;
    return false;
  }

  it.each([
    ["endpoint"],
    ["pve"],
    ["address"],
    ["hostKey"],
    ["node"],
    ["vmId"],
    ["datastore", 0],
    ["bridge"],
    ["rootSshKeys"],
    ["baseUrl"],
    ["model"],
  ])("%s", (key, nth = 0) => {
    expect(marked(String(key), Number(nth))).toBe(true);
  });
});

describe("README: Run the tests", () => {
  // The first command the section gives is the one that passes on a fresh Debian machine: .ci/run installs the
  // Debian and npm packages first, where a bare `npm test` stops at the first missing one.
  it("opens with the command CI runs, and CI runs the README's test command", () => {
    const section = README.slice(README.indexOf("## Run the tests"));
    const first = fencedBlocks(section)[0];
    expect(shellCommands(first.body)[0]).toMatch(/^bash \.ci\/run\b/);
    const ci = fs.readFileSync(path.resolve(__dirname, "..", "..", ".ci", "run"), "utf8");
    expect(ci).toMatch(/^npm test\b/m);
  });
});
