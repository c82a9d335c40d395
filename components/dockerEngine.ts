/**
 * DockerEngine: Docker on a host reached over SSH (a HermesLxc, or any existing Docker host), and the nested
 * `docker.Provider` that talks to it over ssh:// with the host's pinned key.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DockerInstallConfig } from "./config/model";
import { dockerSshOptions, writeKnownHostsFile } from "./lib/knownHosts";
import { readTemplate, renderRemoteCommand } from "./lib/remoteScript";
import { SshAuth, SshTarget, sshConnection } from "./sshTarget";

/** Packages the agent-files step needs on the Docker host (config.yaml is merged with PyYAML there). */
export const DOCKER_HOST_PACKAGES = ["python3", "python3-yaml"];

/** Inputs of a DockerEngine. */
export interface DockerEngineArgs {
  /** The host, with its pinned SSH host key. */
  target: SshTarget;
  /** How to authenticate. */
  auth: SshAuth;
  /** Install settings (versions, log rotation); `install: false` leaves Docker alone. */
  docker: DockerInstallConfig;
  /** Directory for the known_hosts file of the Docker provider's ssh. */
  knownHostsDir: string;
}

/** Docker on an SSH host, plus a provider for it. */
export class DockerEngine extends pulumi.ComponentResource {
  /** Provider for resources on this Docker host. */
  public readonly provider: docker.Provider;
  /** The install step (absent when `install` is false); later steps depend on it. */
  public readonly install?: command.remote.Command;
  /** `docker-ready driver=... version=...` from the install step. */
  public readonly readyLine: pulumi.Output<string>;
  /** The host, for later SSH steps (agent files, health). */
  public readonly target: SshTarget;
  /** Rotation of container logs on this host. */
  public readonly log: { maxSize: string; maxFile: number };
  /** What later steps wait for: the install step, or the provider when Docker is not installed here. */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: DockerEngineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hermes-lxc:index:DockerEngine", name, {}, opts);

    const d = args.docker;
    this.target = args.target;
    this.log = { maxSize: d.logMaxSize, maxFile: d.logMaxFile };
    if (d.install) {
      this.install = new command.remote.Command(
        `${name}-install-docker`,
        {
          connection: sshConnection(args.target, args.auth),
          create: renderRemoteCommand("install-docker", readTemplate("install-docker.sh"), {
            DOCKER_SOURCE: d.source,
            DOCKER_CE_VERSION: d.dockerCeVersion,
            CONTAINERD_VERSION: d.containerdVersion,
            DOCKER_IO_VERSION: d.dockerIoVersion ?? "",
            DOCKER_LOG_MAX_SIZE: d.logMaxSize,
            DOCKER_LOG_MAX_FILE: d.logMaxFile,
            EXTRA_PACKAGES: DOCKER_HOST_PACKAGES.join(" "),
          }),
          // A new host key means a new container: install again.
          triggers: [args.target.hostKey],
          // No Setenv of the previous output on update/delete (lib/remoteScript.ts says why).
          addPreviousOutputInEnv: false,
        },
        { parent: this },
      );
    }
    this.readyLine = this.install
      ? this.install.stdout.apply((s) => s.trim().split("\n").pop() ?? "")
      : pulumi.output("");

    // Docker's ssh:// transport runs the OpenSSH client, which only trusts a known_hosts file; write the pinned
    // key there. The write happens while the program runs (preview included) so that the file exists on any
    // machine that runs `pulumi up`, not only on the one that first created the stack.
    const knownHostsFile = pulumi
      .output(args.target.hostKey)
      .apply((key) => writeKnownHostsFile(args.knownHostsDir, args.target.hostKeyAlias, key));

    this.provider = new docker.Provider(
      `${name}-docker`,
      {
        host: pulumi.interpolate`ssh://${args.target.user}@${args.target.host}:${args.target.port}`,
        sshOpts: knownHostsFile.apply((file) =>
          dockerSshOptions(file, args.target.hostKeyAlias, args.auth.privateKeyPath),
        ),
      },
      { parent: this, dependsOn: this.install ? [this.install] : [] },
    );

    this.ready = this.install ?? this.provider;
    this.registerOutputs({ readyLine: this.readyLine });
  }
}
