/**
 * The recovery the README gives under "If `pulumi up` was interrupted", read from its marked blocks: the chaos
 * trials run these lines word for word (each through bash, in the project directory, as a user would paste them),
 * so the README cannot drift from what was proven.
 */
import { commandLines, readmeFence } from "../cli/harness";

/** The commands of `<!-- chaos: recovery -->`, comments and blank lines dropped. */
export function recoveryCommands(): string[] {
  return commandLines(readmeFence("<!-- chaos: recovery -->")).map((l) => l.replace(/\s+#.*$/, ""));
}
