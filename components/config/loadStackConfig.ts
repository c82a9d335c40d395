/**
 * Reads the stack configuration from Pulumi and hands it to the pure schema. This is the only module that reads
 * `pulumi.Config`; everything downstream takes the typed model it returns.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expandHome } from "../lib/knownHosts";
import * as yaml from "js-yaml";
import { clientKeyProblems, localToolProblems, placeholderProblems } from "./preflight";
import { EngineConfig, readRawConfig } from "./rawConfig";
import { ConfigError, namingStack } from "./errors";
import { ParsedStackConfig, StackConfig, parseStackConfig } from "./stack";

/** Secret inputs, each wrapped in pulumi.secret so they stay encrypted in state and masked in output. */
export interface StackSecrets {
  /** root@pam's password for the Proxmox provider. */
  proxmoxPassword?: pulumi.Output<string>;
  /** Per-agent secret values (plain strings are validated, then wrapped). */
  agents: Record<string, SecretAgentValues>;
  /** Per-LXC secrets. */
  lxcs: Record<string, { rootPassword?: pulumi.Output<string> }>;
}

/** An agent's secrets as Pulumi secrets. */
export interface SecretAgentValues {
  llmApiKey?: pulumi.Output<string>;
  apiServerKey?: pulumi.Output<string>;
  dashboardPassword?: pulumi.Output<string>;
  authJson?: pulumi.Output<string>;
  env: Record<string, pulumi.Output<string>>;
  /** Platform credentials, by their agentSecrets key (see AgentSecretValues). */
  [platformSecret: string]: pulumi.Output<string> | Record<string, pulumi.Output<string>> | undefined;
}

/** What `index.ts` gets: the validated model, its secrets, and the SSH client key. */
export interface LoadedStackConfig {
  config: StackConfig;
  secrets: StackSecrets;
  /** ssh.privateKeyPath, home-expanded, and the key's content as a secret; absent when ssh-agent is used. */
  sshKey?: { path: string; content: pulumi.Output<string> };
  /** proxmoxPassword in plain text, for the program's own login before any resource (placement.ts); never logged. */
  proxmoxPassword?: string;
}

/** Where the process looks for things a user may have set outside this project's namespace. */
export interface Environment {
  env: NodeJS.ProcessEnv;
  projectDir: string;
}

/**
 * Reads, validates and defaults the stack config. Throws ConfigError (naming every bad key path) before any
 * resource is registered. Warnings are logged at preview.
 */
export function loadStackConfig(
  environment: Environment = { env: process.env, projectDir: process.cwd() },
): LoadedStackConfig {
  try {
    return readAndValidate(environment);
  } catch (e) {
    // A RunError is printed once, as its message, without the stack trace the runtime adds to other errors: a
    // configuration problem is the user's to fix, and the message already names the key path.
    if (e instanceof ConfigError) throw new pulumi.RunError(namingStack(e.message, pulumi.getStack()));
    throw e;
  }
}

function readAndValidate(environment: Environment): LoadedStackConfig {
  const tokenProblems = apiTokenProblems(environment.env, new pulumi.Config("proxmoxve"));
  if (tokenProblems.length > 0) throw new ConfigError(tokenProblems);
  // Reading a secret synchronously yields its plaintext: it is validated here and wrapped in pulumi.secret below.
  const { raw, problems } = readRawConfig({
    project: pulumi.getProject(),
    all: pulumi.runtime.allConfig(),
    isSecret: isSecretConfig,
    stackFile: readStackFile(environment.projectDir),
  });
  if (problems.length > 0) throw new ConfigError(problems);

  const parsed = parseStackConfig(raw, {
    readFile: (relative) => {
      const resolved = path.resolve(environment.projectDir, relative);
      if (!resolved.startsWith(path.resolve(environment.projectDir) + path.sep)) {
        throw new Error("must stay inside the project directory");
      }
      return fs.readFileSync(resolved, "utf8");
    },
  });
  for (const warning of parsed.warnings) void pulumi.log.warn(namingStack(warning, pulumi.getStack()));
  // The example's placeholders first, alone: the other checks would only report their consequences.
  const placeholders = placeholderProblems(parsed.config);
  if (placeholders.length > 0) throw new ConfigError(placeholders);
  const key = readSshKey(parsed.config.ssh.privateKeyPath, environment.env);
  const preflight = [
    ...clientKeyProblems(parsed.config, key),
    ...localToolProblems(parsed.config, (name) => onPath(name, environment.env)),
  ];
  if (preflight.length > 0) throw new ConfigError(preflight);
  return {
    config: parsed.config,
    secrets: wrapSecrets(parsed),
    sshKey: key && { path: key.path, content: pulumi.secret(key.text) },
    proxmoxPassword: parsed.secrets.proxmoxPassword,
  };
}

