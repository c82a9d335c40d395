/**
 * Where the chaos trials deploy to, and how they break the link to it. Everything a trial needs from the world goes
 * through a ChaosTarget, so that pointing the trials at another path (an LXC through the Proxmox API double) means
 * writing one more implementation of this interface, not touching the trials.
 *
 * DockerHostTarget: the `dockerHosts` path, the system tier's CT used as an existing Docker host over SSH.
 * LxcTarget (lxcTarget.ts): the `lxcs` path, an LXC created through the Proxmox API double on real LXC.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { RUNTIME, ensureStandinImage, systemEnv } from "../system/harness";
import type { Fault } from "./planner";

/** One agent of a chaos stack. */
export interface ChaosAgent {
  name: string;
  imageTag: string;
  memoryMb: number;
}

/** The faults that break a link (everything but SIGKILL). */
export type LinkFault = Exclude<Fault, "sigkill">;

export interface ChaosTarget {
  /** One line for the report: which path is under test. */
  readonly label: string;
  /** The table's path column. */
  readonly path: "dockerHosts" | "lxcs";
  /** The image repository the stack's agents run (the gateway's image is `<imageRepo>:<imageTag>`). */
  readonly imageRepo: string;
  /** Brings up what the path needs besides the system tier's world (the double, the registry), images included. */
  setUp(): Promise<void>;
  /** Ends what setUp started (whatever the stack left is the caller's). */
  tearDown(): Promise<void>;
  /** Secrets the stack needs besides the agents' (config key -> value), set with `pulumi config set --secret`. */
  extraSecrets(): Record<string, string>;
  /** The stack file for these agents (secrets are set with `pulumi config set --secret`, not here). */
  stackFile(agents: ChaosAgent[], knownHostsDir: string): string;
  /** The agent's /opt/data as this machine sees it (for digests and the secret scan). */
  hostDataDir(agent: string): string;
  /** The bulk directory the agents share, as this machine sees it. */
  bulkDir(): string;
  /** The agent's snapshot directory, on the machine that takes them (read with snapshotSh()). */
  snapshotsDir(agent: string): string;
  /** A shell command where the snapshots are (the Docker host, or the Proxmox node for an LXC); trimmed stdout. */
  snapshotSh(command: string): Promise<string>;
  /** `ssh ... root@<docker host>` with the pinned host key, for the README lines that say `ssh root@<docker host>`. */
  sshCommand(): string;
  /** A shell command on the Docker host; trimmed stdout. */
  sh(command: string): Promise<string>;
  /** Makes a stand-in tag whose config schema is `schema` available to the Docker host; returns the tag. */
  upgradeTag(schema: number): Promise<string>;
  /** Proxmox locks (`lock:` in the CT's config) left on the path's CTs: none for a Docker host. */
  proxmoxLocks(): string[];
  /**
   * Breaks a link until mend(fault): `link-drop` drops every packet between this machine and the Docker host,
   * `sshd-stop` stops the Docker host's sshd (new connections refused; open sessions stay), `api-drop` drops every
   * packet to the Proxmox API and the node's sshd.
   */
  breakLink(fault: LinkFault): void;
  mend(fault: LinkFault): void;
}

/** iptables rules inserted first and recorded like env-up.sh's own, so env-down.sh removes them after a crash. */
export function insertDropRules(rules: string[][]): void {
  for (const [table, chain, ...rule] of rules) {
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

export function deleteDropRules(rules: string[][]): void {
  for (const [table, chain, ...rule] of rules) {
    execFileSync("bash", [
      "-c",
      `while iptables -t ${table} -D ${chain} ${rule.join(" ")} -m comment --comment hermes-systest 2>/dev/null; do :; done`,
    ]);
  }
}

/** Every packet between this machine and `address` on the world's bridge. */
export const bridgeDropRules = (address: string): string[][] => [
  ["filter", "OUTPUT", "-o", BRIDGE, "-d", address, "-j", "DROP"],
  ["filter", "INPUT", "-i", BRIDGE, "-s", address, "-j", "DROP"],
];

/** The system tier's world variables (tests/system/common.sh), so the fault follows SYSTEST_BRIDGE like the rest. */
const BRIDGE = process.env.SYSTEST_BRIDGE ?? "hsysbr0";

export class DockerHostTarget implements ChaosTarget {
  readonly label = "dockerHosts: the system tier's CT as an existing Docker host";
  readonly path = "dockerHosts";
  readonly imageRepo = "hermes-standin";

  async setUp(): Promise<void> {
    await ensureStandinImage();
  }

  async tearDown(): Promise<void> {}

  extraSecrets(): Record<string, string> {
    return {};
  }

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

  snapshotSh(command: string): Promise<string> {
    return this.sh(command);
  }

  async upgradeTag(schema: number): Promise<string> {
    const tag = `u${schema}`;
    await this.sh(buildStandinTag(schema, tag));
    return tag;
  }

  proxmoxLocks(): string[] {
    return [];
  }

  breakLink(fault: LinkFault): void {
    if (fault === "link-drop") insertDropRules(bridgeDropRules(systemEnv().file.ct.host));
    else if (fault === "sshd-stop") this.ctSystemctl("stop");
    else throw new Error(`${fault}: there is no Proxmox API on the dockerHosts path`);
  }

  mend(fault: LinkFault): void {
    if (fault === "link-drop") deleteDropRules(bridgeDropRules(systemEnv().file.ct.host));
    else if (fault === "sshd-stop") this.ctSystemctl("start");
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
}

/** The shell command (in the system tier's CT, where /root/standin is) that builds a stand-in tag of `schema`. */
export const buildStandinTag = (schema: number, tag: string): string =>
  `DOCKER_BUILDKIT=0 docker build -q --build-arg HERMES_STANDIN_CONFIG_VERSION=${schema} ` +
  `--build-arg HERMES_STANDIN_BROKEN=0 -t hermes-standin:${tag} /root/standin >/dev/null`;
