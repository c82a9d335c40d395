/**
 * The engine tier's world: the real Pulumi CLI, the real nodejs language host and the three real provider plugins,
 * a local file backend in a throwaway PULUMI_HOME, and a copy of the project whose stack targets the system tier's
 * CT as a Docker host. Every step goes through the Automation API against the project directory (a local
 * program: the language host runs index.ts), and is summed up from the engine's own event stream.
 */
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { EngineEvent, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { checkoutProject, pulumiCli } from "../cli/harness";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findToolchain } = require("./toolchain.js") as {
  findToolchain(this: void): {
    ok: boolean;
    why?: string;
    dir: string;
    languageHost: string;
    plugins: Array<{ name: string; version: string; file: string }>;
  };
};

/** What one engine operation did, from its events. */
export interface StepReport {
  /** Resource operations by op (same, create, update, replace, delete, ...), excluding the stack and providers. */
  ops: Record<string, number>;
  /** `type name op` for every resource step that was not "same". */
  changed: string[];
  /** Remote commands the engine ran: command resources created, updated or replaced. */
  commandRuns: number;
  /** Everything the CLI printed. */
  output: string;
  /** Set on the report a failed operation carries (StepFailure): its events until it failed. */
  failed?: true;
}

/** The error of a failed engine operation, with what its events showed until it failed. */
export type StepFailure = Error & { report?: StepReport };

export class EngineWorld {
  readonly root: string;
  readonly project: string;
  readonly pulumiHome: string;
  /** The real CLI binary. */
  readonly pulumi: string;
  /** The environment every CLI run of this world gets (its own PULUMI_HOME, backend and passphrase). */
  readonly env: Record<string, string>;
  /** The file backend's directory (`.pulumi/` with the stack's state, history and locks). */
  readonly stateDir: string;
  private stackRef?: Stack;
  readonly transcript: string[] = [];

