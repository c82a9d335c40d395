/**
 * A stack of the chaos tier: an EngineWorld (real CLI, language host, plugins, file backend) on a ChaosTarget, with
 * what the trials and the crowd need around it: `pulumi up` as a child process with the engine's event stream,
 * the README's recovery run word for word, and the checks that must hold after every trial (one healthy gateway per
 * agent, no lock, no pending operation, the user's data unchanged, no secret where it must not be).
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { EngineWorld } from "../engine/engineWorld";
import { CliRun, RunControl, changedSteps, runCli } from "./cliRun";
import { containerRecoveryCommands, recoveryCommands } from "./recovery";
import { ChaosAgent, ChaosTarget } from "./target";

/** One README command run through bash: what it was, its exit code, what it printed. */
export interface ShellRun {
  command: string;
  code: number;
  output: string;
}

export const canary = (what: string): string => `canary-${what}-${randomBytes(8).toString("hex")}`;

/** The user's data of one agent, as the trials compare it: path (relative to /opt/data or bulk:) -> sha256. */
export type DataDigest = Record<string, string>;

export class ChaosStack {
  readonly world: EngineWorld;
  /** Every secret value this stack was ever given (old tokens too): none may appear outside .env/auth.json. */
  readonly secrets = new Set<string>();
  private runs = 0;

  constructor(
    readonly target: ChaosTarget,
    readonly stackName: string,
    public agents: ChaosAgent[],
  ) {
    this.world = new EngineWorld(stackName, "");
    this.writeStackFile();
    this.world.cli(["stack", "init", stackName, "--secrets-provider", "passphrase"]);
    for (const [key, value] of Object.entries(target.extraSecrets())) this.setSecret(key, value);
    for (const a of agents) {
      this.setSecret(`agentSecrets.${a.name}.llmApiKey`, canary(`llm-${a.name}`));
      this.setSecret(`agentSecrets.${a.name}.telegramBotToken`, `123456:${canary(`telegram-${a.name}`)}`);
    }
  }

  writeStackFile(): void {
    const knownHosts = path.join(this.world.root, "known_hosts");
    fs.writeFileSync(
      path.join(this.world.project, `Pulumi.${this.stackName}.yaml`),
      // The stack file as a user keeps it: encrypted secrets and the salt stay where `pulumi config set` put them.
      this.mergeSecrets(this.target.stackFile(this.agents, knownHosts)),
    );
  }

  /** Keeps the encryptionsalt and the secure values `pulumi config set --secret` wrote into the current file. */
  private mergeSecrets(fresh: string): string {
    const file = path.join(this.world.project, `Pulumi.${this.stackName}.yaml`);
    if (!fs.existsSync(file)) return fresh;
    const old = fs.readFileSync(file, "utf8");
    const salt = /^encryptionsalt: .*$/m.exec(old)?.[0];
    const secure = /^ {2}hermes-lxc:agentSecrets:\n(?: {4}.*\n?)*/m.exec(old)?.[0];
    // Single secrets of the stack (the Proxmox password of the lxcs path): `  hermes-lxc:<key>:` + `    secure: ...`.
    const single = old.match(/^ {2}hermes-lxc:\w+:\n {4}secure: .*$/gm) ?? [];
    return `${salt ? `${salt}\n` : ""}${fresh.trimEnd()}\n${[...single, ...(secure ? [secure.trimEnd()] : [])].map((b) => `${b}\n`).join("")}`;
  }

  setSecret(key: string, value: string): void {
    this.secrets.add(value);
    this.world.setSecret(key, value);
  }

  /** The environment of every CLI run; PULUMI_SKIP_CONFIRMATIONS answers `pulumi up`'s prompt as a user would. */
  env(): NodeJS.ProcessEnv {
    return { ...this.world.env, PULUMI_SKIP_CONFIRMATIONS: "true" };
  }

  /** `pulumi up` (the user's own command; the prompt answered yes), as a child process, with its events. */
  async up(control?: RunControl): Promise<CliRun> {
    const run = await runCli(
      this.world.pulumi,
      ["up", "--stack", this.stackName, "--color", "never"],
      {
        cwd: this.world.project,
        env: this.env(),
        eventLog: path.join(this.world.root, `events-${++this.runs}.jsonl`),
      },
      control,
    );
    this.world.transcript.push(`$ pulumi up\n${run.output}`);
    return run;
  }

  /** `pulumi destroy`, through the same runner (the data must stay: checked by the callers). */
  async destroy(): Promise<CliRun> {
    const run = await runCli(this.world.pulumi, ["destroy", "--stack", this.stackName, "--color", "never"], {
      cwd: this.world.project,
      env: this.env(),
      eventLog: path.join(this.world.root, `events-${++this.runs}.jsonl`),
    });
    this.world.transcript.push(`$ pulumi destroy\n${run.output}`);
    return run;
  }

