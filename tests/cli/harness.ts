/**
 * The CLI tier's world: the real Pulumi CLI, a throwaway HOME (local backend, passphrase file, SSH key), and a
 * copy of the project in which the README's own setup commands are run line by line, as a user would type them.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The files a user's checkout has that the program needs (node_modules is linked, not copied). */
const PROJECT_FILES = ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json", "components", "templates"];

/** The real CLI, built from the Go module proxy on first use (tests/cli/ensure-pulumi-cli.sh). */
export function pulumiCli(): string {
  return execFileSync("bash", [path.join(__dirname, "ensure-pulumi-cli.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

/**
 * A user's checkout of the project in `dest`: the program's files, the repository's stack files when asked, and
 * extra stack files; node_modules is linked, not copied (one SDK instance with the test process).
 */
export function checkoutProject(
  dest: string,
  options: { shippedStacks: boolean; stackFiles?: Record<string, string> },
): void {
  fs.mkdirSync(dest);
  for (const f of PROJECT_FILES) fs.cpSync(path.join(REPO_ROOT, f), path.join(dest, f), { recursive: true });
  if (options.shippedStacks) {
    for (const f of fs.readdirSync(REPO_ROOT).filter((n) => /^Pulumi\..+\.yaml$/.test(n))) {
      fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dest, f));
    }
  }
  for (const [name, text] of Object.entries(options.stackFiles ?? {}))
    fs.writeFileSync(path.join(dest, name), text);
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dest, "node_modules"));
}

