/**
 * hermes-lxc: the hermes-agent gateway in unprivileged Proxmox VE containers.
 *
 * This file only wires: the stack config is read and validated first (bad config fails here, before any
 * resource exists), then where each LXC really runs is read from the cluster (placement.ts: an LXC away from its
 * configured node is refused, still before any resource), then one HermesLxc per `lxcs` entry, one DockerEngine
 * per existing `dockerHosts` entry, and one HermesGateway per agent on its host.
 */
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./components/config/loadStackConfig";
import { DockerEngine } from "./components/dockerEngine";
import { HermesGateway } from "./components/hermesGateway";
import { HermesLxc } from "./components/hermesLxc";
import { hostKeyAlias, pinnedSshOptions } from "./components/lib/knownHosts";
import { snapshotDirectory } from "./components/config/snapshots";
import { snapshotId } from "./components/gateway/snapshotScripts";
import { apiServerUrl, dashboardTunnel } from "./components/gateway/agentOutputs";
import { SshAuth } from "./components/sshTarget";
import { LivePlacement, adoptionHook, checkPlacement, clusterReader, ctRunsOn } from "./components/placement";

async function main() {
  const { config, secrets, sshKey, proxmoxPassword } = loadStackConfig();
  const login = config.proxmox && {
    endpoint: config.proxmox.endpoint,
    insecure: config.proxmox.insecure,
    username: config.proxmox.username,
    password: proxmoxPassword ?? "",
  };
  const placements =
    login && config.lxcs.length > 0
      ? await checkPlacement(config.lxcs, login, {
          dryRun: pulumi.runtime.isDryRun(),
          read: clusterReader.read,
        })
      : new Map<string, LivePlacement>();
  const auth: SshAuth = sshKey ? { privateKey: sshKey.content, privateKeyPath: sshKey.path } : {};

  const proxmox =
    config.lxcs.length > 0 && config.proxmox
      ? new proxmoxve.Provider("proxmox", {
          endpoint: config.proxmox.endpoint,
          insecure: config.proxmox.insecure,
          username: config.proxmox.username,
          password: secrets.proxmoxPassword,
        })
      : undefined;

  const lxcs = new Map<string, HermesLxc>();
  for (const lxc of config.lxcs) {
    lxcs.set(
      lxc.name,
      new HermesLxc(lxc.name, {
        lxc,
        provider: proxmox!,
        auth,
        knownHostsDir: config.ssh.knownHostsDir,
        rootPassword: secrets.lxcs[lxc.name]?.rootPassword,
        adoption: login
          ? adoptionHook(lxc, placements.get(lxc.name), ctRunsOn(login, lxc.vmId, lxc.node))
          : undefined,
      }),
    );
  }

  const dockerHosts = new Map<string, DockerEngine>();
  for (const host of config.dockerHosts) {
    const target = {
      host: host.address,
      port: host.port,
      user: host.user,
      hostKey: host.hostKey,
      hostKeyAlias: hostKeyAlias(pulumi.getProject(), pulumi.getStack(), host.name),
    };
    const engine = new DockerEngine(host.name, {
      target,
      auth,
      docker: host.docker,
      knownHostsDir: config.ssh.knownHostsDir,
    });
    dockerHosts.set(host.name, engine);
  }

  const gateways = config.agents.map((agent) => {
    const engine =
      agent.target.kind === "lxc" ? lxcs.get(agent.target.name)!.docker : dockerHosts.get(agent.target.name)!;
    const lxc = config.lxcs.find((l) => agent.target.kind === "lxc" && l.name === agent.target.name);
    // `ssh ...` to the agent's Docker host with the pinned key: what the day-to-day stack outputs start with.
    const sshCommand =
      agent.target.kind === "lxc"
        ? lxcs.get(agent.target.name)!.sshCommand
        : pulumi.interpolate`${pinnedSshOptions(config.ssh.knownHostsDir, engine.target.hostKeyAlias, engine.target.port)} ${engine.target.user}@${engine.target.host}`;
    // Snapshots run where the agent's /opt/data really is: the Proxmox node for an LXC agent (outside the LXC, so
    // they survive its replacement), the Docker host otherwise.
    const scope = lxc ?? config.dockerHosts.find((h) => h.name === agent.target.name)!;
    const snapshotTarget = lxc ? lxcs.get(lxc.name)!.nodeTarget : engine.target;
    const snapshotSsh = lxc ? lxcs.get(lxc.name)!.nodeSshCommand : sshCommand;
    // Under HA the agent may run on any of its nodes: the snapshot commands and timer go on each of them too.
    const standbys = Object.fromEntries(
      Object.keys(lxc?.ha?.nodes ?? {})
        .filter((node) => node !== lxc!.node)
        .map((node) => {
          const n = config.proxmox!.nodes[node];
          const target = { host: n.address, port: n.sshPort, user: "root", hostKey: n.hostKey };
          return [
            node,
            { ...target, hostKeyAlias: hostKeyAlias(pulumi.getProject(), pulumi.getStack(), `node-${node}`) },
          ];
        }),
    );
    // The agent's /opt/data where it really lives: on the Proxmox node (the LXC's state mount), or the Docker host.
    const hostDataPath = lxc ? `${lxc.stateMount.hostPath}/${agent.name}` : agent.dataDir;
    return new HermesGateway(agent.name, {
      agent,
      secrets: secrets.agents[agent.name] ?? { env: {} },
      target: engine.target,
      auth,
      dockerProvider: engine.provider,
      log: engine.log,
      hostReady: [engine.ready],
      hostDataPath,
      sshCommand,
      snapshots: {
        target: snapshotTarget,
        auth,
        sshCommand: snapshotSsh,
        standbys,
        homeNode: lxc?.node,
        placement: {
          id: snapshotId(scope.name, agent.name),
          agent: agent.name,
          dataPath: hostDataPath,
          directory: snapshotDirectory(scope.name, scope.snapshots),
          containerName: agent.containerName,
          vmId: lxc?.vmId,
          settings: scope.snapshots,
        },
      },
    });
  });

  /** Per LXC: id, node, address, ssh command, host key fingerprint and the mount table. */
  const containers = Object.fromEntries(
    [...lxcs.entries()].map(([name, lxc]) => [
      name,
      {
        vmId: lxc.vmId,
        node: lxc.node,
        address: lxc.address,
        sshCommand: lxc.sshCommand,
        hostKeyFingerprint: lxc.hostKeyFingerprint,
        mounts: lxc.mounts,
      },
    ]),
  );

  /**
   * Per agent: container name, data path on the host, how to read the logs, what the health gate saw, the commands for
   * daily use (pairing, API server, dashboard tunnel), the image it runs, and its snapshots (where, how to restore).
   */
  const agents = Object.fromEntries(
    gateways.map((g, i) => [
      config.agents[i].name,
      {
        containerName: g.containerName,
        hostDataPath: g.hostDataPath,
        logs: g.logsCommand,
        shell: g.shellCommand,
        pairing: g.pairingCommands,
        health: g.health,
        image: g.imageDigest,
        apiServerUrl: hostAddress(config.agents[i]).apply((a) => apiServerUrl(config.agents[i], a)),
        dashboardTunnel: pulumi
          .output(g.shellCommand ?? "")
          .apply((ssh) => (ssh ? dashboardTunnel(config.agents[i], ssh) : undefined)),
        snapshots: {
          directory: g.snapshots.directory,
          schedule: g.snapshots.schedule,
          list: g.snapshots.listCommand,
          restoreLatest: g.snapshots.restoreLatestCommand,
          snapshotNow: g.snapshots.snapshotNowCommand,
          // Pulumi never deletes an agent's data or snapshots: this does, after `pulumi destroy` (README).
          eraseAfterDestroy: g.snapshots.eraseCommand,
        },
      },
    ]),
  );

  /** The address of the Docker host an agent runs on (the LXC's, or the configured host's). */
  function hostAddress(agent: (typeof config.agents)[number]): pulumi.Output<string> {
    return agent.target.kind === "lxc"
      ? lxcs.get(agent.target.name)!.address
      : pulumi.output(dockerHosts.get(agent.target.name)!.target.host);
  }

  return { containers, agents };
}

// The stack outputs: per LXC and per agent (see above).
export = main();
