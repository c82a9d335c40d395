/**
 * SSH endpoints the program's remote commands connect to. Every connection carries a pinned host key:
 * `@pulumi/command` ignores host keys entirely when `hostKey` is absent, so there is no way to build a
 * connection here without one.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";

/** How the program authenticates: a private key (secret), or the ssh-agent at SSH_AUTH_SOCK. */
export interface SshAuth {
  /** Private key content, as a secret. */
  privateKey?: pulumi.Output<string>;
  /** The same key's path, for Docker's ssh:// transport (it execs OpenSSH, which takes a file). */
  privateKeyPath?: string;
}

/** A host the program reaches over SSH. */
export interface SshTarget {
  /** Address or DNS name. */
  host: pulumi.Input<string>;
  /** sshd port. */
  port: number;
  /** Login user. */
  user: string;
  /** Pinned host key, `ssh-ed25519 AAAA...`. */
  hostKey: pulumi.Input<string>;
  /** Name under which the key is pinned in known_hosts (see lib/knownHosts.ts). */
  hostKeyAlias: string;
}

/** Connection arguments for `command.remote.Command`, host key pinned. */
export function sshConnection(target: SshTarget, auth: SshAuth): command.types.input.remote.ConnectionArgs {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    hostKey: target.hostKey,
    ...(auth.privateKey ? { privateKey: auth.privateKey } : {}),
    // A fresh container may still be booting; retries are cheap next to a failed deployment.
    dialErrorLimit: 20,
    perDialTimeout: 15,
  };
}

/** A command line for the user to paste: `<ssh ...> <cmd>` when the ssh command is known, else the bare command. */
export function pasteable(sshCommand: pulumi.Input<string> | undefined, cmd: string): pulumi.Output<string> {
  return sshCommand ? pulumi.interpolate`${sshCommand} ${cmd}` : pulumi.output(cmd);
}