  constructor(
    readonly stackName: string,
    stackFile: string,
  ) {
    const toolchain = findToolchain();
    if (!toolchain.ok) throw new Error(`engine tier toolchain not found: ${toolchain.why}`);
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-engine-tier-"));
    this.project = path.join(this.root, "hermes-lxc");
    this.pulumiHome = path.join(this.root, "pulumi-home");
    this.stateDir = path.join(this.root, "state");
    fs.mkdirSync(this.stateDir);
    checkoutProject(this.project, {
      shippedStacks: false,
      stackFiles: { [`Pulumi.${stackName}.yaml`]: stackFile },
    });
    this.pulumi = pulumiCli();
    // The language host is found on PATH (the CLI bundles it; it cannot be installed as a plugin). Only it goes on
    // PATH: provider binaries there would be used as "ambient" plugins instead of the installed versions.
    const hostDir = path.join(this.root, "language-host");
    fs.mkdirSync(hostDir);
    fs.symlinkSync(toolchain.languageHost, path.join(hostDir, "pulumi-language-nodejs"));
    this.env = {
      PATH: `${path.dirname(this.pulumi)}:${hostDir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
      HOME: this.root,
      PULUMI_HOME: this.pulumiHome,
      PULUMI_BACKEND_URL: `file://${this.stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: "engine-tier-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    };
    for (const p of toolchain.plugins) {
      this.cli(["plugin", "install", "resource", p.name, p.version, "--file", p.file]);
    }
  }

  /** Runs the CLI itself (for what the Automation API has no call for), in the project directory. */
  cli(args: string[], input?: string, timeoutMs?: number): string {
    const out = execFileSync(this.pulumi, args, {
      cwd: this.project,
      env: this.env,
      input,
      timeout: timeoutMs,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    this.transcript.push(`$ pulumi ${args.join(" ")}\n${out}`);
    return out;
  }

  /**
   * The same, without blocking this process: needed for any command that reaches the Proxmox API double, which
   * answers from this very process (a synchronous call would wait on a double that cannot answer).
   */
  cliAsync(args: string[], timeoutMs?: number): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.pulumi,
        args,
        {
          cwd: this.project,
          env: this.env,
          timeout: timeoutMs,
          encoding: "utf8",
          maxBuffer: 64 * 1024 * 1024,
        },
        (error, stdout, stderr) => {
          this.transcript.push(`$ pulumi ${args.join(" ")}\n${stdout}${stderr}`);
          if (error) reject(new Error(`pulumi ${args[0]} failed (${error.message}):\n${stdout}${stderr}`));
          else resolve(stdout);
        },
      );
    });
  }

  async stack(): Promise<Stack> {
    if (this.stackRef) return this.stackRef;
    const pulumiCommand = await PulumiCommand.get({
      // PulumiCommand wants the directory above bin/pulumi.
      root: path.dirname(path.dirname(this.pulumi)),
      skipVersionCheck: true,
    });
    const ws = await LocalWorkspace.create({ workDir: this.project, envVars: this.env, pulumiCommand });
    this.stackRef = await Stack.createOrSelect(this.stackName, ws);
    return this.stackRef;
  }

  /** Edits the stack file as a user would in an editor (encrypted values and the salt stay as they are). */
  editStackFile(edit: (config: Record<string, unknown>) => void): void {
    const file = path.join(this.project, `Pulumi.${this.stackName}.yaml`);
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    edit(doc.config);
    fs.writeFileSync(file, yaml.dump(doc, { lineWidth: -1 }));
  }

  /** `pulumi config set --secret --path <key>`, the value on stdin as the prompt would take it. */
  setSecret(key: string, value: string): void {
    this.cli(["config", "set", "--secret", "--path", "--stack", this.stackName, key], value);
  }

  up = (): Promise<StepReport> => this.operation("up");
  refresh = (): Promise<StepReport> => this.operation("refresh");
  /** `pulumi refresh --run-program`: the program runs first (and may refuse before anything is read). */
  refreshRunningProgram = (): Promise<StepReport> => this.operation("refresh", { runProgram: true });
  destroy = (): Promise<StepReport> => this.operation("destroy");

  async preview(): Promise<{ changeSummary: Record<string, number>; output: string }> {
    let output = "";
    const s = await this.stack();
    const r = await s.preview({ onOutput: (o) => (output += o), color: "never" });
    this.transcript.push(`$ pulumi preview\n${output}`);
    return { changeSummary: r.changeSummary, output };
  }

  /** One engine operation, summed up from its event stream; what the CLI printed goes to the transcript. */
  private async operation(
    op: "up" | "refresh" | "destroy",
    options: { runProgram?: boolean } = {},
  ): Promise<StepReport> {
    const events: EngineEvent[] = [];
    let output = "";
    const s = await this.stack();
    try {
      await s[op]({
        ...options,
        onEvent: (e) => events.push(e),
        onOutput: (o) => (output += o),
        color: "never",
      });
    } catch (e) {
      // A failed operation still has its events (what it registered before failing): `StepFailure.report`.
      throw Object.assign(e as Error, { report: { ...report(events, output), failed: true } });
    } finally {
      this.transcript.push(`$ pulumi ${op}\n${output}`);
    }
    return report(events, output);
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

function report(events: EngineEvent[], output: string): StepReport {
  const ops: Record<string, number> = {};
  const changed: string[] = [];
  let commandRuns = 0;
  for (const e of events) {
    const meta = e.resourcePreEvent?.metadata;
    if (!meta) continue;
    if (meta.type === "pulumi:pulumi:Stack" || meta.type.startsWith("pulumi:providers:")) continue;
    ops[meta.op] = (ops[meta.op] ?? 0) + 1;
    if (meta.op !== "same") changed.push(`${meta.type} ${meta.urn.split("::").pop()} ${meta.op}`);
    if (
      meta.type.startsWith("command:") &&
      ["create", "update", "replace", "create-replacement"].includes(meta.op)
    ) {
      commandRuns++;
    }
  }
  return { ops, changed, commandRuns, output };
}