/** A user's SSH key, `~/.ssh/id_ed25519` under `home` (what the stacks name in ssh.privateKeyPath). */
export function generateClientKey(home: string): string {
  fs.mkdirSync(path.join(home, ".ssh"), { recursive: true, mode: 0o700 });
  const file = path.join(home, ".ssh", "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
  return file;
}

/** A README fenced block introduced by `<!-- cli-tier: <id> -->`. */
export function readmeBlock(id: string): string {
  return readmeFence(`<!-- cli-tier: ${id} -->`);
}

/** The README's first fenced block after `marker` (an HTML comment line). */
export function readmeFence(marker: string): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no block marked ${marker}`);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error(`README.md: no fenced block after ${marker}`);
  return m[1];
}

/** A user's machine: HOME with an SSH key, and a checkout of the project with the given stack files. */
export class UserWorld {
  readonly home: string;
  readonly project: string;
  readonly transcript: string[] = [];
  private readonly envFile: string;

  constructor(
    readonly cli: string,
    stackFiles: Record<string, string> = {},
  ) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-cli-tier-"));
    this.home = path.join(root, "home");
    this.project = path.join(root, "hermes-lxc");
    generateClientKey(this.home);
    checkoutProject(this.project, { shippedStacks: true, stackFiles });
    this.envFile = path.join(root, "shell-state.sh");
    fs.writeFileSync(this.envFile, "");
  }

  /** The environment every command sees: a clean HOME, the real CLI first on PATH, no plugin downloads. */
  baseEnv(): NodeJS.ProcessEnv {
    return {
      PATH: `${path.dirname(this.cli)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: this.home,
      // The CLI finds its home and `file://~` from the passwd entry, not $HOME: point both into the world.
      PULUMI_HOME: path.join(this.home, ".pulumi"),
      LANG: "C.UTF-8",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
    };
  }

  /**
   * Runs one line of a README block in bash, in the project directory, keeping exported variables for the next
   * line (as one shell session would). `stdin` answers a prompt (e.g. `pulumi config set --secret <key>`).
   */
  shell(line: string, stdin = "", options: { record?: boolean } = {}): { code: number; out: string } {
    // `pulumi login --local` means file://~, which the CLI resolves through the passwd entry (the real /root);
    // file://$HOME is the same backend, inside this world.
    line = line.replace(/^pulumi login --local\b/, 'pulumi login "file://$HOME"');
    const script = `set -euo pipefail\nsource ${JSON.stringify(this.envFile)}\n${line}\nexport -p > ${JSON.stringify(this.envFile)}\n`;
    const r = spawnSync("bash", ["-c", script], {
      cwd: this.project,
      env: this.baseEnv(),
      input: stdin,
      encoding: "utf8",
    });
    const out = `${r.stdout}${r.stderr}`;
    // A check that reads secrets back on purpose is left out of the transcript the leak checks scan.
    if (options.record !== false) this.transcript.push(`$ ${line}\n${out}`);
    return { code: r.status ?? 1, out };
  }

  /** Exported variables of the shell session so far (e.g. PULUMI_CONFIG_PASSPHRASE_FILE). */
  sessionEnv(): NodeJS.ProcessEnv {
    const out = spawnSync("bash", ["-c", `source ${JSON.stringify(this.envFile)}; env -0`], {
      env: this.baseEnv(),
      encoding: "utf8",
    }).stdout;
    return Object.fromEntries(
      out
        .split("\0")
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
  }

  /** `pulumi preview` with the project's index.ts evaluated by Pulumi's nodejs runtime (runtime-host.js). */
  preview(stack: string): RuntimeResult {
    const resultFile = path.join(path.dirname(this.project), `preview-${stack}.json`);
    const r = spawnSync(
      process.execPath,
      [path.join(__dirname, "runtime-host.js"), this.project, stack, resultFile],
      {
        cwd: this.project,
        env: this.sessionEnv(),
        encoding: "utf8",
        timeout: 10 * 60 * 1000,
      },
    );
    if (!fs.existsSync(resultFile)) {
      throw new Error(`runtime-host.js wrote no result (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    const result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as RuntimeResult;
    this.transcript.push(
      `$ pulumi preview -s ${stack}\n${result.stdout}${result.stderr}${result.error ?? ""}`,
    );
    return result;
  }

  /** Every file under the throwaway HOME and project, except node_modules: where a leaked secret would land. */
  allFilesText(): string {
    const texts: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.name === "node_modules" || e.name === "plugins") continue;
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && fs.statSync(p).size < 10_000_000) texts.push(fs.readFileSync(p, "latin1"));
      }
    };
    walk(path.dirname(this.project));
    return texts.join("\n");
  }

  remove(): void {
    fs.rmSync(path.dirname(this.project), { recursive: true, force: true });
  }
}

/** What runtime-host.js reports. */
export interface RuntimeResult {
  ok: boolean;
  /** index.ts was compiled and its top level (config validation included) ran to the end. */
  evaluated: boolean;
  outputs?: string[];
  stdout: string;
  stderr: string;
  error?: string;
}

/** A README block's commands, one per entry, without blank lines and comment-only lines. */
export function commandLines(block: string): string[] {
  return block
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** The config key a `pulumi config set --secret [--path] <key>` line prompts for, if it has no value argument. */
export function promptedSecretKey(line: string): string | undefined {
  const words = line.replace(/\s+#.*$/, "").split(/\s+/);
  if (words[0] !== "pulumi" || words[1] !== "config" || words[2] !== "set" || !words.includes("--secret")) {
    return undefined;
  }
  // Flags, and the values of the flags that take one (-s <stack>, --type <type>).
  const args = words
    .slice(3)
    .filter((w, i, all) => !w.startsWith("-") && !/^(-s|--stack|--type)$/.test(all[i - 1]));
  return args.length === 1 ? args[0].replace(/^'|'$/g, "") : undefined;
}

/**
 * A README line with its `<...>` placeholders replaced by what a user would type there. A placeholder the table does
 * not know is an error: the README's placeholders are part of what this tier checks.
 */
export function filled(line: string, values: Record<string, string>): string {
  return line.replace(/'?<([^<>']+)>'?/g, (_whole, name: string) => {
    if (!(name in values))
      throw new Error(`README line has a placeholder this tier does not fill: <${name}>\n${line}`);
    return `'${values[name]}'`;
  });
}
