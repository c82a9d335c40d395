/**
 * The recovery the README gives under "If `pulumi up` was interrupted", read from its marked blocks: the chaos
 * trials run these lines word for word (each through bash, in the project directory, as a user would paste them),
 * so the README cannot drift from what was proven.
 */
import { commandLines, readmeFence } from "../cli/harness";

/** The commands of `<!-- chaos: recovery -->` for `stack`, comments and blank lines dropped. */
export function recoveryCommands(stack: string): string[] {
  return commandLines(readmeFence("<!-- chaos: recovery -->")).map((l) =>
    l.replace(/\s+#.*$/, "").replace(/<stack>/g, stack),
  );
}

/** The README's step for a gateway container Docker created and Pulumi never recorded (a create cut by SIGKILL). */
export const CONTAINER_CONFLICT = /Conflict\. The container name "\/hermes-([a-z0-9-]+)" is already in use/;

/**
 * `<!-- chaos: recovery-container -->` for `agent`, with `<agents.<agent>.shell>` replaced by `ssh`, the pinned ssh
 * command of the world's Docker host (what that stack output holds: same user, same host, the pinned key).
 */
export function containerRecoveryCommands(agent: string, ssh: string): string[] {
  return commandLines(readmeFence("<!-- chaos: recovery-container -->")).map((l) =>
    l
      .replace(/\s+#.*$/, "")
      .replace("<agents.<agent>.shell>", ssh)
      .replace(/<agent>/g, agent),
  );
}
