/**
 * The CLI tier's newcomer: one workstation, the real Pulumi CLI, the README followed in order. The once-per-
 * workstation block (pasted twice), "Your own stack" from the example (its placeholders refused, then replaced with
 * the commands the preview printed), a second stack on an existing Docker host, then the day-two recipes: ids typed
 * the README's way, a token rotation, a second agent on Discord, back to the built-in image. A second stack must not
 * break the first: its secrets still decrypt after every step. No secret is printed or stored in plain text.
 *
 * The provider plugins are not installed in this tier (the engine tier has them): each preview must get through the
 * configuration and the program's top level, and stop only where the first resource needs a plugin.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  commandLines,
  filled,
  promptedSecretKey,
  pulumiCli,
  readmeBlock,
  RuntimeResult,
  UserWorld,
} from "./harness";

/** Lines a test does not run itself: the checkout, the editor, installs, `up` (no Proxmox here). */
const NOT_RUN = /^(git clone|\$EDITOR|npm install|pulumi up\b)/;
const MISSING_PLUGIN =
  /no resource plugin '?(pulumi-resource-)?(proxmoxve|command|docker)|could not (load|find) plugin|failed to load plugin|plugin .*(not found|not installed)/i;

const canaries: Record<string, string> = {};
function canaryFor(key: string, round = 0): string {
  const id = `${key}#${round}`;
  canaries[id] ??= `canary-${key.replace(/\W/g, "-")}-${round}-${randomBytes(6).toString("hex")}`;
  return canaries[id];
}

let cli: string;
let world: UserWorld;
/** The secrets each stack was given, as the user typed them at the prompts. */
const typed: Record<string, Record<string, string>> = {};
/** What the user types where the README says `<...>`. */
let values: Record<string, string>;

/** Runs a README block line by line, as pasted; `pulumi preview` lines are collected, not run here. */
function run(block: string, round = 0): Array<{ line: string; code: number; out: string }> {
  const results: Array<{ line: string; code: number; out: string }> = [];
  for (const raw of commandLines(readmeBlock(block))) {
    if (NOT_RUN.test(raw) || /^pulumi preview\b/.test(raw)) continue;
    const line = filled(raw, values);
    const key = promptedSecretKey(line);
    const stack = /-s (\S+)/.exec(line)?.[1];
    const secret = key ? canaryFor(`${stack}:${key}`, round) : "";
    if (key && stack) (typed[stack] ??= {})[key] = secret;
    results.push({ line, ...world.shell(line, secret) });
  }
  return results;
}

const failures = (r: Array<{ line: string; code: number; out: string }>) =>
  r.filter((s) => s.code !== 0).map((s) => `$ ${s.line}\n${s.out}`);

/** The stack's secrets read back (outside the transcript): what `incorrect passphrase` would take away. */
function secretsOf(stack: string): Record<string, string> {
  const r = world.shell(`pulumi config -s ${stack} --show-secrets --json`, "", { record: false });
  if (r.code !== 0) return { error: r.out.replace(/canary-[\w-]+/g, "<canary>") };
  const config = JSON.parse(r.out) as Record<string, { value?: string; objectValue?: unknown }>;
  const out: Record<string, string> = {};
  for (const key of Object.keys(typed[stack] ?? {})) {
    const [top, ...rest] = key.split(".");
    let v: unknown = config[`hermes-lxc:${top}`]?.objectValue ?? config[`hermes-lxc:${top}`]?.value;
    for (const k of rest) v = (v as Record<string, unknown> | undefined)?.[k];
    out[key] = String(v);
  }
  return out;
}

function configOf(stack: string): Record<string, { value?: string; objectValue?: any }> {
  const r = world.shell(`pulumi config -s ${stack} --json`);
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
}

const text = (p: RuntimeResult) => `${p.stdout}${p.stderr}${p.error ?? ""}`;

