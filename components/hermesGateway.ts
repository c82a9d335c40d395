/**
 * HermesGateway: one hermes gateway container per agent (hermes' Docker guide: one container per profile, never
 * two on one data directory), on any Docker host reachable over SSH: a HermesLxc or an existing host.
 *
 * What each kind of change costs (the README's "what persists across what" table is tested against this):
 * - settings, secrets, documents: the files step rewrites /opt/data and restarts the same container;
 * - image, ports, mounts, limits: the container is re-created; /opt/data and the bulk mounts are untouched;
 * - nothing here touches the LXC.
 * Before the container is re-created or its image changes, the agent's /opt/data is snapshotted (AgentSnapshots, on
 * the machine that holds it); after the new container is healthy, images nobody needs any more are removed.
 */
import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AgentConfig } from "./config/model";
import type { SecretAgentValues } from "./config/loadStackConfig";
import { agentFilesDigest } from "./lib/agentFiles";
import { agentFilesPayload } from "./gateway/agentPayload";
import {
  agentFilesScriptEnv,
  configMigrationScriptEnv,
  gatewayHealthScriptEnv,
  pairingPlatforms,
} from "./gateway/gatewayScripts";
import { gatewayContainerSpec } from "./gateway/gatewaySpec";
import { readTemplate, renderRemoteCommand } from "./lib/remoteScript";
import { preChangeSnapshotCommand, pruneImagesEnv, recreateDigest } from "./gateway/snapshotScripts";
import { AgentSnapshots, AgentSnapshotsArgs } from "./agentSnapshots";
import { SshAuth, SshTarget, pasteable, sshConnection } from "./sshTarget";

/** Inputs of a HermesGateway. */
export interface HermesGatewayArgs {
  /** The agent's validated settings. */
  agent: AgentConfig;
  /** The agent's secrets (LLM key, bot tokens, ...), as Pulumi secrets. */
  secrets: SecretAgentValues;
  /** The Docker host, with its pinned SSH host key. */
  target: SshTarget;
  /** How to authenticate over SSH. */
  auth: SshAuth;
  /** Docker provider for that host. */
  dockerProvider: docker.Provider;
  /** Rotation settings of the container's json-file log. */
  log: { maxSize: string; maxFile: number };
  /** Steps that must finish first (Docker installed). */
  hostReady: pulumi.Input<pulumi.Resource>[];
  /** The agent's data directory as the Proxmox node sees it (for outputs), when known. */
  hostDataPath?: string;
  /** `ssh ... root@<host>` for the Docker host, to print ready-to-paste commands. */
  sshCommand?: pulumi.Input<string>;
  /** Where and how the agent's /opt/data is snapshotted (the node for an LXC agent, else the Docker host). */
  snapshots: AgentSnapshotsArgs;
}

/** The gateway of one agent. */
export class HermesGateway extends pulumi.ComponentResource {
  /** The gateway container. */
  public readonly container: docker.Container;
  /** Container name inside the Docker host. */
  public readonly containerName: string;
  /** The agent's /opt/data on the Docker host. */
  public readonly dataDir: string;
  /** The agent's /opt/data on the Proxmox node (for LXC targets). */
  public readonly hostDataPath: string;
  /** How to read the gateway's logs, from the workstation when the SSH command is known. */
  public readonly logsCommand: pulumi.Output<string>;
  /** `ssh ...` to the Docker host with the pinned key, when known. */
  public readonly shellCommand?: pulumi.Input<string>;
  /** Per platform: the command that approves a pairing code (replace CODE with the code the bot sent). */
  public readonly pairingCommands: Record<string, pulumi.Output<string>>;
  /** What the health gate saw at the last deploy: the gateway and each platform's state. */
  public readonly health: pulumi.Output<string>;
  /** The agent's snapshots: directory, schedule, and the restore / list / snapshot-now commands. */
  public readonly snapshots: AgentSnapshots;
  /** The image the gateway runs, by registry digest (`repo@sha256:...`) when the registry gave one, else its id. */
  public readonly imageDigest: pulumi.Output<string>;

