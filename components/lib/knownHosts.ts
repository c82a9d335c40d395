/**
 * The known_hosts file the nested Docker provider's `ssh` reads. Docker's ssh:// transport execs the OpenSSH
 * client, which has no host-key input of its own: the program writes the key it read through the Proxmox node
 * into a file of its own and points ssh at it with StrictHostKeyChecking=yes. The entry is keyed by a
 * HostKeyAlias, not the address, so a DHCP address change does not invalidate it, and a re-created container
 * (new key) simply rewrites the file: no manual `ssh-keygen -R`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { shellQuote } from "./remoteScript";
import { parseSshPublicKey } from "./validators";

/** Expands a leading `~/`. */
export function expandHome(p: string): string {
  return p === "~" ? os.homedir() : p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
}

/** Alias under which a host's key is pinned: stable across address changes, unique per stack and host. */
export function hostKeyAlias(project: string, stack: string, host: string): string {
  return `hermes-lxc.${project}.${stack}.${host}`.replace(/[^A-Za-z0-9._-]/g, "-");
}

/**
 * Writes `<alias> <type> <base64>` to `<dir>/<alias>` (0600, directory 0700) when the content differs, and
 * returns the file's path. Writing the same key again leaves the file untouched.
 */
export function writeKnownHostsFile(dir: string, alias: string, hostKey: string): string {
  const key = parseSshPublicKey(hostKey);
  if (typeof key === "string") throw new Error(`cannot pin host key for ${alias}: ${key}`);
  const directory = expandHome(dir);
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  const file = path.join(directory, alias);
  const content = `${alias} ${key.type} ${key.base64}\n`;
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  if (current !== content) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, content, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  return file;
}

/**
 * ssh options for Docker's ssh:// transport: verify the pinned key, never prompt, and share one connection
 * between the provider's parallel operations (it opens a session per resource otherwise).
 */
export function dockerSshOptions(knownHostsFile: string, alias: string, privateKeyPath?: string): string[] {
  const opts = [
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHostsFile}`,
    "-o",
    `HostKeyAlias=${alias}`,
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=15",
    "-o",
    "ControlMaster=auto",
    "-o",
    `ControlPath=${path.join(path.dirname(knownHostsFile), "cm-%C")}`,
    "-o",
    "ControlPersist=60",
  ];
  if (privateKeyPath) opts.push("-o", "IdentitiesOnly=yes", "-i", expandHome(privateKeyPath));
  return opts;
}

/**
 * `ssh` options for a ready-to-paste command that verifies the pinned key the program wrote (writeKnownHostsFile).
 * StrictHostKeyChecking=yes: on a machine where that file does not exist yet (a second workstation, a shared
 * backend), ssh refuses instead of asking to trust whatever key it is shown; `pulumi preview` there writes it.
 * The path is home-expanded and quoted: stack outputs are pasted into a shell, so a path must not run anything.
 */
export function pinnedSshOptions(knownHostsDir: string, alias: string, port = 22): string {
  const file = path.join(expandHome(knownHostsDir), alias);
  return (
    `ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=${alias} -o UserKnownHostsFile=${shellQuote(file)}` +
    (port === 22 ? "" : ` -p ${port}`)
  );
}
