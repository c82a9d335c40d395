/**
 * The chaos trials' planner (tests/chaos/planner.ts) and the README recovery block they follow: fast checks of what
 * `npm run test:chaos` relies on before it spends an hour on the real engine.
 */
import { FAULTS, FLOWS, Fault, planTrials, stepsBeforeFault } from "../chaos/planner";
import { CONTAINER_CONFLICT, containerRecoveryCommands, recoveryCommands } from "../chaos/recovery";

describe("chaos trial planner", () => {
  it("is deterministic for a seed and differs between seeds", () => {
    expect(planTrials(7, 24)).toEqual(planTrials(7, 24));
    expect(planTrials(7, 24)).not.toEqual(planTrials(8, 24));
  });

  it("the full run covers every flow with every fault of its path, SIGKILL the most", () => {
    const onPath = { dockerHosts: "sshd-stop", lxcs: "api-drop" } as const;
    for (const [p, other] of Object.entries(onPath) as Array<[keyof typeof onPath, Fault]>) {
      const trials = planTrials(20, 24, p);
      expect(trials).toHaveLength(24);
      for (const flow of FLOWS) {
        for (const fault of FAULTS.filter((f) => f === "sigkill" || f === "link-drop" || f === other)) {
          expect(trials.filter((t) => t.flow === flow && t.fault === fault).length).toBeGreaterThanOrEqual(2);
        }
      }
      expect(trials.filter((t) => t.fault === "sigkill").length).toBe(12);
      // The Proxmox API is cut only where there is one.
      expect(trials.some((t) => t.fault === "api-drop")).toBe(p === "lxcs");
    }
  });

  it("a short run (CI's reduced set) still has a SIGKILL trial for every flow", () => {
    const trials = planTrials(20, 3);
    expect(trials.map((t) => [t.flow, t.fault])).toEqual([
      ["first-up", "sigkill"],
      ["rotation", "sigkill"],
      ["upgrade", "sigkill"],
    ]);
  });

  it("draws moments inside the flow and durations only for link faults", () => {
    for (const t of planTrials(123, 60)) {
      expect(t.at).toBeGreaterThan(0);
      expect(t.at).toBeLessThanOrEqual(1);
      expect(t.delayMs).toBeGreaterThanOrEqual(0);
      expect(t.delayMs).toBeLessThan(1500);
      if (t.fault === "sigkill") expect(t.downSeconds).toBe(0);
      else expect(t.downSeconds).toBeGreaterThanOrEqual(5);
      // A link fault strikes at the start of its step: no delay that could let the up end first.
      if (t.fault !== "sigkill") expect(t.delayMs).toBe(0);
    }
    expect(stepsBeforeFault({ at: 0.01 }, 10)).toBe(1);
    expect(stepsBeforeFault({ at: 0.5 }, 10)).toBe(5);
    expect(stepsBeforeFault({ at: 1 }, 10)).toBe(10);
  });

  it("refuses a trial count that is not a positive integer", () => {
    expect(() => planTrials(1, 0)).toThrow(/positive integer/);
    expect(() => planTrials(1, 2.5)).toThrow(/positive integer/);
  });
});

describe('README "If `pulumi up` was interrupted"', () => {
  it("gives the recovery as pulumi commands that need no terminal and no answer", () => {
    const [sidecar, ...commands] = recoveryCommands("chaos");
    // First the file backend's empty sidecars (a kill while fileblob rewrites one): only zero-byte .attrs files,
    // only under the file:// backend's .pulumi, nothing with another backend.
    expect(sidecar).toMatch(/^b="\$\(pulumi whoami -v \| sed -n 's\|\^Backend URL: file:\/\//);
    expect(sidecar).toMatch(
      /\[ -z "\$b" \] \|\| find "\$\{b\/#\\~\/\$HOME\}\/\.pulumi" -name '\*\.attrs' -size 0 -print -delete$/,
    );
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const c of commands) {
      expect(c).toMatch(/^pulumi /);
      // On the stack it names, never on whichever stack happens to be selected.
      expect(c).toMatch(/ -s chaos\b/);
      // Run from a script or a terminal alike: nothing waits for a prompt.
      expect(c).toMatch(/ --yes\b/);
    }
    expect(commands.some((c) => /^pulumi cancel\b/.test(c))).toBe(true);
    expect(commands.some((c) => /^pulumi refresh\b.*--clear-pending-creates/.test(c))).toBe(true);
    // In a terminal, refresh would ask about each pending create instead of clearing it.
    expect(commands.find((c) => /^pulumi refresh\b/.test(c))).toMatch(/--non-interactive\b/);
  });

  it("for a container Docker created and Pulumi never recorded: one docker rm of that container", () => {
    expect(containerRecoveryCommands("hermes", "ssh -i k root@192.0.2.1")).toEqual([
      "ssh -i k root@192.0.2.1 docker rm -f hermes-hermes",
    ]);
    // Docker's own message (moby daemon/names.go), as the docker provider passes it on.
    const msg =
      'Error response from daemon: Conflict. The container name "/hermes-chaos" is already in use by container "0123abcd". You have to remove (or rename) that container to be able to reuse that name.';
    expect(CONTAINER_CONFLICT.exec(msg)?.[1]).toBe("chaos");
  });
});
