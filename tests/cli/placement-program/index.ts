/**
 * The CLI tier's HA placement program: the program's own placement check and adoption hook (components/placement.ts;
 * tests/cli/placement.test.ts copies this file and components/ into a project and points the imports there) around
 * one HA-managed ContainerLegacy on the Proxmox API double, with the inputs and options HermesLxc gives it (protect,
 * deleteBeforeReplace, ignoreChanges on CT_INPUTS_NOT_READ_BACK, the beforeCreate hook) under a parent of
 * HermesLxc's type, and its PVE 9 Haresource and node-affinity Harule (components/haResources.ts). Without the SSH
 * steps HermesLxc adds: the simulated backend runs no sshd.
 *
 * Config: endpoint, node (the lxcs.<n>.node), other (the second node). Password: PVE_PASSWORD (as a secret input).
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { LxcConfig } from "../../../components/config/model";
import {
  CT_INPUTS_NOT_READ_BACK,
  adoptionHook,
  checkPlacement,
  ctRunsOn,
} from "../../../components/placement";

async function main() {
  const cfg = new pulumi.Config();
  const endpoint = cfg.require("endpoint");
  const node = cfg.require("node");
  const other = cfg.require("other");
  const password = process.env.PVE_PASSWORD ?? "";
  const lxc = { name: "agent", vmId: 300, node, ha: { state: "started" } } as unknown as LxcConfig;
  const placements = await checkPlacement(
    [lxc],
    { endpoint, insecure: false, username: "root@pam", password },
    { dryRun: pulumi.runtime.isDryRun() },
  );
  const provider = new proxmoxve.Provider("proxmox", {
    endpoint,
    insecure: false,
    username: "root@pam",
    password: pulumi.secret(password),
  });
  const parent = new pulumi.ComponentResource("hermes-lxc:index:HermesLxc", "agent", {});
  const adoption = adoptionHook(
    lxc,
    placements.get("agent"),
    ctRunsOn({ endpoint, insecure: false, username: "root@pam", password }, 300, node),
  );
  // The inputs HermesLxc gives the container (components/hermesLxc.ts), with a root key and a secret password:
  // what an import must converge on.
  const ct = new proxmoxve.ContainerLegacy(
    "agent-ct",
    {
      nodeName: node,
      vmId: 300,
      description: "hermes-agent gateway",
      tags: ["hermes"],
      unprivileged: true,
      features: { nesting: true, keyctl: true },
      cpu: { cores: 2 },
      memory: { dedicated: 2048, swap: 512 },
      disk: { datastoreId: "ceph", size: 8 },
      operatingSystem: {
        templateFileId: "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst",
        type: "debian",
      },
      networkInterfaces: [{ name: "eth0", bridge: "vmbr0", firewall: false }],
      initialization: {
        hostname: "agent",
        ipConfigs: [{ ipv4: { address: "dhcp" } }],
        userAccount: {
          keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ4SKbtpdq5iZyrl34pmqsTCxdFNaz0w92E/8XtNYLTo root@ci"],
          password: pulumi.secret("placement-ct-root-password-7d1f"),
        },
      },
      startOnBoot: true,
      started: true,
      protection: true,
    },
    {
      parent,
      provider,
      protect: true,
      deleteBeforeReplace: true,
      ignoreChanges: [...CT_INPUTS_NOT_READ_BACK],
      ...(adoption ? { hooks: { beforeCreate: [adoption] } } : {}),
    },
  );
  const ha = new proxmoxve.Haresource(
    "agent-ha",
    { resourceId: "ct:300", type: "ct", state: "started", failback: true },
    { parent, provider, dependsOn: [ct] },
  );
  new proxmoxve.Harule(
    "agent-ha-rule",
    {
      rule: "hermes-agent",
      type: "node-affinity",
      resources: ["ct:300"],
      nodes: { [node]: 2, [other]: 1 },
      strict: false,
    },
    { parent, provider, dependsOn: [ha] },
  );
  return { node: ct.nodeName };
}

export = main();
