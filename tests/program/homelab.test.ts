/**
 * The resource graph of the example stack and of a two-LXC stack, under Pulumi mocks: types and counts, the
 * container's inputs, the host preparation owner, pinned SSH everywhere, and no secret outside a secret value.
 */
import * as fs from "node:fs";
import { CANARY, homelabWithSecrets, loadStackFile, twoNodeStack } from "../helpers/stackFile";
import {
  CONTAINER_HOST_KEY,
  HEALTH_REASON,
  MockRun,
  T,
  isSecretEnvelope,
  named,
  ofType,
  runProgram,
  unwrapSecrets,
  withoutSecrets,
} from "../helpers/mockProgram";

type Mutable = any;

function countByType(run: MockRun): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

function command(run: MockRun, name: string): string {
  return unwrapSecrets(named(run, name).inputs.create) as string;
}

describe("the homelab stack", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runProgram(homelabWithSecrets());
  });

  it("registers exactly the expected resources", () => {
    expect(countByType(run)).toEqual({
      [T.proxmoxProvider]: 1,
      [T.hermesLxc]: 1,
      [T.template]: 1,
      [T.container]: 1,
      // host-dirs, raw-lxc-config, ready, install-docker, files, config-migration, health, snapshots-install,
      // pre-change-snapshot, prune-images
      [T.command]: 10,
      [T.agentSnapshots]: 1,
      [T.dockerEngine]: 1,
      [T.dockerProvider]: 1,
      [T.gateway]: 1,
      [T.remoteImage]: 1,
      [T.dockerContainer]: 1,
    });
    expect(
      ofType(run, T.command)
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "hermes-config-migration",
      "hermes-docker-install-docker",
      "hermes-files",
      "hermes-health",
      "hermes-host-dirs",
      "hermes-pre-change-snapshot",
      "hermes-prune-images",
      "hermes-raw-lxc-config",
      "hermes-ready",
      "hermes-snapshots-install",
    ]);
  });

  it("creates an unprivileged container with nesting and keyctl, as the design spec sizes it", () => {
    const ct = named(run, "hermes-ct").inputs as Mutable;
    expect(ct).toMatchObject({
      nodeName: "gihyeon",
      vmId: 118,
      unprivileged: true,
      features: { nesting: true, keyctl: true },
      cpu: { cores: 2 },
      memory: { dedicated: 4096, swap: 512 },
      disk: { datastoreId: "local-lvm", size: 24 },
      networkInterfaces: [{ name: "eth0", bridge: "intra01", firewall: false }],
      startOnBoot: true,
      started: true,
      protection: true,
      tags: ["ai", "agent", "pulumi"],
      operatingSystem: { templateFileId: "hermes-template-id", type: "debian" },
    });
    // The root password is set, so the whole initialization block travels as a secret.
    expect(isSecretEnvelope(ct.initialization)).toBe(true);
    const init = unwrapSecrets(ct.initialization) as Mutable;
    expect(init).toMatchObject({ hostname: "hermes", ipConfigs: [{ ipv4: { address: "dhcp" } }] });
    // No DNS configured: no dns block (the container takes the node's resolver settings).
    expect(init).not.toHaveProperty("dns");
    expect(init.userAccount.keys[0]).toMatch(/^ssh-ed25519 /);
    expect(init.userAccount.password).toBe(CANARY.rootPassword);
    expect(ct.mountPoints).toEqual([
      { volume: "/var/lib/hermes-lxc/hermes", path: "/srv/hermes", backup: false },
      { volume: "/mnt/pve/hdd/hermes", path: "/data", readOnly: false, backup: false },
      { volume: "/media/2tb/hermes", path: "/fast", readOnly: false, backup: false },
    ]);
  });

  it("downloads the template once and keeps it", () => {
    expect(named(run, "hermes-template").inputs).toMatchObject({
      contentType: "vztmpl",
      datastoreId: "local",
      nodeName: "gihyeon",
      overwrite: false,
      fileName: "debian-12-standard_12.12-1_amd64.tar.zst",
    });
  });

  it("prepares the host directories owned by the id-mapped gateway uid, before the container", () => {
    const cmd = command(run, "hermes-host-dirs");
    expect(cmd).toContain("OWNER_UID='110000'");
    expect(cmd).toContain("OWNER_GID='110000'");
    expect(cmd).toContain("DIR_MODE='0750'");
    expect(cmd).toContain("OWNED_DIRS='/var/lib/hermes-lxc/hermes /mnt/pve/hdd/hermes /media/2tb/hermes'");
    expect(cmd).toContain("ENSURE_PARENTS='/var/lib/hermes-lxc'");
    // The bulk disks must really be mounted; the state directory lives on the node's own disk.
    expect(cmd).toContain("SEPARATE_DISK_DIRS='/mnt/pve/hdd/hermes /media/2tb/hermes'");
    expect(named(run, "hermes-host-dirs").inputs.delete).toBeUndefined();
  });

  it("pins a host key on every SSH connection", () => {
    for (const cmd of ofType(run, T.command)) {
      const connection = unwrapSecrets(cmd.inputs.connection) as Mutable;
      expect({ name: cmd.name, hostKey: connection.hostKey }).toEqual({
        name: cmd.name,
        hostKey: expect.stringMatching(/^ssh-ed25519 AAAA/),
      });
    }
    const node = unwrapSecrets(named(run, "hermes-host-dirs").inputs.connection) as Mutable;
    expect(node).toMatchObject({ host: "gihyeon.intra", port: 22, user: "root" });
    const intoLxc = unwrapSecrets(named(run, "hermes-files").inputs.connection) as Mutable;
    // The container's key as the node read it, not anything from the stack.
    expect(intoLxc).toMatchObject({ host: "10.1.10.57", user: "root", hostKey: CONTAINER_HOST_KEY });
  });

  it("points the nested Docker provider at a pinned known_hosts file, strictly", () => {
    const provider = named(run, "hermes-docker-docker").inputs as Mutable;
    expect(provider.host).toBe("ssh://root@10.1.10.57:22");
    const opts: string[] = JSON.parse(provider.sshOpts);
    expect(opts).toEqual(
      expect.arrayContaining([
        "StrictHostKeyChecking=yes",
        "HostKeyAlias=hermes-lxc.hermes-lxc.homelab.hermes",
      ]),
    );
    const knownHosts = opts.find((o) => o.startsWith("UserKnownHostsFile="))!.split("=")[1];
    expect(fs.readFileSync(knownHosts, "utf8")).toBe(
      `hermes-lxc.hermes-lxc.homelab.hermes ${CONTAINER_HOST_KEY}\n`,
    );
    expect(opts.join(" ")).not.toMatch(/StrictHostKeyChecking=(no|accept-new)/);
  });

  it("waits for readiness through the node, with DHCP", () => {
    const cmd = command(run, "hermes-ready");
    expect(cmd).toContain("VMID='118'");
    expect(cmd).toContain("STATIC_IPV4=''");
    expect(cmd).toContain("TIMEOUT_SECONDS='300'");
    expect(run.outputs.containers).toMatchObject({
      hermes: {
        vmId: 118,
        node: "gihyeon",
        address: "10.1.10.57",
        hostKeyFingerprint: expect.stringMatching(/^SHA256:/),
        mounts: [
          {
            hostPath: "/var/lib/hermes-lxc/hermes",
            containerPath: "/srv/hermes",
            hostOwner: "110000:110000",
          },
          { hostPath: "/mnt/pve/hdd/hermes", containerPath: "/data", hostOwner: "110000:110000" },
          { hostPath: "/media/2tb/hermes", containerPath: "/fast", hostOwner: "110000:110000" },
        ],
      },
    });
    expect((run.outputs.containers as Mutable).hermes.sshCommand).toMatch(
      /^ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=\S+ -o UserKnownHostsFile=\S+ root@10\.1\.10\.57$/,
    );
  });

  it("applies raw LXC settings through the node; none by default", () => {
    expect(command(run, "hermes-raw-lxc-config")).toContain("RAW_LINES=''");
  });

  it("installs Docker from Docker's repository with pinned versions", () => {
    const cmd = command(run, "hermes-docker-install-docker");
    expect(cmd).toContain("DOCKER_SOURCE='docker-ce'");
    expect(cmd).toMatch(/DOCKER_CE_VERSION='5:\S+'/);
    expect(cmd).toMatch(/CONTAINERD_VERSION='1\.7\.\S+'/);
    expect(cmd).toContain("EXTRA_PACKAGES='python3 python3-yaml'");
  });

  it("runs the gateway as the design says: gateway run, HERMES_UID, nothing published", () => {
    const c = named(run, "hermes-ct").inputs as Mutable;
    const container = named(run, "hermes-gateway").inputs as Mutable;
    expect(container).toMatchObject({
      name: "hermes-hermes",
      image: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      command: ["gateway", "run"],
      envs: [
        "HERMES_UID=10000",
        "HERMES_GID=10000",
        "HERMES_MANAGED=hermes-lxc",
        "HERMES_SKIP_CONFIG_MIGRATION=1",
      ],
      restart: "unless-stopped",
      memory: 3072,
      // What the docker provider reads back, so a no-op `pulumi up` sees no change (components/lib/dockerCpus.ts).
      memorySwap: 3072,
      cpus: "2.0",
      shmSize: 1024,
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
      removeVolumes: false,
    });
    expect(container.user).toBeUndefined();
    expect(container.ports ?? []).toEqual([]);
    expect(container.volumes).toEqual([
      { hostPath: "/srv/hermes/hermes", containerPath: "/opt/data", readOnly: false },
      { hostPath: "/data", containerPath: "/opt/data/workspace/data", readOnly: false },
      { hostPath: "/fast", containerPath: "/opt/data/workspace/fast", readOnly: false },
    ]);
    expect(named(run, "hermes-image").inputs).toMatchObject({
      name: "nousresearch/hermes-agent:v2026.9.14@sha256:99641e57ec762c59e54cb44aa6746b7fc68c18b3c5ddb088af54234c613d9294",
      keepLocally: true,
    });
    expect(c.vmId).toBe(118);
    expect(run.outputs.agents).toEqual({
      hermes: {
        containerName: "hermes-hermes",
        hostDataPath: "/var/lib/hermes-lxc/hermes/hermes",
        // The health gate's line, without its `healthy <container>: ` prefix and its newline.
        health: HEALTH_REASON,
        shell: expect.stringMatching(
          /^ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=\S+ -o UserKnownHostsFile=\S+ root@10\.1\.10\.57$/,
        ),
        pairing: {
          telegram: expect.stringMatching(
            /^ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=\S+ -o UserKnownHostsFile=\S+ root@10\.1\.10\.57 hermes --agent hermes pairing approve telegram CODE$/,
          ),
        },
        logs: expect.stringMatching(
          /^ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=\S+ -o UserKnownHostsFile=\S+ root@10\.1\.10\.57 docker logs --tail 100 -f hermes-hermes$/,
        ),
        // The mocks' RemoteImage has no repoDigest: the image id stands in.
        image: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        apiServerUrl: undefined,
        dashboardTunnel: undefined,
        // On the node (outside the LXC), through the node's pinned key.
        snapshots: {
          directory: "/var/lib/hermes-lxc-snapshots/hermes/hermes",
          schedule: "daily; keep 7, at most 30 days",
          list: expect.stringMatching(
            /^ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=hermes-lxc\.hermes-lxc\.homelab\.node-gihyeon -o UserKnownHostsFile=\S+ root@gihyeon\.intra \/usr\/local\/sbin\/hermes-lxc-restore hermes-hermes 'list'$/,
          ),
          restoreLatest: expect.stringMatching(
            /^ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=\S+ -o UserKnownHostsFile=\S+ root@gihyeon\.intra \/usr\/local\/sbin\/hermes-lxc-restore hermes-hermes 'latest'$/,
          ),
          snapshotNow: expect.stringMatching(
            /^ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=\S+ -o UserKnownHostsFile=\S+ root@gihyeon\.intra \/usr\/local\/sbin\/hermes-lxc-snapshot hermes-hermes manual$/,
          ),
          eraseAfterDestroy: expect.stringMatching(
            /^ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=\S+ -o UserKnownHostsFile=\S+ root@gihyeon\.intra '.*rm -rf --one-file-system -- .*\/var\/lib\/hermes-lxc\/hermes\/hermes.*\/var\/lib\/hermes-lxc-snapshots\/hermes\/hermes.*'$/,
          ),
        },
      },
    });
  });

  it("sends the agent's secrets on stdin only, as a secret", () => {
    const files = named(run, "hermes-files");
    expect(isSecretEnvelope(files.inputs.stdin)).toBe(true);
    expect(files.inputs.logging).toBe("none");
    const payload = unwrapSecrets(files.inputs.stdin) as string;
    const dotEnv = payload
      .split("\n")
      .filter((l) => l.startsWith("file .env "))
      .map((l) => Buffer.from(l.split(" ")[4], "base64").toString("utf8"))[0];
    expect(dotEnv).toContain(`LITELLM_API_KEY=${CANARY.llmApiKey}\n`);
    expect(dotEnv).toContain(`TELEGRAM_BOT_TOKEN=${CANARY.telegramBotToken}\n`);
    expect(dotEnv).toContain(`GITHUB_TOKEN=${CANARY.extraEnv}\n`);
    // The command itself carries no secret.
    expect(command(run, "hermes-files")).not.toContain("CANARY");
  });

  it("never puts a secret into a non-secret input of any resource", () => {
    const canaries = [...Object.values(CANARY), run.privateKey.trim().split("\n")[1]];
    const plaintext = JSON.stringify(
      run.resources.map((r) => ({ name: r.name, inputs: withoutSecrets(r.inputs) })),
    );
    for (const canary of canaries)
      expect({ canary, found: plaintext.includes(canary) }).toEqual({ canary, found: false });
    // And the secrets do reach the resources that need them (as secrets), so the scan above is meaningful.
    const all = JSON.stringify(run.resources.map((r) => unwrapSecrets(r.inputs)));
    expect(all).toContain(CANARY.proxmoxPassword);
    expect(all).toContain(run.privateKey.trim().split("\n")[1]);
  });

  it("passes the Proxmox password only as a secret, with root@pam", () => {
    const provider = named(run, "proxmox").inputs as Mutable;
    expect(provider.username).toBe("root@pam");
    expect(provider.endpoint).toBe("https://gihyeon.intra:8006/");
    expect(provider.apiToken).toBeUndefined();
  });
});

