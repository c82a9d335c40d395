/**
 * Where each LXC really is, checked against `lxcs.<n>.node` before any resource is registered.
 *
 * Why: the proxmoxve provider reads a container at the node recorded in state (bpg v0.111.1
 * proxmoxtf/resource/container/container.go:2660-2686); a CT that HA relocated, or that someone migrated, answers
 * there `Configuration file ... does not exist`, which the provider turns into "gone" (proxmox/api/client.go:
 * 366-373) and Pulumi's refresh then deletes from state, protected or not (pkg/resource/deploy/step.go
 * RefreshStep.Apply). A changed nodeName is ForceNew: a replacement. So the program refuses to go on while a CT is
 * away from its configured node, naming the command that brings it home; a CT that already sits on its configured
 * node but is missing from the state (a plain refresh dropped it, or a deliberate move) makes the container's
 * beforeCreate hook refuse the create that could never succeed, naming the `pulumi import` that takes it over
 * (adoptionHook, during `pulumi up`). `pulumi refresh --run-program`, `pulumi preview` and `pulumi up` all run this
 * check first.
 */
import * as pulumi from "@pulumi/pulumi";
import type { LxcConfig } from "./config/model";
import { ApiLogin, ApiUnreachable, ClusterView, readCluster } from "./lib/proxmoxApi";

/** How the program reads the cluster: readCluster; the program tier's mocks put a fixed view in its place. */
export const clusterReader: { read: typeof readCluster } = { read: readCluster };

/** What the program needs to know of one LXC's live placement. */
export interface LivePlacement {
  /** The CT runs (or exists) as its vmId on its configured node. */
  onConfiguredNode: boolean;
}

/** The refusals for placements the program cannot deploy over, each naming its key path and the command to run. */
export function placementProblems(
  lxcs: LxcConfig[],
  view: ClusterView,
): { problems: string[]; placements: Map<string, LivePlacement> } {
  const problems: string[] = [];
  const placements = new Map<string, LivePlacement>();
  for (const lxc of lxcs) {
    const at = `lxcs.${lxc.name}`;
    const guest = view.guests.find((g) => g.vmid === lxc.vmId);
    const ha = lxc.ha !== undefined || guest?.hastate !== undefined;
    if (!guest) {
      placements.set(lxc.name, { onConfiguredNode: false });
      continue;
    }
    if (guest.type !== "lxc") {
      problems.push(
        `${at}.vmId: ${lxc.vmId} is taken by a ${guest.type} guest on node ${guest.node}; choose a free VMID.`,
      );
      continue;
    }
    const configuredStatus = view.nodes[lxc.node];
    if (guest.node === lxc.node) {
      if (configuredStatus === "offline") {
        problems.push(
          `${at}.node: node ${lxc.node} is offline and CT ${lxc.vmId} is still assigned to it` +
            (ha
              ? ` (HA state: ${guest.hastate ?? "unknown"}). The HA manager fences the node and recovers ct:${lxc.vmId} ` +
                "on another node (about 2-3 minutes); then this check names the command that brings it home. "
              : ". Bring the node back. ") +
            "Meanwhile neither pulumi up nor pulumi refresh can read it (the node answers 595).",
        );
        continue;
      }
      placements.set(lxc.name, { onConfiguredNode: true });
      continue;
    }
    // The CT is on another node than the stack says: HA relocated it, or it was migrated by hand, or the stack's
    // node was changed on purpose and the CT not moved yet. Nothing may run until they agree again.
    const home =
      configuredStatus === "offline"
        ? `Node ${lxc.node} is offline: wait until it is back` +
          (ha
            ? `; HA then moves ct:${lxc.vmId} home by itself if failback is on (ha-manager status shows it). `
            : ". ")
        : "";
    const bringBack = ha
      ? `ha-manager migrate ct:${lxc.vmId} ${lxc.node}`
      : `pct migrate ${lxc.vmId} ${lxc.node} --restart   (on node ${guest.node})`;
    const moved =
      `If you changed ${at}.node on purpose, the stack still records the old node: after the migration run ` +
      `pulumi refresh --run-program (it drops only the stale entry; the CT is untouched), then pulumi up, which ` +
      `refuses with the one pulumi import command that takes the CT over.`;
    problems.push(
      `${at}.node: is ${lxc.node}, but CT ${lxc.vmId} is on node ${guest.node}` +
        (guest.hastate ? ` (HA state: ${guest.hastate})` : "") +
        `. Do not run a plain pulumi refresh now: it would drop the container from the stack. ${home}` +
        `To bring it back to ${lxc.node}, run: ${bringBack}` +
        (ha && configuredStatus !== "offline" ? ` (or wait for failback)` : "") +
        `; then pulumi up. ${moved}`,
    );
  }
  return { problems, placements };
}

/**
 * Reads the cluster and returns the placements, or throws a RunError naming every problem. With the API out of
 * reach, a preview (a pull request's CI may have no route to the cluster) warns and goes on: it changes nothing, and
 * the provider could not read the CT either. An update refuses: it would act on state that may be wrong.
 */
