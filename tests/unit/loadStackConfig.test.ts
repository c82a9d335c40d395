/**
 * loadStackConfig itself, on what it reads outside the pure schema: the engine's config map (with which keys are
 * encrypted), the stack file, the environment (PATH, SSH_AUTH_SOCK, PROXMOX_VE_API_TOKEN), the client key and the
 * project's files. Each refusal happens in loadStackConfig, before index.ts registers any resource, and names the key
 * path; what loads comes back with every secret wrapped as a Pulumi secret.
 *
 * The SDK runs under mocks (no engine): the config map is set as `pulumi config set [--secret]` would set it.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LoadedStackConfig, loadStackConfig } from "../../components/config/loadStackConfig";
import { PLACEHOLDER_HOST_KEY } from "../../components/config/preflight";
import { CANARY, homelabWithSecrets, twoNodeStack } from "../helpers/stackFile";

type Mutable = any;

const STACK = "unittest";
const SECRET_KEYS = ["hermes-lxc:proxmoxPassword", "hermes-lxc:agentSecrets", "hermes-lxc:lxcSecrets"];

let tmp: string;
/** The project directory loadStackConfig is handed (documents are read relative to it). */
let projectDir: string;
/** A directory with an executable `ssh` in it. */
let binDir: string;
/** A client key, and its public half. */
let keyPath: string;
let publicKey: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-lxc-load-"));
  projectDir = path.join(tmp, "project");
  binDir = path.join(tmp, "bin");
  fs.mkdirSync(projectDir);
  fs.mkdirSync(binDir);
  fs.writeFileSync(path.join(binDir, "ssh"), "#!/bin/sh\n", { mode: 0o755 });
  keyPath = path.join(tmp, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyPath]);
  publicKey = fs.readFileSync(`${keyPath}.pub`, "utf8").trim();
  await pulumi.runtime.setMocks(
    { newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: (args) => args.inputs },
    "hermes-lxc",
    STACK,
    false,
  );
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The homelab stack with its canary secrets, logging in with this test's key (which its LXC accepts). */
function stack(mutate: (raw: Mutable) => void = () => {}, base = homelabWithSecrets): Mutable {
  const raw = base() as Mutable;
  raw.ssh = { privateKeyPath: keyPath };
  for (const lxc of Object.values<Mutable>(raw.lxcs)) lxc.rootSshKeys.push(publicKey);
  mutate(raw);
  return raw;
}

interface Setup {
  env?: NodeJS.ProcessEnv;
  /** Further `namespace:key` entries of the config map. */
  extra?: Record<string, string>;
  /** The keys the engine reports encrypted (default: the program's three secret keys). */
  secretKeys?: string[];
}