describe("a two-LXC stack (one per node)", () => {
  it("doubles the container layer and keeps names apart", async () => {
    const run = await runProgram(twoNodeStack());
    const counts = countByType(run);
    expect(counts).toMatchObject({
      [T.hermesLxc]: 2,
      [T.container]: 2,
      [T.template]: 2,
      [T.dockerProvider]: 2,
      [T.gateway]: 2,
      [T.dockerContainer]: 2,
      [T.proxmoxProvider]: 1,
    });
    expect(counts[T.command]).toBe(20);
    const cts = ofType(run, T.container)
      .map((r) => [r.name, (r.inputs as Mutable).nodeName, (r.inputs as Mutable).vmId])
      .sort();
    expect(cts).toEqual([
      ["hermes-ct", "gihyeon", 118],
      ["hermes2-ct", "pve2", 119],
    ]);
    expect(unwrapSecrets(named(run, "hermes2-host-dirs").inputs.connection)).toMatchObject({
      host: "10.1.10.3",
    });
    expect(named(run, "second-gateway").inputs).toMatchObject({ name: "hermes-second" });
    expect(named(run, "second-files").inputs.connection).toBeDefined();
  });
});

describe("bad configuration", () => {
  it("fails before any resource is registered", async () => {
    const raw = homelabWithSecrets() as Mutable;
    raw.lxcs.hermes.mounts[0].hostPath = "/";
    let error: Error | undefined;
    let run: MockRun | undefined;
    try {
      run = await runProgram(raw);
    } catch (e) {
      error = e as Error;
    }
    expect(run).toBeUndefined();
    expect(error?.message).toMatch(/lxcs\.hermes\.mounts\[0\]\.hostPath: must not be \//);
  });

  // Every rule runs before the first resource: secrets are read synchronously, validated, then wrapped as secrets.
  it.each([
    [
      "a token with U+2028",
      (r: Mutable) => (r.agentSecrets.hermes.telegramBotToken = "123456:TOKEN\u2028x"),
      "agentSecrets.hermes.telegramBotToken",
    ],
    [
      "a secret variable with ${",
      (r: Mutable) => (r.agentSecrets.hermes.env = { GH_PAT: "a${HOME}" }),
      "agentSecrets.hermes.env.GH_PAT",
    ],
    [
      "a quoted secret ending in a backslash",
      (r: Mutable) => (r.agentSecrets.hermes.llmApiKey = "a b\\"),
      "agentSecrets.hermes.llmApiKey",
    ],
    [
      "a literal settings.model.api_key",
      (r: Mutable) => (r.agents.hermes.settings = { model: { api_key: "sk-TOKEN" } }),
      "agents.hermes.settings.model.api_key",
    ],
    [
      "an llm.apiKeyEnv the program writes",
      (r: Mutable) => (r.agents.hermes.llm.apiKeyEnv = "TELEGRAM_BOT_TOKEN"),
      "agents.hermes.llm.apiKeyEnv",
    ],
    [
      "an API token as user",
      (r: Mutable) => (r.proxmox.username = "root@pam!ci=TOKEN-0b9f1c2e"),
      "proxmox.username",
    ],
    [
      "NUL in a description",
      (r: Mutable) => (r.lxcs.hermes.description = "a\u0000TOKEN"),
      "lxcs.hermes.description",
    ],
    [
      "a raw line past its bound",
      (r: Mutable) => (r.lxcs.hermes.rawConfig = { extraLines: [`lxc.x: ${"v".repeat(2000)}TOKEN`] }),
      "lxcs.hermes.rawConfig.extraLines[0]",
    ],
    [
      "a misspelled top-level key",
      (r: Mutable) => (r.lxcSecret = { hermes: { rootPassword: "TOKEN-pw-123" } }),
      "lxcSecret",
    ],
  ])(
    "refuses %s before any resource, with its key path and without its value",
    async (_what, edit, keyPath) => {
      const raw = homelabWithSecrets() as Mutable;
      edit(raw);
      const error = await runProgram(raw).then(
        () => undefined,
        (e: Error & { registeredResources?: number }) => e,
      );
      expect({
        registered: error?.registeredResources,
        names: error?.message.includes(`${keyPath}`),
      }).toEqual({
        registered: 0,
        names: true,
      });
      expect(error?.message).not.toContain("TOKEN");
    },
  );

  it("stops at the example stack's placeholders, naming each with what to run", async () => {
    const raw = loadStackFile("example") as Mutable;
    raw.proxmoxPassword = "pw";
    raw.agentSecrets = { hermes: { llmApiKey: "k", telegramBotToken: "123456:token" } };
    await expect(runProgram(raw)).rejects.toThrow(
      /nothing was deployed[\s\S]*proxmox\.nodes\.pve\.hostKey: is the example's placeholder[\s\S]*cat \/etc\/ssh\/ssh_host_ed25519_key\.pub/,
    );
  });

  it("names ssh.privateKeyPath when the key file cannot be read", async () => {
    await expect(
      runProgram(homelabWithSecrets(), { privateKeyPath: "/nonexistent/id_ed25519" }),
    ).rejects.toThrow(/ssh\.privateKeyPath: cannot read \/nonexistent\/id_ed25519: ENOENT/);
  });

  it("previews a stack that does not exist yet: unknown readiness output, same graph, nothing written", async () => {
    const preview = await runProgram(homelabWithSecrets(), { preview: true, resolveOutputs: false });
    expect(countByType(preview)).toEqual(countByType(await runProgram(homelabWithSecrets())));
    const provider = named(preview, "hermes-docker-docker").inputs as Mutable;
    // The container's host key is unknown before it exists, so no known_hosts entry can be pinned yet.
    expect(provider.sshOpts).toEqual({ __pulumiUnknown: true });
  });
});