  constructor(name: string, args: HermesGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hermes-lxc:index:HermesGateway", name, {}, opts);
    const agent = args.agent;
    const connection = sshConnection(args.target, args.auth);
    const dockerOpts = { parent: this, provider: args.dockerProvider };

    // The payload carries .env and auth.json: build it only from inside an apply over the secrets, and mark it
    // secret explicitly (an agent with no secrets configured would otherwise produce a plain Output).
    const secretEntries = Object.entries(args.secrets).filter(([k]) => k !== "env") as Array<
      [string, pulumi.Output<string>]
    >;
    const envEntries = Object.entries(args.secrets.env);
    const payload = pulumi.secret(
      pulumi
        .all([pulumi.all(Object.fromEntries(secretEntries)), pulumi.all(Object.fromEntries(envEntries))])
        .apply(([plain, env]) => agentFilesPayload(agent, { ...plain, env })),
    );
    // Digest of the payload, to re-run the health check after the files step restarted the gateway. Secret too:
    // a bare hash of a short secret can be guessed offline.
    const payloadDigest = pulumi.secret(payload.apply(agentFilesDigest));

    const spec = gatewayContainerSpec(agent, args.log);
    // Which Docker daemon this is: its host's pinned SSH key. A re-created LXC (a new mount point) comes up with a
    // new key and an empty Docker, while the docker provider's state still holds the image and the container of the
    // old one: both must be made again there (the engine tier's lxcs stack caught `No such image` without this).
    const dockerHost = pulumi
      .output(args.target.hostKey)
      .apply((key) => createHash("sha256").update(key).digest("hex").slice(0, 16));
    const image = new docker.RemoteImage(
      `${name}-image`,
      // keepLocally: a rollback to the previous tag must not need the registry, and another agent may use it. The
      // prune step below removes what neither the current nor the previous healthy gateway needs.
      { name: spec.image, keepLocally: true, triggers: { dockerHost } },
      { ...dockerOpts, dependsOn: args.hostReady },
    );

    this.snapshots = new AgentSnapshots(`${name}-snapshots`, args.snapshots, { parent: this });
    // A way back before anything of the upgrade touches /opt/data (the files step, the image's config migration,
    // the new container's first start): runs exactly when the container is about to be re-created or its image
    // changes (the digest in the command), never on a no-op up.
    const preChange = new command.remote.Command(
      `${name}-pre-change-snapshot`,
      {
        connection: this.snapshots.connection,
        create: image.imageId.apply((id) =>
          preChangeSnapshotCommand(
            args.snapshots.placement,
            recreateDigest(id, { ...spec, image: undefined }),
          ),
        ),
        // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [image, this.snapshots.installed] },
    );

    const files = new command.remote.Command(
      `${name}-files`,
      {
        connection,
        create: renderRemoteCommand(
          "write-agent-files",
          readTemplate("write-agent-files.sh"),
          agentFilesScriptEnv(agent),
        ),
        // Secrets travel on stdin only; output is secret and not logged.
        stdin: payload,
        logging: "none",
        // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
        addPreviousOutputInEnv: false,
      },
      {
        parent: this,
        dependsOn: [...args.hostReady, preChange],
        additionalSecretOutputs: ["stdout", "stderr"],
      },
    );

    // config.yaml to the schema of the image about to run, once per image (the gateway itself skips its boot-time
    // migration: see migrate-agent-config.sh). The image id is part of the command, so a new image re-runs it as
    // an update, and an unchanged one never does.
    const migrate = new command.remote.Command(
      `${name}-config-migration`,
      {
        connection,
        create: image.imageId.apply((id) =>
          renderRemoteCommand(
            "migrate-agent-config",
            readTemplate("migrate-agent-config.sh"),
            configMigrationScriptEnv(agent, id),
          ),
        ),
        // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [files, image] },
    );

    this.container = new docker.Container(
      `${name}-gateway`,
      {
        name: spec.name,
        image: image.imageId,
        command: spec.command,
        envs: spec.envs,
        volumes: spec.volumes,
        ports: spec.ports,
        restart: spec.restart,
        memory: spec.memoryMb,
        memorySwap: spec.memorySwapMb,
        cpus: spec.cpus,
        shmSize: spec.shmSizeMb,
        logDriver: spec.logDriver,
        logOpts: spec.logOpts,
        labels: [
          ...Object.entries(spec.labels).map(([label, value]) => ({ label, value })),
          // A new Docker host (see dockerHost above) gets a new container.
          { label: "hermes-lxc.docker-host", value: dockerHost },
        ],
        // The data lives in bind mounts; never let a re-creation remove anonymous volumes of the image either.
        removeVolumes: false,
        mustRun: true,
      },
      // Fixed name: the old container must be gone before the new one takes it. The option: program tier
      // (tests/program/options.test.ts); the real re-creation keeping the data: engine tier (deploy.engine.test.ts,
      // the image change); that memorySwap/cpus read back unchanged (no diff on a no-op up): engine tier only.
      { ...dockerOpts, dependsOn: [files, migrate], deleteBeforeReplace: true },
    );

    const health = new command.remote.Command(
      `${name}-health`,
      {
        connection,
        create: renderRemoteCommand(
          "wait-for-gateway",
          readTemplate("wait-for-gateway.sh"),
          gatewayHealthScriptEnv(agent),
        ),
        // Re-run after every (re)start: a new container, or new files (which restarted it). Carried on stdin (which
        // the script ignores) rather than in `triggers`, so it re-runs as an update, not a replacement (that the
        // engine makes it an update: engine tier, the token rotation in tests/engine/deploy.engine.test.ts).
        stdin: pulumi.secret(pulumi.interpolate`${this.container.id} ${payloadDigest}\n`),
        // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [this.container, files] },
    );

    // Disk: once the gateway is healthy on an image, remove the gateway images neither it (nor its previous healthy
    // image, nor any container) uses. Once per image, like the migration.
    new command.remote.Command(
      `${name}-prune-images`,
      {
        connection,
        create: image.imageId.apply((id) =>
          renderRemoteCommand(
            "prune-gateway-images",
            readTemplate("prune-gateway-images.sh"),
            pruneImagesEnv(agent.containerName, agent.image, id),
          ),
        ),
        // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [health] },
    );

    this.containerName = agent.containerName;
    this.dataDir = agent.dataDir;
    this.hostDataPath = args.hostDataPath ?? agent.dataDir;
    this.shellCommand = args.sshCommand;
    const onHost = (cmd: string) => pasteable(args.sshCommand, cmd);
    this.logsCommand = onHost(`docker logs --tail 100 -f ${agent.containerName}`);
    // hermes answers strangers with a pairing code; this approves one (the `hermes` wrapper on the Docker host runs
    // the CLI inside this agent's container as the hermes user).
    this.pairingCommands = Object.fromEntries(
      pairingPlatforms(agent).map((p) => [
        p,
        onHost(`hermes --agent ${agent.name} pairing approve ${p} CODE`),
      ]),
    );
    this.health = health.stdout.apply((out) => out.trim().replace(/^healthy \S+: /, ""));
    this.imageDigest = pulumi
      .all([image.repoDigest, image.imageId])
      .apply(([digest, id]) => (digest ? digest : id));
    this.registerOutputs({
      health: this.health,
      containerName: this.containerName,
      dataDir: this.dataDir,
      hostDataPath: this.hostDataPath,
      logsCommand: this.logsCommand,
      pairingCommands: this.pairingCommands,
      shellCommand: this.shellCommand,
      imageDigest: this.imageDigest,
    });
  }
}
