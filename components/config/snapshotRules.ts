/** The snapshot directory of each LXC and Docker host against the stack's bind mounts (the rule spans hosts). */
import { isSameOrInside } from "../lib/validators";
import type { AgentConfig } from "./agent";
import type { DockerHostConfig } from "./dockerHost";
import type { LxcConfig } from "./lxc";
import { SnapshotsConfig, snapshotDirectory } from "./snapshots";

/** What the cross-field check needs to know about one LXC or Docker host. */
export interface SnapshotScope {
  /** Key path of the block, e.g. `lxcs.hermes.snapshots`. */
  at: string;
  /** The LXC's or host's name. */
  name: string;
  /** Its parsed block. */
  snapshots: SnapshotsConfig;
  /** Bind-mounted directories on the same machine: state, bulk disks, a Docker host's dataRoot and workspace sources. */
  boundPaths: Array<{ path: string; at: string }>;
}

/**
 * A snapshot directory inside a bind-mounted directory would be visible (and writable) to the agent it protects,
 * and would be replaced along with the data by a restore; one that contains such a directory would mix snapshots
 * with user data. Both are refused, with the key paths of both sides.
 */
export function snapshotProblems(scopes: SnapshotScope[]): string[] {
  const problems: string[] = [];
  for (const scope of scopes) {
    const dir = snapshotDirectory(scope.name, scope.snapshots);
    for (const bound of scope.boundPaths) {
      if (isSameOrInside(dir, bound.path) || isSameOrInside(bound.path, dir)) {
        problems.push(
          `${scope.at}.directory: is nested with ${bound.at}; snapshots must be stored ` +
            "outside every bind-mounted directory (a restore replaces the data, and the agent must not reach them)",
        );
      }
    }
  }
  return problems;
}

/** The LXCs and Docker hosts with what is bind-mounted on each, as snapshotProblems needs them. */
export function snapshotScopes(
  lxcs: Array<LxcConfig>,
  dockerHosts: Array<DockerHostConfig>,
  agents: Array<AgentConfig>,
): SnapshotScope[] {
  // Every LXC's directories count for every LXC: they are all bind mounts on some node of the same cluster.
  const lxcBound = lxcs.flatMap((l) => [
    { path: l.stateMount.hostPath, at: `lxcs.${l.name}.stateMount.hostPath` },
    ...l.mounts.map((m, i) => ({ path: m.hostPath, at: `lxcs.${l.name}.mounts[${i}].hostPath` })),
  ]);
  return [
    ...lxcs.map((l) => ({
      at: `lxcs.${l.name}.snapshots`,
      name: l.name,
      snapshots: l.snapshots,
      boundPaths: lxcBound,
    })),
    ...dockerHosts.map((h) => ({
      at: `dockerHosts.${h.name}.snapshots`,
      name: h.name,
      snapshots: h.snapshots,
      boundPaths: [
        { path: h.dataRoot, at: `dockerHosts.${h.name}.dataRoot` },
        ...agents
          .filter((a) => a.target.kind === "dockerHost" && a.target.name === h.name)
          .flatMap((a) =>
            a.workspaceMounts.map((m, i) => ({
              path: m.source,
              at: `agents.${a.name}.workspaceMounts[${i}].source`,
            })),
          ),
      ],
    })),
  ];
}
