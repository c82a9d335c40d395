/**
 * Parsing of what wait-for-container.sh prints: the container's address and its SSH host key, read through the
 * Proxmox node (the trusted channel) so that every later connection into the container can pin it.
 */
import { isIpv4, parseSshPublicKey, sshFingerprint } from "./validators";

/** The container as the node sees it once it is reachable. */
export interface ContainerReachability {
  /** IPv4 address of eth0. */
  address: string;
  /** Host key in authorized_keys form: `ssh-ed25519 AAAA...`. */
  hostKey: string;
  /** `SHA256:...` fingerprint of the host key, as ssh prints it on first connect. */
  fingerprint: string;
}

/** Parses `address=...` and `host_key=...` lines; throws with the reason if either is missing or malformed. */
export function parseReadiness(stdout: string): ContainerReachability {
  const fields = new Map<string, string>();
  for (const raw of stdout.split("\n")) {
    const m = /^([a-z_]+)=(.*)$/.exec(raw.trim());
    if (m) fields.set(m[1], m[2]);
  }
  const address = fields.get("address");
  const hostKeyLine = fields.get("host_key");
  if (!address || !isIpv4(address))
    throw new Error(`readiness output has no valid address= line: ${JSON.stringify(stdout.slice(0, 200))}`);
  if (!hostKeyLine) throw new Error("readiness output has no host_key= line");
  const key = parseSshPublicKey(hostKeyLine);
  if (typeof key === "string") throw new Error(`readiness output's host key is invalid: ${key}`);
  return { address, hostKey: `${key.type} ${key.base64}`, fingerprint: sshFingerprint(key) };
}
