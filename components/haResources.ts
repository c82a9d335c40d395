/**
 * The Proxmox HA resources of one LXC, through the provider: an HA resource (`ct:<vmid>`) and where HA may run it.
 * PVE 8 keeps placement in an HA group (pve-ha-manager src/PVE/API2/HA/Groups.pm) named by the resource's `group`;
 * PVE 9 replaced groups by rules (src/PVE/API2/HA/Rules.pm): a `node-affinity` rule lists the resource and the node
 * priorities, and `failback` moved to the resource. Either way the home node has the highest priority, so after a
 * node loss HA restarts the CT elsewhere and brings it back home when the node returns: the node the stack (and the
 * provider's state) records is where the CT lives again (README, "Cluster and HA").
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { HaConfig } from "./config/ha";

const COMMENT = "hermes-lxc (managed by Pulumi)";

/** Registers the HA resource after the container and its placement; returns them (resource first). */
export function haResources(
  name: string,
  ha: HaConfig,
  container: pulumi.Resource,
  opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource[] {
  if (ha.pveMajor === 8) {
    const group = new proxmoxve.Hagroup(
      `${name}-ha-group`,
      {
        group: ha.placementId,
        nodes: ha.nodes,
        restricted: false,
        noFailback: !ha.failback,
        comment: COMMENT,
      },
      opts,
    );
    const resource = new proxmoxve.Haresource(
      `${name}-ha`,
      {
        resourceId: ha.sid,
        type: "ct",
        state: ha.state,
        group: group.group,
        maxRestart: ha.maxRestart,
        maxRelocate: ha.maxRelocate,
        comment: COMMENT,
      },
      { ...opts, dependsOn: [container, group] },
    );
    return [resource, group];
  }
  const resource = new proxmoxve.Haresource(
    `${name}-ha`,
    {
      resourceId: ha.sid,
      type: "ct",
      state: ha.state,
      failback: ha.failback,
      maxRestart: ha.maxRestart,
      maxRelocate: ha.maxRelocate,
      comment: COMMENT,
    },
    { ...opts, dependsOn: [container] },
  );
  // A rule names resources that must already be HA resources (Rules.pm checks them on create).
  const rule = new proxmoxve.Harule(
    `${name}-ha-rule`,
    {
      rule: ha.placementId,
      type: "node-affinity",
      resources: [ha.sid],
      nodes: ha.nodes,
      strict: false,
      comment: COMMENT,
    },
    { ...opts, dependsOn: [resource] },
  );
  return [resource, rule];
}
