/**
 * Pre-flight checks on this machine, before any resource exists: the problems that would otherwise surface only
 * after the LXC was created (the first SSH into it fails), or as an opaque Docker error.
 *
 * Pure where it can be: the key file's text and the PATH lookup are passed in, so each rule is unit-tested.
 */
import type { StackConfig } from "./stack";

/** The public half of an OpenSSH private key file, and whether the file is passphrase-protected. */
export interface ClientKeyInfo {
  /** `type base64` as it appears in authorized_keys; undefined when the file is not an OpenSSH key. */
  publicKey?: string;
  /** The key is encrypted with a passphrase. */
  encrypted: boolean;
}

/**
 * Reads an OpenSSH private key file ("openssh-key-v1", what ssh-keygen writes by default) without decrypting it:
 * the format stores the cipher name and the public key in the clear (OpenSSH PROTOCOL.key). Older PEM files say
 * "Proc-Type: 4,ENCRYPTED" when encrypted; their public key is not recoverable without decrypting.
 */
export function clientKeyInfo(text: string): ClientKeyInfo {
  const pem = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  // The header exactly as OpenSSL's PEM reader takes it (pem_lib.c, PEM_get_EVP_CIPHER_INFO): one space, no other.
  if (!pem) return { encrypted: text.includes("Proc-Type: 4,ENCRYPTED") };
  const buf = Buffer.from(pem[1].replace(/\s+/g, ""), "base64");
  const magic = "openssh-key-v1\0";
  if (buf.subarray(0, magic.length).toString("latin1") !== magic) return { encrypted: false };
  let at = magic.length;
  const field = (): Buffer => {
    const len = buf.readUInt32BE(at);
    const out = buf.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    return out;
  };
  try {
    const cipher = field().toString("latin1");
    field(); // kdfname
    field(); // kdfoptions
    const keys = buf.readUInt32BE(at);
    at += 4;
    if (keys < 1) return { encrypted: cipher !== "none" };
    const blob = field();
    const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString("latin1");
    return { publicKey: `${type} ${blob.toString("base64")}`, encrypted: cipher !== "none" };
  } catch {
    return { encrypted: false };
  }
}

/** Problems with the client key against the stack: a protected key, or one the new LXCs would not accept. */
export function clientKeyProblems(
  config: Pick<StackConfig, "lxcs">,
  key: { path: string; text: string } | undefined,
): string[] {
  if (key === undefined) return [];
  const info = clientKeyInfo(key.text);
  if (info.encrypted) {
    return [
      `ssh.privateKeyPath: ${key.path} is protected by a passphrase, which the program cannot type. Load it into ` +
        "ssh-agent instead (ssh-add " +
        key.path +
        ") and remove ssh.privateKeyPath (pulumi config rm --path ssh.privateKeyPath): the program then uses the agent.",
    ];
  }
  if (info.publicKey === undefined) return [];
  const problems: string[] = [];
  for (const lxc of config.lxcs) {
    const accepted = lxc.rootSshKeys.map((k) => k.trim().split(/\s+/).slice(0, 2).join(" "));
    if (!accepted.includes(info.publicKey)) {
      problems.push(
        `lxcs.${lxc.name}.rootSshKeys: does not hold the public key of ssh.privateKeyPath (${key.path}), so the ` +
          "program could not log into the LXC it creates. Add it: pulumi config set --path " +
          `'lxcs.${lxc.name}.rootSshKeys[${lxc.rootSshKeys.length}]' "$(cat ${key.path}.pub)"`,
      );
    }
  }
  return problems;
}

/** Problems with this machine's tools: Docker's ssh:// transport runs the local `ssh` client. */
export function localToolProblems(
  config: Pick<StackConfig, "lxcs" | "dockerHosts">,
  hasCommand: (name: string) => boolean,
): string[] {
  if (config.lxcs.length + config.dockerHosts.length === 0 || hasCommand("ssh")) return [];
  return [
    "ssh: no `ssh` client on this machine's PATH, and the Docker provider reaches every Docker host through it " +
      "(ssh://). Install OpenSSH's client (Debian: apt-get install openssh-client).",
  ];
}

/**
 * The marker in the example stack's placeholder keys (Pulumi.example.yaml). Inside a key's base64 blob it cannot
 * occur by chance (eleven given characters), so a key carrying it is a placeholder someone forgot to replace.
 */
export const PLACEHOLDER_MARKER = "PLACEHOLDER";
/** The example stack's stand-in for a node's or Docker host's SSH host key. */
export const PLACEHOLDER_HOST_KEY = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${PLACEHOLDER_MARKER}xREPLACExWITHxTHExNODESxHOSTxKEY`;
/** The example stack's stand-in for the user's own public key in rootSshKeys. */
export const PLACEHOLDER_PUBLIC_KEY = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${PLACEHOLDER_MARKER}xPUTxYOURxOWNxPUBLICxKEYxHERExxx you@workstation`;