/** Sets the stack's config map as the engine would, and loads it. */
function load(raw: Mutable, setup: Setup = {}): LoadedStackConfig {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    config[`hermes-lxc:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  Object.assign(config, setup.extra);
  pulumi.runtime.setAllConfig(config, setup.secretKeys ?? SECRET_KEYS);
  return loadStackConfig({
    env: { PATH: binDir, SSH_AUTH_SOCK: path.join(tmp, "agent.sock"), ...setup.env },
    projectDir,
  });
}

/** The message loadStackConfig refuses the stack with (a RunError: printed once, without a stack trace). */
function refusal(raw: Mutable, setup: Setup = {}): string {
  try {
    load(raw, setup);
  } catch (e) {
    expect(e).toBeInstanceOf(pulumi.RunError);
    const message = (e as Error).message;
    expect(message).toMatch(/^Invalid stack configuration \(nothing was deployed\):\n {2}- /);
    return message;
  }
  throw new Error("the stack loaded");
}

/** An output's value and whether it is secret. */
async function reveal(o: pulumi.Output<string> | undefined): Promise<{ value: string; secret: boolean }> {
  expect(o).toBeDefined();
  const value = await new Promise<string>((resolve) => o!.apply((v) => resolve(v)));
  return { value, secret: await pulumi.isSecret(o!) };
}

describe("a valid stack loads", () => {
  it("returns the model, and every secret as a Pulumi secret holding its value", async () => {
    const loaded = load(stack());
    expect(loaded.config.lxcs.map((l) => l.name)).toEqual(["hermes"]);
    expect(loaded.config.agents.map((a) => a.name)).toEqual(["hermes"]);
    expect(await reveal(loaded.secrets.proxmoxPassword)).toEqual({
      value: CANARY.proxmoxPassword,
      secret: true,
    });
    const agent = loaded.secrets.agents.hermes;
    expect(await reveal(agent.llmApiKey)).toEqual({ value: CANARY.llmApiKey, secret: true });
    expect(await reveal(agent.telegramBotToken as pulumi.Output<string>)).toEqual({
      value: CANARY.telegramBotToken,
      secret: true,
    });
    expect(Object.keys(agent.env)).toEqual(["GITHUB_TOKEN"]);
    expect(await reveal(agent.env.GITHUB_TOKEN)).toEqual({ value: CANARY.extraEnv, secret: true });
    expect(await reveal(loaded.secrets.lxcs.hermes.rootPassword)).toEqual({
      value: CANARY.rootPassword,
      secret: true,
    });
    // The client key: its path, and its content as a secret (it goes into every remote command's connection).
    expect(loaded.sshKey?.path).toBe(keyPath);
    expect(await reveal(loaded.sshKey?.content)).toEqual({
      value: fs.readFileSync(keyPath, "utf8"),
      secret: true,
    });
    // In plain text only for the program's own login before any resource (placement.ts).
    expect(loaded.proxmoxPassword).toBe(CANARY.proxmoxPassword);
  });

  it("leaves out the secrets the stack does not set", () => {
    const loaded = load(
      stack((r) => {
        delete r.lxcSecrets;
        delete r.agentSecrets.hermes.env;
      }),
    );
    expect(loaded.secrets.lxcs.hermes?.rootPassword).toBeUndefined();
    expect(Object.keys(loaded.secrets.agents.hermes).sort()).toEqual([
      "env",
      "llmApiKey",
      "telegramBotToken",
    ]);
    expect(loaded.secrets.agents.hermes.env).toEqual({});
  });

  it("gives an LXC without a root password none (SSH keys only), when another LXC has one", async () => {
    const loaded = load(
      stack((r) => {
        r.lxcSecrets = { hermes: { rootPassword: CANARY.rootPassword }, hermes2: {} };
      }, twoNodeStack),
    );
    expect(await reveal(loaded.secrets.lxcs.hermes.rootPassword)).toEqual({
      value: CANARY.rootPassword,
      secret: true,
    });
    expect(loaded.secrets.lxcs.hermes2).toEqual({});
  });
});

describe("API tokens are refused before anything else", () => {
  it("refuses proxmoxve:apiToken in the stack, with the command that removes it (naming the stack)", () => {
    const message = refusal(stack(), { extra: { "proxmoxve:apiToken": "root@pam!t=CANARY-token" } });
    expect(message).toContain(
      `proxmoxve:apiToken: is set in the stack. Proxmox refuses bind mounts and the keyctl feature to every API token`,
    );
    expect(message).toContain(`pulumi config rm -s ${STACK} proxmoxve:apiToken`);
    expect(message).not.toContain("CANARY");
  });

  it("refuses PROXMOX_VE_API_TOKEN in the environment", () => {
    const message = refusal(stack(), { env: { PROXMOX_VE_API_TOKEN: "root@pam!t=CANARY-token" } });
    expect(message).toContain("environment variable PROXMOX_VE_API_TOKEN: is set.");
    expect(message).not.toContain("CANARY");
  });
});

describe("the engine's config map", () => {
  it("refuses a key that is not the program's, naming it and what is allowed", () => {
    const message = refusal(stack(), { extra: { "hermes-lxc:lxc": JSON.stringify({}) } });
    expect(message).toMatch(/ {2}- lxc: is not a key of this program.*Allowed: .*lxcs/);
  });

  it("refuses a secret set without --secret", () => {
    const message = refusal(stack(), { secretKeys: ["hermes-lxc:agentSecrets", "hermes-lxc:lxcSecrets"] });
    expect(message).toMatch(/ {2}- proxmoxPassword: is not encrypted/);
    expect(message).not.toContain(CANARY.proxmoxPassword);
  });

  it("reads Pulumi.<stack>.yaml to name a plain-text leaf inside an encrypted key", () => {
    const file = path.join(projectDir, `Pulumi.${STACK}.yaml`);
    fs.writeFileSync(
      file,
      [
        "config:",
        "  hermes-lxc:agentSecrets:",
        "    hermes:",
        "      llmApiKey: CANARY-plain",
        "      telegramBotToken:",
        "        secure: v1:AAAA",
        "",
      ].join("\n"),
    );
    try {
      const message = refusal(stack());
      expect(message).toMatch(/ {2}- agentSecrets\.hermes\.llmApiKey: is not encrypted/);
      expect(message).not.toContain("telegramBotToken");
    } finally {
      fs.rmSync(file);
    }
  });

  it("with an SDK that cannot say which keys are encrypted, takes them as encrypted rather than refusing every stack", () => {
    // The SDK's runtime object itself, not a reloaded module tree: a test that re-imports components/config runs
    // its module-level code under this test's coverage, and Stryker then plans every static mutant of the folder
    // against this one test (they "survived" it).
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: unknown };
    const isConfigSecret = runtime.isConfigSecret;
    runtime.isConfigSecret = undefined;
    try {
      const config: Record<string, string> = {};
      for (const [k, v] of Object.entries(stack() as Record<string, unknown>)) {
        config[`hermes-lxc:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
      }
      pulumi.runtime.setAllConfig(config, SECRET_KEYS);
      const loaded = loadStackConfig({ env: { PATH: binDir, SSH_AUTH_SOCK: "x" }, projectDir });
      expect(loaded.proxmoxPassword).toBe(CANARY.proxmoxPassword);
    } finally {
      runtime.isConfigSecret = isConfigSecret;
    }
  });
});

