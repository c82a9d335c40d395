/**
 * How a script from templates/ becomes the command string of a `command.remote.Command`.
 *
 * Parameters travel as `NAME='value'` assignments in front of `bash -c '<script>'`: sshd's Setenv (the
 * `environment` input) is refused by Debian's default AcceptEnv, and stdin stays free for secret payloads. Values
 * are validated by the config model before they get here; quoting here is the second line of defence, not the
 * first. The script text is part of the command, so editing a template re-runs it on the next `pulumi up`, and
 * `pulumi preview --diff` shows exactly what will run.
 *
 * For the same reason every remote command of the program sets `addPreviousOutputInEnv: false` (the program tier
 * checks each, tests/program/remoteCommands.test.ts): with the provider's default (true) every update and every delete first Setenvs
 * PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR to the previous run's output (pulumi-command
 * provider/pkg/provider/remote/commandOutputs.go), which Proxmox's stock sshd (AcceptEnv LANG LC_*) refuses with a
 * warning on every such run, and which would carry that output (a host key, whatever a script printed) back to the
 * host, where no script reads it.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Directory holding the remote scripts. */
export const TEMPLATES_DIR = path.resolve(__dirname, "..", "..", "templates");

/** Reads a template by file name (e.g. "prepare-host-dirs.sh"). */
export function readTemplate(fileName: string): string {
  if (!/^[a-z0-9-]+\.(sh|py)$/.test(fileName)) throw new Error(`not a template name: ${fileName}`);
  return fs.readFileSync(path.join(TEMPLATES_DIR, fileName), "utf8");
}

/** POSIX single-quote quoting: the result is one shell word whose value is exactly `value`. */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error("shell values must not contain NUL bytes");
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * `K1='v1' K2='v2' bash -c '<script>' <name>`: runs `scriptText` with `env` in its environment. Keys are emitted
 * in sorted order so the same inputs always give the same command (no spurious diffs).
 */
export function renderRemoteCommand(
  scriptName: string,
  scriptText: string,
  env: Record<string, string | number | boolean>,
): string {
  if (!/^[a-z0-9-]+$/.test(scriptName)) throw new Error(`script name must be [a-z0-9-]: ${scriptName}`);
  const assignments = Object.keys(env)
    .sort()
    .map((key) => {
      if (!ENV_NAME.test(key)) throw new Error(`environment variable name ${key} is not [A-Z_][A-Z0-9_]*`);
      return `${key}=${shellQuote(String(env[key]))}`;
    });
  return [...assignments, "bash", "-c", shellQuote(scriptText), scriptName].join(" ");
}
