/** components/lib/knownHosts.ts pinnedSshOptions: the ssh commands the stack outputs hand the user to paste. */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { pinnedSshOptions } from "../../components/lib/knownHosts";

describe("pinnedSshOptions", () => {
  it("expands ~ and names the pinned known_hosts file; adds -p only for another port", () => {
    expect(pinnedSshOptions("~/.ssh/hermes-lxc", "hermes-lxc.p.s.box")).toBe(
      `ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=hermes-lxc.p.s.box -o UserKnownHostsFile='${path.join(os.homedir(), ".ssh/hermes-lxc/hermes-lxc.p.s.box")}'`,
    );
    expect(pinnedSshOptions("/k", "a", 2222)).toBe(
      "ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=a -o UserKnownHostsFile='/k/a' -p 2222",
    );
  });

  it("quotes a hostile directory, so pasting the output runs nothing it contains", () => {
    const dir = "/tmp/x $(echo PWNED) `echo PWNED2`; echo PWNED3";
    const line = pinnedSshOptions(dir, "a");
    // What a shell makes of the pasted words: the path arrives as one argument, unexpanded.
    const r = spawnSync("bash", ["-c", `printf '%s\\n' ${line.replace(/^ssh /, "")}`], { encoding: "utf8" });
    expect(r.stdout.split("\n")).toContain(`UserKnownHostsFile=${dir}/a`);
    expect(r.stdout).not.toMatch(/^PWNED/m);
  });
});