describe("documents are read from inside the project directory only", () => {
  const withDocument = (file: string) =>
    stack((r) => {
      r.agents.hermes.documents = { "USER.md": { file } };
    });

  beforeAll(() => {
    fs.mkdirSync(path.join(projectDir, "docs"), { recursive: true });
    fs.writeFileSync(path.join(projectDir, "docs", "user.md"), "inside the project\n");
    // Next to the project: one beside it, and one in a directory whose name starts with the project's.
    fs.writeFileSync(path.join(tmp, "outside.md"), "CANARY-outside\n");
    fs.mkdirSync(`${projectDir}-evil`, { recursive: true });
    fs.writeFileSync(path.join(`${projectDir}-evil`, "user.md"), "CANARY-outside\n");
  });

  it("reads a file of the project, relative to it", () => {
    const loaded = load(withDocument("docs/user.md"));
    expect(loaded.config.agents[0].documents).toEqual([
      { path: "workspace/USER.md", content: "inside the project\n" },
    ]);
  });

  it.each([
    ["a path up and out", "../outside.md"],
    ["a sibling directory whose name starts with the project's", "../project-evil/user.md"],
    ["an absolute path", "OUTSIDE"],
  ])("refuses %s, naming the key path, and reads nothing", (_what, file) => {
    const message = refusal(withDocument(file === "OUTSIDE" ? path.join(tmp, "outside.md") : file));
    expect(message).toContain(
      'agents.hermes.documents["USER.md"].file: cannot be read: must stay inside the project directory',
    );
    expect(message).not.toContain("CANARY");
  });
});

