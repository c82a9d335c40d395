/**
 * HermesLxc: an unprivileged Proxmox VE container ready to run the hermes gateway in Docker.
 *
 * Order of work (all by `dependsOn`, nothing created inside `apply`):
 *   template -> host directories (owner = id-mapped gateway uid) -> container -> raw LXC settings (+1 reboot)
 *   -> readiness (running, address, sshd; host key read through the node) -> Docker inside.
 *
 * Data safety: the agents' state and the bulk disks are bind mounts of host directories. The provider replaces
 * the whole container on any mount-point change, and a replacement destroys the rootfs, so nothing the agent
 * must keep lives on the rootfs; nothing here deletes a host directory, on destroy or on replacement.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import type { LxcConfig } from "./config/model";
import { DockerEngine } from "./dockerEngine";
import { haResources } from "./haResources";
import { CT_INPUTS_NOT_READ_BACK } from "./placement";
import { hostOwnerForGateway } from "./lib/idmap";
import { hostKeyAlias, pinnedSshOptions, writeKnownHostsFile } from "./lib/knownHosts";
import { parseReadiness } from "./lib/readiness";
import { readTemplate, renderRemoteCommand } from "./lib/remoteScript";
import { SshAuth, SshTarget, sshConnection } from "./sshTarget";

/** Inputs of a HermesLxc. */
export interface HermesLxcArgs {
  /** The LXC's validated settings (from the stack config). */
  lxc: LxcConfig;
  /** Proxmox provider authenticated as root@pam with a password (bind mounts and keyctl need it). */
  provider: pulumi.ProviderResource;
  /** How the program's SSH connections authenticate. */
  auth: SshAuth;
  /** Directory for the known_hosts files of the nested Docker provider. */
  knownHostsDir: string;
  /** Root password for console logins, as a secret; none by default (SSH keys only). */
  rootPassword?: pulumi.Output<string>;
  /** The container's beforeCreate hook when its CT already exists on the node (placement.ts adoptionHook). */
  adoption?: pulumi.ResourceHook;
}

/** One row of the mount table output. */
export interface MountRow {
  /** Host directory on the node. */
  hostPath: string;
  /** Path inside the LXC. */
  containerPath: string;
  /** Owner on the host, `uid:gid`. */
  hostOwner: string;
}

/** Default parent of the state directories: created on demand, never re-owned. */
const STATE_PARENT = "/var/lib/hermes-lxc";

/** An unprivileged LXC with nesting+keyctl, bind mounts, pinned SSH, and Docker inside. */
export class HermesLxc extends pulumi.ComponentResource {
  /** The Proxmox container. */
  public readonly container: proxmoxve.ContainerLegacy;
  /** The HA resource and its placement (group on PVE 8, node-affinity rule on PVE 9); [] without `ha`. */
  public readonly haResources: pulumi.CustomResource[] = [];
  /** Container id. */
  public readonly vmId: pulumi.Output<number>;
  /** Proxmox node. */
  public readonly node: pulumi.Output<string>;
  /** IPv4 address (from config when static; read through the node with DHCP). */
  public readonly address: pulumi.Output<string>;
  /** The container's SSH host key, read through the node. */
  public readonly hostKey: pulumi.Output<string>;
  /** Its SHA256 fingerprint. */
  public readonly hostKeyFingerprint: pulumi.Output<string>;
  /** `ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=... root@<address>`. */
  public readonly sshCommand: pulumi.Output<string>;
  /** Host path, container path and host owner of every bind mount. */
  public readonly mounts: MountRow[];
  /** SSH endpoint for later steps into the container. */
  public readonly sshTarget: SshTarget;
  /** Docker inside the container. */
  public readonly docker: DockerEngine;
  /** The Proxmox node over SSH (pinned key): where the agents' data, and their snapshots, live. */
  public readonly nodeTarget: SshTarget;
  /** `ssh ... root@<node>` with the node's pinned key (its known_hosts file written next to the others). */
  public readonly nodeSshCommand: pulumi.Output<string>;