/**
 * Whether an executable `name` is on PATH. Only absolute entries count: Go's exec, which runs `ssh` for the Docker
 * provider, refuses a command found through a relative one (an empty entry, `.`: os/exec's ErrDot).
 */
function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  const dirs = (env.PATH ?? "").split(path.delimiter).filter((dir) => path.isAbsolute(dir));
  return dirs.some((dir) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Problems when the stack or the environment would make the Proxmox provider use an API token. */
export function apiTokenProblems(
  env: NodeJS.ProcessEnv,
  proxmoxveConfig: { get(key: string): string | undefined },
): string[] {
  const problems: string[] = [];
  const why =
    "Proxmox refuses bind mounts and the keyctl feature to every API token (even root@pam!token); this program needs " +
    "root@pam with a password (proxmoxPassword). See the README, 'Prerequisites'.";
  if (env.PROXMOX_VE_API_TOKEN)
    problems.push(`environment variable PROXMOX_VE_API_TOKEN: is set. ${why} Unset it.`);
  if (proxmoxveConfig.get("apiToken") !== undefined) {
    problems.push(
      `proxmoxve:apiToken: is set in the stack. ${why} Remove it with: pulumi config rm proxmoxve:apiToken`,
    );
  }
  return problems;
}

/** Reads the client key named by ssh.privateKeyPath; without one, ssh-agent must be running. */
function readSshKey(
  privateKeyPath: string | undefined,
  env: NodeJS.ProcessEnv,
): { path: string; text: string } | undefined {
  if (privateKeyPath === undefined) {
    if (!env.SSH_AUTH_SOCK) {
      void pulumi.log.warn(
        "ssh.privateKeyPath is not set and SSH_AUTH_SOCK is empty: remote commands will fail to authenticate.",
      );
    }
    return undefined;
  }
  const resolved = expandHome(privateKeyPath);
  try {
    return { path: resolved, text: fs.readFileSync(resolved, "utf8") };
  } catch (e) {
    throw new ConfigError([
      `ssh.privateKeyPath: cannot read ${resolved}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    ]);
  }
}

/** Whether the stack stores `fullKey` encrypted. The SDK's check is internal (not in its typings), so it is looked up
 * defensively: if a future SDK drops it, the check is skipped rather than failing every deployment. */
function isSecretConfig(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  if (typeof runtime.isConfigSecret !== "function") return true;
  return runtime.isConfigSecret(fullKey);
}

/** Pulumi.<stack>.yaml of the project, parsed, when it exists (it names plain-text leaves of secret keys). */
function readStackFile(projectDir: string): EngineConfig["stackFile"] {
  const name = `Pulumi.${pulumi.getStack()}.yaml`;
  try {
    return { name, doc: yaml.load(fs.readFileSync(path.join(projectDir, name), "utf8")) };
  } catch {
    return undefined;
  }
}

function wrapSecrets(parsed: ParsedStackConfig): StackSecrets {
  const agents: Record<string, SecretAgentValues> = {};
  for (const [name, values] of Object.entries(parsed.secrets.agents)) {
    const wrapped: SecretAgentValues = { env: {} };
    for (const [key, value] of Object.entries(values)) {
      if (key === "env") {
        for (const [envName, envValue] of Object.entries(value as Record<string, string>)) {
          wrapped.env[envName] = pulumi.secret(envValue);
        }
      } else if (typeof value === "string") {
        (wrapped as Record<string, unknown>)[key] = pulumi.secret(value);
      }
    }
    agents[name] = wrapped;
  }
  const lxcs: StackSecrets["lxcs"] = {};
  for (const [name, values] of Object.entries(parsed.secrets.lxcs)) {
    lxcs[name] =
      values.rootPassword === undefined ? {} : { rootPassword: pulumi.secret(values.rootPassword) };
  }
  return {
    lxcs,
    proxmoxPassword:
      parsed.secrets.proxmoxPassword === undefined
        ? undefined
        : pulumi.secret(parsed.secrets.proxmoxPassword),
    agents,
  };
}