describe("the example's placeholders are reported first, alone", () => {
  it("refuses a placeholder host key without also reporting what it would break", () => {
    const message = refusal(
      stack((r) => {
        r.proxmox.nodes.gihyeon.hostKey = PLACEHOLDER_HOST_KEY;
        // The client key missing from rootSshKeys too: a pre-flight problem, not reported alongside.
        r.lxcs.hermes.rootSshKeys.pop();
      }),
    );
    expect(message).toMatch(/ {2}- proxmox\.nodes\.gihyeon\.hostKey: is the example's placeholder/);
    expect(message).not.toContain("rootSshKeys");
  });
});

describe("pre-flight checks on this machine", () => {
  it("refuses a client key the LXC would not accept, naming rootSshKeys", () => {
    const message = refusal(stack((r) => r.lxcs.hermes.rootSshKeys.pop()));
    expect(message).toMatch(
      / {2}- lxcs\.hermes\.rootSshKeys: does not hold the public key of ssh\.privateKeyPath/,
    );
  });

  it("refuses an ssh.privateKeyPath it cannot read, naming the path and the reason only", () => {
    const missing = path.join(tmp, "missing", "id_ed25519");
    const message = refusal(stack((r) => (r.ssh.privateKeyPath = missing)));
    expect(message).toMatch(new RegExp(`^ {2}- ssh\\.privateKeyPath: cannot read ${missing}: ENOENT$`, "m"));
  });

  it("finds ssh in any directory of PATH", () => {
    expect(() =>
      load(stack(), { env: { PATH: [path.join(tmp, "none"), binDir].join(path.delimiter) } }),
    ).not.toThrow();
  });

  it.each([
    ["not on PATH", () => path.join(tmp, "none")],
    ["PATH unset", () => undefined],
    // Go's exec (the Docker provider) refuses a command found through a relative PATH entry (ErrDot).
    ["only under a relative PATH entry", () => path.relative(process.cwd(), binDir)],
  ])("refuses a stack with hosts when ssh is %s", (_what, pathOf) => {
    const message = refusal(stack(), { env: { PATH: pathOf() } });
    expect(message).toMatch(/ {2}- ssh: no `ssh` client on this machine's PATH/);
  });

  it("does not count a file that is not executable", () => {
    const dir = path.join(tmp, "noexec");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "ssh"), "#!/bin/sh\n", { mode: 0o644 });
    expect(refusal(stack(), { env: { PATH: dir } })).toMatch(/ - ssh: no `ssh` client/);
  });
});

describe("without ssh.privateKeyPath, the ssh-agent", () => {
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    jest.spyOn(pulumi.log, "warn").mockImplementation((message: string) => {
      warnings.push(message);
      return Promise.resolve();
    });
  });
  afterEach(() => jest.restoreAllMocks());
  const aboutSsh = (w: string) => /ssh|SSH_AUTH_SOCK/.test(w);
  const noKeyPath = () =>
    stack((r) => {
      delete r.ssh.privateKeyPath;
    });

  it("warns when SSH_AUTH_SOCK is empty that remote commands will fail to authenticate", () => {
    const loaded = load(noKeyPath(), { env: { SSH_AUTH_SOCK: "" } });
    expect(loaded.sshKey).toBeUndefined();
    expect(warnings.filter(aboutSsh)).toEqual([
      "ssh.privateKeyPath is not set and SSH_AUTH_SOCK is empty: remote commands will fail to authenticate.",
    ]);
  });

  it("does not warn when an agent is there", () => {
    const loaded = load(noKeyPath());
    expect(loaded.sshKey).toBeUndefined();
    expect(warnings.filter(aboutSsh)).toEqual([]);
    // The schema's warnings are logged too, naming the stack in the commands they give.
    expect(warnings.join("\n")).toContain(`pulumi stack output -s ${STACK} agents`);
  });
});
