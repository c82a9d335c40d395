/** The Proxmox VE API endpoint, its nodes, and how the program's own SSH client authenticates. */
import { z } from "zod";
import { NODE_NAME } from "../lib/validators";
import { Findings } from "./errors";
import { bool, doc, hostAddress, line, port, sshPublicKey, str, strictObject } from "./fields";
import { clusterFields } from "./ha";

const nodeSchema = strictObject({
  address: hostAddress.meta(doc("IPv4 or DNS name", "required", "Where SSH reaches the node.")),
  sshPort: port()
    .default(22)
    .meta(doc("1-65535", "`22`", "sshd port of the node.")),
  hostKey: sshPublicKey.meta(
    doc(
      "`ssh-ed25519 AAAA...`",
      "required",
      "The node's pinned SSH host key, read on its console (`cat /etc/ssh/ssh_host_ed25519_key.pub`).",
    ),
  ),
});

export const proxmoxSchema = strictObject({
  endpoint: z
    .string({ error: "must be a string" })
    .regex(/^https:\/\/[A-Za-z0-9.-]{1,253}(:\d{1,5})?\/?$/, { error: "must look like https://<node>:8006/" })
    .meta(doc("`https://<host>:8006/`", "required", "Proxmox VE API endpoint.")),
  insecure: bool
    .default(false)
    .meta(
      doc(
        "bool",
        "`false`",
        'Skip TLS verification of the API (warned): the password then goes to whoever answers. Verify the node\'s own CA instead (README, "Pin the node first").',
      ),
    ),
  username: str(256)
    .default("root@pam")
    .meta(doc("`root@pam` only", "`root@pam`", "API user; tokens are refused (bind mounts, keyctl).")),
  nodes: z.record(
    z.string().regex(NODE_NAME, { error: "node names must be hostnames (letters, digits, -)" }),
    nodeSchema,
  ),
  ...clusterFields,
});

export const sshClientSchema = strictObject({
  privateKeyPath: line
    .optional()
    .meta(doc("path", "ssh-agent", "Client key for SSH (also given to Docker's ssh).")),
  knownHostsDir: line
    .default("~/.ssh/hermes-lxc")
    .meta(
      doc(
        "path",
        "`~/.ssh/hermes-lxc`",
        "Where the program writes the pinned known_hosts files for Docker's ssh.",
      ),
    ),
});

/** The Proxmox API settings, validated. */
export type ProxmoxConfig = z.output<typeof proxmoxSchema>;
/** The program's SSH client settings. */
export type SshClientConfig = z.output<typeof sshClientSchema>;

/**
 * Who the program logs in as. The message never repeats the value: a full API token pasted here would otherwise be
 * printed back, secret part included.
 */
export function checkProxmoxUser(proxmox: ProxmoxConfig, findings: Findings): void {
  const user = proxmox.username;
  if (user.includes("!")) {
    findings.problems.push(
      "proxmox.username: is an API token (user@realm!tokenid); Proxmox refuses bind mounts and keyctl to every API " +
        "token (even root@pam's). Use root@pam with its password (proxmoxPassword); if you pasted a token's secret, " +
        "revoke it in Datacenter > Permissions > API Tokens.",
    );
  } else if (user !== "root@pam") {
    findings.problems.push(
      "proxmox.username: must be root@pam: Proxmox allows bind mounts and the keyctl feature only to root@pam",
    );
  }
}

/**
 * `insecure: true` skips TLS verification: root@pam's password then goes to whoever answers at the endpoint. Allowed
 * (a first try on a lab network), never silently. The verified way needs nothing but the node's own CA (README).
 */
export function checkProxmoxTls(proxmox: ProxmoxConfig, findings: Findings): void {
  if (!proxmox.insecure) return;
  findings.warnings.push(
    "proxmox.insecure is true: the API's certificate is not verified, so root@pam's password goes to whoever " +
      "answers at proxmox.endpoint. Verify the node's own CA instead: save its /etc/pve/pve-root-ca.pem (read on " +
      "the node's console) as ~/.config/hermes-lxc/ca/<node>.pem, export " +
      'SSL_CERT_DIR="/etc/ssl/certs:$HOME/.config/hermes-lxc/ca" in the shell that runs pulumi, then: ' +
      'pulumi config set --path proxmox.insecure false (README, "Pin the node first").',
  );
}