  constructor(name: string, args: HermesLxcArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hermes-lxc:index:HermesLxc", name, {}, opts);
    const lxc = args.lxc;
    const providerOpts = { parent: this, provider: args.provider };

    // The name the node's key is pinned under in known_hosts: the one nodeSshCommand (and so the snapshot commands)
    // reads.
    const nodeAlias = hostKeyAlias(pulumi.getProject(), pulumi.getStack(), `node-${lxc.node}`);
    const nodeTarget: SshTarget = {
      host: lxc.nodeAddress,
      port: lxc.nodeSshPort,
      user: "root",
      hostKey: lxc.nodeHostKey,
      hostKeyAlias: nodeAlias,
    };
    const nodeConnection = sshConnection(nodeTarget, args.auth);
    this.nodeTarget = nodeTarget;
    this.nodeSshCommand = pulumi
      .output(lxc.nodeHostKey)
      .apply((key) => writeKnownHostsFile(args.knownHostsDir, nodeAlias, key))
      .apply(
        () => `${pinnedSshOptions(args.knownHostsDir, nodeAlias, lxc.nodeSshPort)} root@${lxc.nodeAddress}`,
      );

    // Template: download once and keep it (overwrite: false), or use one that is already on the node.
    let templateFileId: pulumi.Input<string>;
    const dependsOnTemplate: pulumi.Resource[] = [];
    if (lxc.template.kind === "download") {
      const template = new proxmoxve.download.File(
        `${name}-template`,
        {
          nodeName: lxc.node,
          datastoreId: lxc.template.datastore,
          contentType: "vztmpl",
          url: lxc.template.url,
          fileName: lxc.template.fileName,
          overwrite: false,
          ...(lxc.template.checksum
            ? { checksum: lxc.template.checksum, checksumAlgorithm: lxc.template.checksumAlgorithm }
            : {}),
        },
        // A re-download must never cascade into replacing the container (templateFileId is ForceNew).
        { ...providerOpts, retainOnDelete: true },
      );
      templateFileId = template.id;
      dependsOnTemplate.push(template);
    } else {
      templateFileId = lxc.template.fileId;
    }

    // Host directories, owned by the host id the gateway's uid maps to. O(1): the directory itself only.
    const owner = hostOwnerForGateway(lxc.gateway);
    const ownedDirs = [lxc.stateMount.hostPath, ...lxc.mounts.map((m) => m.hostPath)];
    const ensureParents = path.posix.dirname(lxc.stateMount.hostPath) === STATE_PARENT ? [STATE_PARENT] : [];
    const hostDirs = new command.remote.Command(
      `${name}-host-dirs`,
      {
        connection: nodeConnection,
        create: renderRemoteCommand("prepare-host-dirs", readTemplate("prepare-host-dirs.sh"), {
          OWNER_UID: owner.uid,
          OWNER_GID: owner.gid,
          DIR_MODE: "0750",
          OWNED_DIRS: ownedDirs.join(" "),
          ENSURE_PARENTS: ensureParents.join(" "),
          SEPARATE_DISK_DIRS: lxc.mounts
            .filter((m) => m.onSeparateDisk)
            .map((m) => m.hostPath)
            .join(" "),
        }),
        // No delete: the directories hold user data and outlive the stack.
        // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
        addPreviousOutputInEnv: false,
      },
      { parent: this },
    );

    const ipv4 =
      lxc.network.ipv4 === "dhcp"
        ? { address: "dhcp" }
        : { address: lxc.network.ipv4.address, gateway: lxc.network.ipv4.gateway };
    this.container = new proxmoxve.ContainerLegacy(
      `${name}-ct`,
      {
        nodeName: lxc.node,
        vmId: lxc.vmId,
        description: lxc.description,
        tags: lxc.tags,
        unprivileged: true,
        // nesting + keyctl: what Docker needs inside an unprivileged container.
        features: { nesting: true, keyctl: true },
        cpu: { cores: lxc.cores },
        memory: { dedicated: lxc.memoryMb, swap: lxc.swapMb },
        disk: { datastoreId: lxc.rootfs.datastore, size: lxc.rootfs.sizeGb },
        operatingSystem: { templateFileId, type: "debian" },
        networkInterfaces: [
          {
            name: "eth0",
            bridge: lxc.network.bridge,
            firewall: lxc.network.firewall,
            ...(lxc.network.vlanId !== undefined ? { vlanId: lxc.network.vlanId } : {}),
            ...(lxc.network.macAddress !== undefined ? { macAddress: lxc.network.macAddress } : {}),
          },
        ],
        initialization: {
          hostname: lxc.hostname,
          ipConfigs: [{ ipv4 }],
          ...(lxc.network.dnsServers.length > 0 || lxc.network.dnsDomain
            ? {
                dns: {
                  servers: lxc.network.dnsServers,
                  ...(lxc.network.dnsDomain ? { domain: lxc.network.dnsDomain } : {}),
                },
              }
            : {}),
          // A secret password makes the provider keep the whole initialization block secret in state.
          userAccount: {
            keys: lxc.rootSshKeys,
            ...(args.rootPassword ? { password: args.rootPassword } : {}),
          },
        },
        // The state mount first (mp0), then the bulk disks in config order.
        // shared=1 on a mount inside a shared storage: Proxmox migrates (and HA relocates) a CT with a bind
        // mount only when the mount says it exists on every node (pve-container src/PVE/LXC/Migrate.pm).
        mountPoints: [
          {
            volume: lxc.stateMount.hostPath,
            path: lxc.stateMount.containerPath,
            backup: false,
            ...(lxc.stateMount.shared ? { shared: true } : {}),
          },
          ...lxc.mounts.map((m) => ({
            volume: m.hostPath,
            path: m.containerPath,
            readOnly: m.readOnly,
            backup: false,
            ...(m.shared ? { shared: true } : {}),
          })),
        ],
        startOnBoot: lxc.startOnBoot,
        started: true,
        // Proxmox's own flag too: it also stops a `pct destroy` or a click in the web UI.
        protection: lxc.protect,
      },
      {
        ...providerOpts,
        dependsOn: [hostDirs, ...dependsOnTemplate],
        // Replacing an LXC destroys its rootfs: refuse unless the stack turns protection off. With a fixed VMID the
        // old container must go before the new one can take its id. The options are asserted by the program tier
        // (tests/program/options.test.ts); what Proxmox does with them no tier here can show (no real Proxmox).
        protect: lxc.protect,
        deleteBeforeReplace: true,
        // What a `pulumi import` cannot read back (the template, the root account, the console): the up after an
        // import must neither replace nor reboot the CT for it (placement.ts, CT_INPUTS_NOT_READ_BACK).
        ignoreChanges: [...CT_INPUTS_NOT_READ_BACK],
        // A CT already on its node but missing from the state: refuse the create, name the import (placement.ts).
        ...(args.adoption ? { hooks: { beforeCreate: [args.adoption] } } : {}),
      },
    );
    if (lxc.ha) this.haResources = haResources(name, lxc.ha, this.container, { ...providerOpts });
    this.vmId = this.container.vmId.apply((v) => v ?? lxc.vmId);
    this.node = this.container.nodeName;

    // Raw lxc.* lines the API cannot set. Always present, so that switching a setting off removes its line.
    const rawLines = [
      ...(lxc.rawConfig.apparmorUnconfined ? ["lxc.apparmor.profile: unconfined"] : []),
      ...lxc.rawConfig.extraLines,
    ];
    const rawConfig = new command.remote.Command(
      `${name}-raw-lxc-config`,
      {
        connection: nodeConnection,
        create: renderRemoteCommand("apply-raw-lxc-config", readTemplate("apply-raw-lxc-config.sh"), {
          VMID: lxc.vmId,
          RAW_LINES: rawLines.join("\n"),
        }),
        // A re-created container has a fresh conf file: apply again.
        triggers: [this.container.id],
        // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [this.container] },
    );

    const staticAddress = lxc.network.ipv4 === "dhcp" ? "" : lxc.network.ipv4.address.split("/")[0];
    const readiness = new command.remote.Command(
      `${name}-ready`,
      {
        connection: nodeConnection,
        create: renderRemoteCommand("wait-for-container", readTemplate("wait-for-container.sh"), {
          VMID: lxc.vmId,
          STATIC_IPV4: staticAddress,
          SSH_PORT: 22,
          TIMEOUT_SECONDS: lxc.readinessTimeoutSeconds,
        }),
        triggers: [this.container.id],
        // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [rawConfig] },
    );
    const reachability = readiness.stdout.apply(parseReadiness);
    // With a static address it is known at preview; with DHCP it is what the node saw.
    this.address = staticAddress ? pulumi.output(staticAddress) : reachability.address;
    this.hostKey = reachability.hostKey;
    this.hostKeyFingerprint = reachability.fingerprint;

    const alias = hostKeyAlias(pulumi.getProject(), pulumi.getStack(), name);
    this.sshTarget = {
      host: this.address,
      port: 22,
      user: "root",
      hostKey: this.hostKey,
      hostKeyAlias: alias,
    };
    this.sshCommand = pulumi.interpolate`${pinnedSshOptions(args.knownHostsDir, alias)} root@${this.address}`;

    this.docker = new DockerEngine(
      `${name}-docker`,
      { target: this.sshTarget, auth: args.auth, docker: lxc.docker, knownHostsDir: args.knownHostsDir },
      { parent: this, dependsOn: [readiness] },
    );

    const ownerText = `${owner.uid}:${owner.gid}`;
    this.mounts = [
      {
        hostPath: lxc.stateMount.hostPath,
        containerPath: lxc.stateMount.containerPath,
        hostOwner: ownerText,
      },
      ...lxc.mounts.map((m) => ({
        hostPath: m.hostPath,
        containerPath: m.containerPath,
        hostOwner: ownerText,
      })),
    ];

    this.registerOutputs({
      vmId: this.vmId,
      node: this.node,
      address: this.address,
      hostKey: this.hostKey,
      hostKeyFingerprint: this.hostKeyFingerprint,
      sshCommand: this.sshCommand,
      mounts: this.mounts,
    });
  }
}