/** A preview that got through the configuration and the program, and stopped only for a missing plugin. */
function expectEvaluated(p: RuntimeResult): void {
  expect(text(p)).not.toMatch(/Invalid stack configuration|validating stack config|TSError|error TS\d+/);
  expect({ evaluated: p.evaluated, error: p.evaluated ? undefined : p.error }).toEqual({
    evaluated: true,
    error: undefined,
  });
  if (!p.ok) expect(text(p)).toMatch(MISSING_PLUGIN);
}

beforeAll(
  () => {
    cli = pulumiCli();
    world = new UserWorld(cli);
    const hostKey = fs.readFileSync(path.join(world.home, ".ssh", "id_ed25519.pub"), "utf8").trim();
    values = {
      address: "192.0.2.10",
      "host key line": hostKey.split(/\s+/).slice(0, 2).join(" "),
      "LLM base URL": "https://openrouter.ai/api/v1",
      model: "anthropic/claude-sonnet-4",
      "your Discord user id": "80351110224678912",
    };
  },
  20 * 60 * 1000,
);

afterAll(() => {
  if (process.env.CLI_TIER_KEEP !== "1") world?.remove();
});

describe("a newcomer follows the README", () => {
  const passphrase = () => fs.readFileSync(path.join(world.home, ".config", "hermes-lxc.passphrase"), "utf8");

  it("once per workstation: the block creates the passphrase file (0600), and pasting it again keeps it", () => {
    expect(failures(run("once"))).toEqual([]);
    const first = passphrase();
    expect(first.trim().length).toBeGreaterThanOrEqual(40);
    expect(fs.statSync(path.join(world.home, ".config", "hermes-lxc.passphrase")).mode & 0o777).toBe(0o600);
    expect(failures(run("once"))).toEqual([]);
    expect(passphrase()).toBe(first);
  });

  let own: RuntimeResult;
  it("your own stack: the example's placeholders stop the preview, each with a command that names the stack", () => {
    expect(failures(run("copy-example"))).toEqual([]);
    expect(failures(run("setup-example"))).toEqual([]);
    own = world.preview("mine");
    expect(own.evaluated).toBe(false);
    expect(text(own)).toContain("Invalid stack configuration (nothing was deployed)");
    const named = [...text(own).matchAll(/^\s*- ([\w.[\]]+): /gm)].map((m) => m[1]);
    expect([...new Set(named)].sort()).toEqual([
      "agents.hermes.llm.baseUrl",
      "proxmox.endpoint",
      "proxmox.nodes.pve.address",
      "proxmox.nodes.pve.hostKey",
    ]);
    expect(text(own)).not.toMatch(MISSING_PLUGIN);
  });

  it("your own stack: the commands the preview printed, pasted with real values, make it pass", () => {
    // The preview prints its diagnostics more than once: one command per key path.
    const all = [...text(own).matchAll(/pulumi config set [^\n]*?--path '([^']+)' (<value>|'<that line>')/g)];
    const printed = [...new Map(all.map((m) => [m[1], m])).values()];
    expect(printed.map((m) => m[0].split(" --path")[0])).toEqual(Array(4).fill("pulumi config set -s mine"));
    const real: Record<string, string> = {
      "proxmox.endpoint": "https://pve.lan:8006/",
      "proxmox.nodes.pve.address": "pve.lan",
      "proxmox.nodes.pve.hostKey": values["host key line"],
      "agents.hermes.llm.baseUrl": values["LLM base URL"],
    };
    for (const [cmd, key, placeholder] of printed) {
      const r = world.shell(cmd.replace(placeholder, `'${real[key]}'`));
      expect(r).toMatchObject({ code: 0 });
    }
    expectEvaluated(world.preview("mine"));
    expect(secretsOf("mine")).toEqual(typed.mine);
  });

  it("a second stack (an existing Docker host) previews, and the first stack's secrets still decrypt", () => {
    fs.writeFileSync(path.join(world.project, "Pulumi.dockerhost.yaml"), readmeBlock("stack-dockerhost"));
    expect(failures(run("setup-dockerhost"))).toEqual([]);
    expectEvaluated(world.preview("dockerhost"));
    // The once-per-workstation block pasted yet again, as someone setting up a third stack might.
    expect(failures(run("once"))).toEqual([]);
    expect(secretsOf("mine")).toEqual(typed.mine);
    expect(secretsOf("dockerhost")).toEqual(typed.dockerhost);
  });

  it("ids typed the README's way: a YAML integer, accepted as it is", () => {
    expect(failures(run("ids"))).toEqual([]);
    expect(configOf("mine")["hermes-lxc:agents"].objectValue.hermes.platforms.telegram.allowedUsers).toEqual([
      987654321,
    ]);
    expectEvaluated(world.preview("mine"));
  });

  it("rotating a bot token: the new one replaces the old, nothing else changes", () => {
    const before = configOf("mine");
    expect(failures(run("rotate-token", 1))).toEqual([]);
    expect(secretsOf("mine")["agentSecrets.hermes.telegramBotToken"]).toBe(
      canaryFor("mine:agentSecrets.hermes.telegramBotToken", 1),
    );
    const after = configOf("mine");
    expect(after["hermes-lxc:agents"]).toEqual(before["hermes-lxc:agents"]);
    expect(after["hermes-lxc:proxmox"]).toEqual(before["hermes-lxc:proxmox"]);
  });

  it("a Discord id typed as a number is refused with the exact command that works; the README's recipe passes", () => {
    // The mistake the README warns about: the snowflake as a plain number.
    world.shell(
      `pulumi config set -s mine --path 'agents.discord.platforms.discord.allowedUsers[0]' 80351110224678912`,
    );
    expect(failures(run("discord-agent"))).toEqual([]);
    world.shell(
      `pulumi config set -s mine --path 'agents.discord.platforms.discord.allowedUsers[1]' 80351110224678913`,
    );
    const refused = world.preview("mine");
    expect(refused.evaluated).toBe(false);
    expect(text(refused)).toContain(
      "agents.discord.platforms.discord.allowedUsers[1]: is a number larger than 2^53 - 1",
    );
    expect(text(refused)).toContain(
      "pulumi config set -s mine --type string --path 'agents.discord.platforms.discord.allowedUsers[1]' <id>",
    );
    const fix = `pulumi config set -s mine --type string --path 'agents.discord.platforms.discord.allowedUsers[1]' 80351110224678913`;
    expect(world.shell(fix).code).toBe(0);
    const discord = configOf("mine")["hermes-lxc:agents"].objectValue.discord;
    expect(discord.platforms.discord.allowedUsers).toEqual(["80351110224678912", "80351110224678913"]);
    expectEvaluated(world.preview("mine"));
    expect(secretsOf("mine")).toEqual(typed.mine);
  });

  it("back to the built-in image: config rm of the pins (not set)", () => {
    world.shell(`pulumi config set -s mine --path 'agents.hermes.imageTag' v2026.9.24`);
    world.shell(`pulumi config set -s mine --path 'agents.hermes.imageDigest' sha256:${"a".repeat(64)}`);
    expect(failures(run("default-image"))).toEqual([]);
    const hermes = configOf("mine")["hermes-lxc:agents"].objectValue.hermes;
    expect(hermes.imageTag).toBeUndefined();
    expect(hermes.imageDigest).toBeUndefined();
  });

  it("the first stack's secrets decrypt at the end, and no secret was printed or stored in plain text", () => {
    expect(secretsOf("mine")).toEqual(typed.mine);
    expect(secretsOf("dockerhost")).toEqual(typed.dockerhost);
    const everything = `${world.transcript.join("\n")}\n${world.allFilesText()}`;
    expect(
      Object.entries(canaries)
        .filter(([, v]) => everything.includes(v))
        .map(([k]) => k),
    ).toEqual([]);
  });
});