export async function checkPlacement(
  lxcs: LxcConfig[],
  login: ApiLogin,
  options: { dryRun: boolean; env?: NodeJS.ProcessEnv; read?: typeof readCluster },
): Promise<Map<string, LivePlacement>> {
  if (lxcs.length === 0) return new Map();
  let view: ClusterView;
  try {
    view = await (options.read ?? readCluster)(login, { env: options.env });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (e instanceof ApiUnreachable && options.dryRun) {
      void pulumi.log.warn(
        `proxmox.endpoint: not reachable (${why}); where each LXC runs was not checked. pulumi up checks it and ` +
          "refuses while the API is out of reach.",
      );
      return new Map(lxcs.map((l) => [l.name, { onConfiguredNode: false }]));
    }
    throw new pulumi.RunError(
      `proxmox.endpoint: cannot read where the LXCs run (${why}). The program checks every LXC's node before ` +
        "deploying (README, Cluster and HA); fix the connection or the login, then run it again.",
    );
  }
  const { problems, placements } = placementProblems(lxcs, view);
  if (problems.length > 0)
    throw new pulumi.RunError(
      `stack ${pulumi.getStack()}: an LXC is not where the stack says:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  return placements;
}

/**
 * The container's beforeCreate hook when its CT already exists on the configured node: the engine plans a create
 * only when the state lacks the container, and that create can never succeed (`CT <vmid> already exists on node`,
 * pve-cluster Cluster.pm:785-797; the provider then polls the stale node until its timeout).
 * The engine gives a beforeCreate hook no old state (step.go CreateStep.Apply: oldInputs/oldOutputs nil), so the
 * create of a *replacement* looks the same. The container is replaced delete-first, so by the time that create runs
 * the old CT is gone: the hook asks the cluster again (`stillThere`) and refuses only a CT that still runs there.
 * For the same reason it does not run in previews (nothing is deleted there, a replacement would be refused).
 * The message is the command that takes the CT over: `pulumi import` with the provider's `<node>/<vmid>` ID
 * (container.go:1230-1246), under the same parent and provider, protected.
 */
export function adoptionHook(
  lxc: LxcConfig,
  placement: LivePlacement | undefined,
  stillThere: () => Promise<boolean>,
): pulumi.ResourceHook | undefined {
  if (!placement?.onConfiguredNode) return undefined;
  return new pulumi.ResourceHook(`${lxc.name}-ct-exists`, refuseCreateOverLiveCt(lxc, stillThere), {
    onDryRun: false,
  });
}

/** The hook's body: nothing when the CT is gone by now (a replacement's create), else the refusal with the import. */
export function refuseCreateOverLiveCt(
  lxc: LxcConfig,
  stillThere: () => Promise<boolean>,
): pulumi.ResourceHookFunction {
  return async (args) => {
    if (!(await stillThere())) return;
    const urn = args.urn;
    // urn:pulumi:<stack>::<project>::<parent type>$<type>::<name> → the parent's and the provider's URNs.
    const m = /^urn:pulumi:([^:]+)::([^:]+)::([^$]+)\$(.+)::([^:]+)$/.exec(urn);
    const parent = m ? `urn:pulumi:${m[1]}::${m[2]}::${m[3]}::${lxc.name}` : "<the HermesLxc URN>";
    const provider = m
      ? `urn:pulumi:${m[1]}::${m[2]}::pulumi:providers:proxmoxve::proxmox`
      : "<provider URN>";
    throw new Error(
      `lxcs.${lxc.name}: CT ${lxc.vmId} already runs on node ${lxc.node}, but this stack's state does not hold ` +
        "it (a plain pulumi refresh dropped it, or the node was changed after a migration). Creating it can " +
        "never succeed (the VMID is taken cluster-wide) and nothing was changed. Take it over, then run " +
        `pulumi up again:\n  pulumi import '${args.type}' '${args.name}' '${lxc.node}/${lxc.vmId}' ` +
        `--parent '${parent}' --provider 'proxmox=${provider}' --protect --generate-code=false --yes ` +
        `--stack '${m ? m[1] : pulumi.getStack()}'`,
    );
  };
}

/** Whether CT `vmId` runs on `node` now, read from the cluster the way checkPlacement reads it. */
export function ctRunsOn(
  login: ApiLogin,
  vmId: number,
  node: string,
  env?: NodeJS.ProcessEnv,
): () => Promise<boolean> {
  return async () =>
    (await clusterReader.read(login, { env })).guests.some(
      (g) => g.vmid === vmId && g.type === "lxc" && g.node === node,
    );
}

/**
 * Inputs of the container that an import cannot read back, so that the first `pulumi up` after the import printed by
 * adoptionHook would change the CT (bpg/terraform-provider-proxmox v0.111.1,
 * proxmoxtf/resource/container/container.go):
 * - the template and the root user account: Proxmox does not report them, and containerRead keeps whatever the state
 *   held before (:3344-3350, :3232-3238), which after an import is nothing. Both are ForceNew (:997-1004, :642-666):
 *   a replacement, refused by protect (measured: tests/cli/placement.test.ts).
 * - the console: containerRead records it only when the state had one or it differs from the defaults (:2746-2756),
 *   so after an import the defaults the program gets are a change, and containerUpdate reboots the CT for it
 *   (:3576-3598; measured: PUT config + status/reboot). The program never sets the console.
 * Ignored always, since the program cannot tell an imported CT from one it created: a changed template or root key
 * no longer re-creates the CT (with protect it was refused anyway; `pulumi up --replace <urn>` with protect off
 * still does it on purpose). Measured: import, then up: no replacement, no request that changes the CT.
 */
export const CT_INPUTS_NOT_READ_BACK = [
  "operatingSystem.templateFileId",
  "initialization.userAccount",
  "console",
] as const;
