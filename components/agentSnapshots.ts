/**
 * AgentSnapshots: the snapshot and restore commands of one agent, installed where its /opt/data really lives (the
 * Proxmox node for an LXC agent, outside the LXC, so snapshots survive its replacement; the Docker host otherwise),
 * with the scheduled snapshot as a systemd timer there. Snapshots themselves are never deleted by Pulumi: removing
 * the agent from the stack removes its timer and conf file only.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_SNAPSHOT_PATHS,
  SnapshotPlacement,
  eraseCommand,
  restoreCommand,
  snapshotCommand,
  snapshotInstallEnv,
  snapshotUninstallCommand,
} from "./gateway/snapshotScripts";
import { readTemplate, renderRemoteCommand } from "./lib/remoteScript";
import { SshAuth, SshTarget, pasteable, sshConnection } from "./sshTarget";

/** Inputs of an AgentSnapshots. */
export interface AgentSnapshotsArgs {
  /** The agent's data, snapshot directory, schedule and retention. */
  placement: SnapshotPlacement;
  /** The machine that holds the agent's /opt/data (the Proxmox node, or the Docker host), pinned host key. */
  target: SshTarget;
  /** How to authenticate over SSH. */
  auth: SshAuth;
  /** `ssh ... root@<that machine>` for the ready-to-paste outputs, when known. */
  sshCommand?: pulumi.Input<string>;
  /**
   * The other Proxmox nodes HA may run the LXC on (node name -> pinned SSH target): the commands and the timer are
   * installed there too, so snapshots go on after a relocation; the timer runs only where the LXC is.
   */
  standbys?: Record<string, SshTarget>;
  /** The node `target` is, when `standbys` are given: every node's install is then named by its node. */
  homeNode?: string;
}

/** Snapshot and restore of one agent's /opt/data. */
export class AgentSnapshots extends pulumi.ComponentResource {
  /** The install step: the commands exist once it has run. */
  public readonly installed: command.remote.Command;
  /** The same install on each standby node of an HA LXC, by node name. */
  public readonly standbyInstalls: Record<string, command.remote.Command>;
  /** The connection to the machine the snapshots are taken on. */
  public readonly connection: command.types.input.remote.ConnectionArgs;
  /** The agent's snapshot directory on that machine. */
  public readonly directory: string;
  /** Restores the newest snapshot (stops the gateway, keeps the current data aside, starts it again). */
  public readonly restoreLatestCommand: pulumi.Output<string>;
  /** Lists the agent's snapshots, newest first. */
  public readonly listCommand: pulumi.Output<string>;
  /** Takes a snapshot now. */
  public readonly snapshotNowCommand: pulumi.Output<string>;
  /** Removes the agent's data, set-aside copies and snapshots for good (refused while it is deployed). */
  public readonly eraseCommand: pulumi.Output<string>;
  /** What the schedule is (`off`, or the OnCalendar value), keep count and maximum age. */
  public readonly schedule: string;

  constructor(name: string, args: AgentSnapshotsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hermes-lxc:index:AgentSnapshots", name, {}, opts);
    const p = args.placement;
    this.connection = sshConnection(args.target, args.auth);

    const install = (
      resourceName: string,
      connection: command.types.input.remote.ConnectionArgs,
      aliases?: pulumi.Input<pulumi.Alias>[],
    ) =>
      new command.remote.Command(
        resourceName,
        {
          connection,
          create: renderRemoteCommand(
            "install-agent-snapshots",
            readTemplate("install-agent-snapshots.sh"),
            snapshotInstallEnv(p),
          ),
          // The agent left the stack: stop its timer. Its snapshots, and the data, stay where they are.
          delete: snapshotUninstallCommand(p),
          // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
          addPreviousOutputInEnv: false,
        },
        { parent: this, ...(aliases ? { aliases } : {}) },
      );
    // Under HA each node's install is named by its node, the home node's too: a deliberate move only changes which
    // one is the home, and no install is removed (removing one runs the uninstall on that node, which would take
    // away the timer the new home needs). The alias keeps a stack made with one unnamed install from re-creating it.
    const named = args.homeNode !== undefined && Object.keys(args.standbys ?? {}).length > 0;
    this.installed = named
      ? install(`${name}-install-${args.homeNode}`, this.connection, [{ name: `${name}-install` }])
      : install(`${name}-install`, this.connection);
    this.standbyInstalls = Object.fromEntries(
      Object.entries(args.standbys ?? {}).map(([node, target]) => [
        node,
        install(`${name}-install-${node}`, sshConnection(target, args.auth)),
      ]),
    );

    const onMachine = (cmd: string) => pasteable(args.sshCommand, cmd);
    this.directory = `${p.directory}/${p.agent}`;
    this.restoreLatestCommand = onMachine(restoreCommand(p, "latest"));
    this.listCommand = onMachine(restoreCommand(p, "list"));
    this.snapshotNowCommand = onMachine(snapshotCommand(p, "manual", DEFAULT_SNAPSHOT_PATHS));
    this.eraseCommand = onMachine(eraseCommand(p));
    this.schedule = `${p.settings.schedule}; keep ${p.settings.keep}, at most ${p.settings.maxAgeDays} days`;
    this.registerOutputs({
      directory: this.directory,
      restoreLatestCommand: this.restoreLatestCommand,
      listCommand: this.listCommand,
      snapshotNowCommand: this.snapshotNowCommand,
      eraseCommand: this.eraseCommand,
      schedule: this.schedule,
    });
  }
}