/** `.invalid` is reserved never to resolve (RFC 2606, RFC 6761): a name in it is a placeholder, never a host. */
const isPlaceholderHost = (host: string) => /(^|\.)invalid\.?$/i.test(host);
const isPlaceholderKey = (key: string) => (key.trim().split(/\s+/)[1] ?? "").includes(PLACEHOLDER_MARKER);
const hostOf = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
};

/**
 * Placeholders of the example stack still in place, each with what to run instead. Checked first: they are what a
 * new stack copied from the example meets, and without this the first symptom would be an SSH or DNS failure.
 */
export function placeholderProblems(
  config: Pick<StackConfig, "proxmox" | "ssh" | "lxcs" | "dockerHosts" | "agents">,
): string[] {
  const problems: string[] = [];
  // The public key the program will log in with: next to ssh.privateKeyPath, else the agent's first. The path goes
  // into a command meant to be pasted, so only a plain one is quoted back.
  const keyPath = config.ssh.privateKeyPath;
  const ownPublicKey =
    keyPath === undefined
      ? `"$(ssh-add -L | head -n 1)"`
      : /^[A-Za-z0-9._/~+-]+$/.test(keyPath)
        ? `"$(cat ${keyPath}.pub)"`
        : `"$(cat <ssh.privateKeyPath>.pub)"`;
  const hostKeyAdvice = (keyPath: string, address: string) =>
    `is the example's placeholder, not a real host key (every SSH connection is checked against it). Read the ` +
    `real one on the machine's console, or in an SSH session you already trust: ` +
    `cat /etc/ssh/ssh_host_ed25519_key.pub; then: pulumi config set --path '${keyPath}' '<that line>'. ` +
    `(Over the network, ssh-keyscan -t ed25519 ${address} | ssh-keygen -lf - prints its fingerprint: use that ` +
    `line only if the fingerprint is the one ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub prints on the console.)`;
  const addressAdvice = (keyPath: string, what: string) =>
    `is the example's placeholder (.invalid names never resolve): set ${what}: pulumi config set --path '${keyPath}' <value>`;

  if (config.proxmox) {
    if (isPlaceholderHost(hostOf(config.proxmox.endpoint))) {
      problems.push(
        `proxmox.endpoint: ${config.proxmox.endpoint} ${addressAdvice("proxmox.endpoint", "your node's API URL, https://<node>:8006/")}`,
      );
    }
    for (const [name, node] of Object.entries(config.proxmox.nodes)) {
      if (isPlaceholderHost(node.address)) {
        problems.push(
          `proxmox.nodes.${name}.address: ${node.address} ${addressAdvice(`proxmox.nodes.${name}.address`, "the node's address or DNS name")}`,
        );
      }
      if (isPlaceholderKey(node.hostKey)) {
        problems.push(
          `proxmox.nodes.${name}.hostKey: ${hostKeyAdvice(`proxmox.nodes.${name}.hostKey`, node.address)}`,
        );
      }
    }
  }
  for (const host of config.dockerHosts) {
    if (isPlaceholderHost(host.address)) {
      problems.push(
        `dockerHosts.${host.name}.address: ${host.address} ${addressAdvice(`dockerHosts.${host.name}.address`, "the host's address or DNS name")}`,
      );
    }
    if (isPlaceholderKey(host.hostKey)) {
      problems.push(
        `dockerHosts.${host.name}.hostKey: ${hostKeyAdvice(`dockerHosts.${host.name}.hostKey`, host.address)}`,
      );
    }
  }
  for (const lxc of config.lxcs) {
    lxc.rootSshKeys.forEach((key, i) => {
      if (!isPlaceholderKey(key)) return;
      problems.push(
        `lxcs.${lxc.name}.rootSshKeys[${i}]: is the example's placeholder. Put your own public key there (the one ` +
          `ssh.privateKeyPath or your ssh-agent holds): pulumi config set --path 'lxcs.${lxc.name}.rootSshKeys[${i}]' ` +
          ownPublicKey,
      );
    });
  }
  for (const agent of config.agents) {
    if (agent.llm && isPlaceholderHost(hostOf(agent.llm.baseUrl))) {
      problems.push(
        `agents.${agent.name}.llm.baseUrl: ${agent.llm.baseUrl} ${addressAdvice(`agents.${agent.name}.llm.baseUrl`, "your LLM endpoint (any OpenAI-compatible /v1 URL)")}`,
      );
    }
  }
  return problems;
}
