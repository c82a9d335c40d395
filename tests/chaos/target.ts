/**
 * Where the chaos trials deploy to, and how they break the link to it. Everything a trial needs from the world goes
 * through a ChaosTarget, so that pointing the trials at another path (an LXC through the Proxmox API double) means
 * writing one more implementation of this interface, not touching the trials.
 *
 * DockerHostTarget: the `dockerHosts` path, the system tier's CT used as an existing Docker host over SSH.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { RUNTIME, ensureStandinImage, systemEnv } from "../system/harness";

/** One agent of a chaos stack. */
export interface ChaosAgent {
  name: string;
  imageTag: string;
  memoryMb: number;
}

export interface ChaosTarget {
  /** One line for the report: which path is under test. */
  readonly label: string;
  /** The stack file for these agents (secrets are set with `pulumi config set --secret`, not here). */
  stackFile(agents: ChaosAgent[], knownHostsDir: string): string;
  /** The agent's /opt/data as this machine sees it (for digests and the secret scan). */
  hostDataDir(agent: string): string;
  /** The bulk directory the agents share, as this machine sees it. */
  bulkDir(): string;
  /** The agent's snapshot directory, on the machine that takes them (read with sh()). */
  snapshotsDir(agent: string): string;
  /** `ssh ... root@<docker host>` with the pinned host key, for the README lines that say `ssh root@<docker host>`. */
  sshCommand(): string;
  /** A shell command on the Docker host; trimmed stdout. */
  sh(command: string): Promise<string>;
  /** Builds the stand-in image tags the trials deploy (hermes-standin:local, :v2, ...). */
  buildImages(): Promise<void>;
  /** Drops every packet between this machine and the Docker host, until restoreLink(). */
  cutLink(): void;
  restoreLink(): void;
  /** Stops the Docker host's sshd (new connections refused; open sessions stay), until startSshd(). */
  stopSshd(): void;
  startSshd(): void;
}

/** The system tier's world variables (tests/system/common.sh), so the fault follows SYSTEST_BRIDGE like the rest. */
const BRIDGE = process.env.SYSTEST_BRIDGE ?? "hsysbr0";

export class DockerHostTarget implements ChaosTarget {
  readonly label = "dockerHosts: the system tier's CT as an existing Docker host";

  stackFile(agents: ChaosAgent[], knownHostsDir: string): string {
    const { file } = systemEnv();
    const blocks = agents.map(
      (a) => `    ${a.name}:
      dockerHost: ct
      image: hermes-standin
      imageTag: ${a.imageTag}
      memoryMb: ${a.memoryMb}
      llm:
        baseUrl: http://${file.ct.host}:4000/v1
        model: test-model
      platforms:
        telegram:
          allowedUsers: ["12345"]
      workspaceMounts:
        - source: /data
          target: /opt/data/workspace/data
`,
    );
    return `config:
  hermes-lxc:ssh:
    privateKeyPath: ${file.sshKey}
    knownHostsDir: ${knownHostsDir}
  hermes-lxc:dockerHosts:
    ct:
      address: ${file.ct.host}
      hostKey: ${file.ct.hostKey}
      dataRoot: /srv/hermes
      docker:
        install: true
        source: debian
  hermes-lxc:agents:
${blocks.join("")}`;
  }

  hostDataDir(agent: string): string {
    return path.join(systemEnv().file.hostDirs.state, agent);
  }

  bulkDir(): string {
    return systemEnv().file.hostDirs.data;
  }

  snapshotsDir(agent: string): string {
    return `/var/lib/hermes-lxc-snapshots/ct/${agent}`;
  }

  sshCommand(): string {
    // sshArgs() ends with user@host.
    return ["ssh", ...systemEnv().lxc.sshArgs()].map((w) => `'${w}'`).join(" ");
  }

  sh(command: string): Promise<string> {
    return systemEnv().lxc.sh(command);
  }

  async buildImages(): Promise<void> {
    await ensureStandinImage();
  }

  private iptablesRules(): string[][] {
    const ct = systemEnv().file.ct.host;
    return [
      ["filter", "OUTPUT", "-o", BRIDGE, "-d", ct, "-j", "DROP"],
      ["filter", "INPUT", "-i", BRIDGE, "-s", ct, "-j", "DROP"],
    ];
  }

  cutLink(): void {
    for (const [table, chain, ...rule] of this.iptablesRules()) {
      // Recorded like env-up.sh's own rules, so env-down.sh removes them after a run that died mid-trial.
      fs.appendFileSync(path.join(RUNTIME, "state"), `iptables=${table} ${chain} ${rule.join(" ")}\n`);
      execFileSync("iptables", [
        "-t",
        table,
        "-I",
        chain,
        "1",
        ...rule,
        "-m",
        "comment",
        "--comment",
        "hermes-systest",
      ]);
    }
  }

  restoreLink(): void {
    for (const [table, chain, ...rule] of this.iptablesRules()) {
      execFileSync("bash", [
        "-c",
        `while iptables -t ${table} -D ${chain} ${rule.join(" ")} -m comment --comment hermes-systest 2>/dev/null; do :; done`,
      ]);
    }
  }

  /** systemctl in the CT through lxc-attach (its sshd is what is being stopped). */
  private ctSystemctl(verb: "stop" | "start"): void {
    const { file } = systemEnv();
    execFileSync("lxc-attach", [
      "-P",
      path.join(file.runtime, "lxc"),
      "-n",
      String(file.vmid),
      "--clear-env",
      "--",
      "systemctl",
      verb,
      "ssh.service",
    ]);
  }

  stopSshd(): void {
    this.ctSystemctl("stop");
  }

  startSshd(): void {
    this.ctSystemctl("start");
  }
}