  /** The README's recovery commands, word for word, each through bash in the project directory. */
  recover(): Promise<ShellRun[]> {
    return this.bash(recoveryCommands(this.stackName));
  }

  /** The README's step for a gateway container Docker created and the killed CLI never recorded. */
  removeUnrecordedContainer(agent: string): Promise<ShellRun[]> {
    return this.bash(containerRecoveryCommands(agent, this.target.sshCommand()));
  }

  /**
   * Each command through bash, one after the other. Asynchronous on purpose: on the lxcs path the Proxmox API double
   * answers from this very process, and a synchronous spawn would leave `pulumi refresh` waiting on it forever.
   */
  private async bash(commands: string[]): Promise<ShellRun[]> {
    const runs: ShellRun[] = [];
    for (const command of commands) {
      const run = await new Promise<ShellRun>((resolve) => {
        const child = spawn("bash", ["-c", command], { cwd: this.world.project, env: this.env() });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), 15 * 60 * 1000);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ command, code: code ?? 1, output });
        });
      });
      this.world.transcript.push(`$ ${command}\n${run.output}`);
      runs.push(run);
    }
    return runs;
  }

  /** Lock files left in the file backend (a killed CLI leaves its own). */
  locks(): string[] {
    const dir = path.join(this.world.stateDir, ".pulumi", "locks");
    if (!fs.existsSync(dir)) return [];
    return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
      fs.statSync(path.join(dir, f)).isFile(),
    );
  }

  /** `pulumi stack export`, parsed. */
  exportState(): { text: string; pendingOperations: Array<{ type: string; resource: { urn: string } }> } {
    const text = this.world.cli(["stack", "export", "--stack", this.stackName]);
    const parsed = JSON.parse(text) as { deployment?: { pending_operations?: [] } };
    return { text, pendingOperations: parsed.deployment?.pending_operations ?? [] };
  }

  /** Hashes of the files the user's data is made of, per agent. */
  digest(agent: string): DataDigest {
    const out: DataDigest = {};
    const files: Array<[string, string]> = [
      ["memories/MEMORY.md", path.join(this.target.hostDataDir(agent), "memories", "MEMORY.md")],
      ["state.db", path.join(this.target.hostDataDir(agent), "state.db")],
      [`bulk:${agent}.bin`, path.join(this.target.bulkDir(), `${agent}.bin`)],
    ];
    for (const [rel, p] of files) {
      out[rel] = fs.existsSync(p) ? createHash("sha256").update(fs.readFileSync(p)).digest("hex") : "missing";
    }
    return out;
  }

  /** Writes the user's data as the agent would (its uid), so later steps have something to keep. */
  seedData(agent: string, ownerId: number): void {
    const owned = (p: string, content: string | Buffer) => {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
      fs.chownSync(p, ownerId, ownerId);
    };
    owned(path.join(this.target.hostDataDir(agent), "memories", "MEMORY.md"), `${agent} likes tea\n`);
    owned(path.join(this.target.hostDataDir(agent), "state.db"), randomBytes(64 * 1024));
    owned(path.join(this.target.bulkDir(), `${agent}.bin`), randomBytes(256 * 1024));
  }

  /**
   * Files outside .env and auth.json (this world's backend, project, CLI transcripts, the agents' data directories)
   * that hold any secret this stack was given: must be none.
   */
  secretLeaks(): string[] {
    const leaks: string[] = [];
    const values = [...this.secrets].map((v) => v.split(":").pop()!);
    const scan = (file: string, text: string) => {
      for (const v of values) if (text.includes(v)) leaks.push(`${file} holds ${v.slice(0, 20)}...`);
    };
    const walk = (dir: string, skip: (p: string) => boolean) => {
      if (!fs.existsSync(dir)) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (skip(p)) continue;
        if (e.isDirectory()) walk(p, skip);
        else if (e.isFile() && fs.statSync(p).size < 50_000_000) scan(p, fs.readFileSync(p, "latin1"));
      }
    };
    walk(this.world.root, (p) => /\/(node_modules|plugins|language-host)$/.test(p));
    for (const a of this.agents) {
      walk(this.target.hostDataDir(a.name), (p) => /\/(\.env|auth\.json)$/.test(p));
    }
    scan("the CLI transcript", this.world.transcript.join("\n"));
    return leaks;
  }

  /** The no-op check: a plain `pulumi up` that must change nothing. */
  async noopChanges(): Promise<string[]> {
    const r = await this.up();
    if (r.code !== 0) return [`no-op up failed (exit ${r.code}): ${lastLines(r.output)}`];
    return changedSteps(r.events);
  }

  remove(): void {
    this.world.remove();
  }
}

export const lastLines = (text: string, n = 8): string => text.trim().split("\n").slice(-n).join("\n");
