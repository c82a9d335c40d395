/** Test helpers: load a Pulumi.<stack>.yaml into the raw shape the config model takes. */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { RawStackConfig } from "../../components/config/stack";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** The `hermes-lxc:*` keys of a stack file, namespace stripped. */
export function loadStackFile(stack: string): RawStackConfig {
  const doc = yaml.load(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc.config)) {
    if (key.startsWith("hermes-lxc:")) raw[key.slice("hermes-lxc:".length)] = value;
  }
  return raw;
}

/** Deep copy, so each test can mutate its own stack. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Canary secrets: distinctive values that tests search for in places secrets must never appear. */
export const CANARY = {
  proxmoxPassword: "CANARY-proxmox-pw-7f3a",
  llmApiKey: "CANARY-llm-key-91bd",
  telegramBotToken: "123456:CANARY-telegram-token-c4e2",
  extraEnv: "CANARY-github-token-55aa",
  rootPassword: "CANARY-root-pw-3c1d",
};

/** The homelab stack plus canary secrets, as `pulumi config set --secret` would provide them. */
export function homelabWithSecrets(): RawStackConfig {
  const raw = clone(loadStackFile("homelab"));
  raw.proxmoxPassword = CANARY.proxmoxPassword;
  raw.lxcSecrets = { hermes: { rootPassword: CANARY.rootPassword } };
  raw.agentSecrets = {
    hermes: {
      llmApiKey: CANARY.llmApiKey,
      telegramBotToken: CANARY.telegramBotToken,
      env: { GITHUB_TOKEN: CANARY.extraEnv },
    },
  };
  return raw;
}

export const readProjectFile = (relative: string) =>
  fs.readFileSync(path.join(PROJECT_DIR, relative), "utf8");

/** Rewrites a file of the project (for generated sections, on request only). */
export const writeProjectFile = (relative: string, content: string) =>
  fs.writeFileSync(path.join(PROJECT_DIR, relative), content);

/** The homelab stack plus a second LXC on a second node (one LXC per node of a cluster) and an agent on it. */
export function twoNodeStack(): RawStackConfig {
  const raw = homelabWithSecrets() as any;
  raw.proxmox.nodes.pve2 = { address: "10.1.10.3", hostKey: raw.proxmox.nodes.gihyeon.hostKey };
  raw.lxcs.hermes2 = {
    ...clone(raw.lxcs.hermes),
    node: "pve2",
    vmId: 119,
    hostname: "hermes2",
    stateMount: { hostPath: "/var/lib/hermes-lxc/hermes2" },
    mounts: [{ hostPath: "/mnt/pve/hdd/hermes2", containerPath: "/data" }],
  };
  raw.agents.second = { lxc: "hermes2" };
  return raw as RawStackConfig;
}
