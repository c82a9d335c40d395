/**
 * The LXC's inputs on the paths the homelab stack does not take: a read-only bulk disk, a directory on the node's
 * own disk, a state mount outside the default parent, raw LXC lines, a static address, a VLAN, DNS, a pinned
 * template checksum, no root password, a node sshd on another port. Each is a value the program chooses from the
 * config and that guards data, access or the host; a one-line slip in any of them shows here.
 */
import { homelabWithSecrets } from "../helpers/stackFile";
import { MockRun, isSecretEnvelope, named, runProgram, unwrapSecrets } from "../helpers/mockProgram";

type Mutable = any;

function variant(): Mutable {
  const raw = homelabWithSecrets() as Mutable;
  const lxc = raw.lxcs.hermes;
  raw.proxmox.nodes.gihyeon.sshPort = 2222;
  lxc.stateMount = { hostPath: "/tank/hermes-state", containerPath: "/srv/hermes" };
  lxc.mounts = [
    { hostPath: "/mnt/pve/hdd/hermes", containerPath: "/data", readOnly: true },
    { hostPath: "/srv/hermes-scratch", containerPath: "/scratch", onSeparateDisk: false },
  ];
  lxc.rawConfig = { apparmorUnconfined: true, extraLines: ["lxc.cgroup2.devices.allow: c 10:200 rwm"] };
  lxc.network = {
    bridge: "vmbr1",
    ipv4: { address: "10.1.20.30/24", gateway: "10.1.20.1" },
    vlanId: 20,
    macAddress: "BC:24:11:00:00:01",
    firewall: true,
    dnsServers: ["10.1.20.2"],
    dnsDomain: "intra",
  };
  lxc.template = {
    url: "https://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst",
    checksum: "a".repeat(128),
  };
  delete raw.lxcSecrets;
  return raw;
}

const command = (run: MockRun, name: string) => unwrapSecrets(named(run, name).inputs.create) as string;

describe("an LXC off the homelab's paths", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runProgram(variant());
  });

  it("binds a read-only disk read-only, in the LXC and in the gateway", () => {
    const ct = named(run, "hermes-ct").inputs as Mutable;
    expect(ct.mountPoints).toEqual([
      { volume: "/tank/hermes-state", path: "/srv/hermes", backup: false },
      { volume: "/mnt/pve/hdd/hermes", path: "/data", readOnly: true, backup: false },
      { volume: "/srv/hermes-scratch", path: "/scratch", readOnly: false, backup: false },
    ]);
    const volumes = (named(run, "hermes-gateway").inputs as Mutable).volumes;
    expect(volumes).toContainEqual({
      hostPath: "/data",
      containerPath: "/opt/data/workspace/data",
      readOnly: true,
    });
    expect(volumes).toContainEqual({
      hostPath: "/scratch",
      containerPath: "/opt/data/workspace/scratch",
      readOnly: false,
    });
  });

  it("checks only the separate-disk mounts for a mounted filesystem, and creates no parent it does not own", () => {
    const cmd = command(run, "hermes-host-dirs");
    expect(cmd).toContain("OWNED_DIRS='/tank/hermes-state /mnt/pve/hdd/hermes /srv/hermes-scratch'");
    expect(cmd).toContain("SEPARATE_DISK_DIRS='/mnt/pve/hdd/hermes'");
    expect(cmd).toContain("ENSURE_PARENTS=''");
    expect(cmd).toContain("DIR_MODE='0750'");
  });

  it("reaches the node on its own sshd port, pinned", () => {
    for (const name of ["hermes-host-dirs", "hermes-raw-lxc-config", "hermes-ready"]) {
      expect(unwrapSecrets(named(run, name).inputs.connection)).toMatchObject({
        host: "gihyeon.intra",
        port: 2222,
        user: "root",
        hostKey: expect.stringMatching(/^ssh-ed25519 AAAA/),
      });
    }
  });

  it("writes the raw lines, AppArmor's first", () => {
    expect(command(run, "hermes-raw-lxc-config")).toContain(
      "RAW_LINES='lxc.apparmor.profile: unconfined\nlxc.cgroup2.devices.allow: c 10:200 rwm'",
    );
  });

  it("gives the container its static address, VLAN, MAC, firewall and DNS, and waits on that address", () => {
    const ct = named(run, "hermes-ct").inputs as Mutable;
    expect(ct.networkInterfaces).toEqual([
      { name: "eth0", bridge: "vmbr1", firewall: true, vlanId: 20, macAddress: "BC:24:11:00:00:01" },
    ]);
    expect(unwrapSecrets(ct.initialization)).toMatchObject({
      ipConfigs: [{ ipv4: { address: "10.1.20.30/24", gateway: "10.1.20.1" } }],
      dns: { servers: ["10.1.20.2"], domain: "intra" },
    });
    expect(command(run, "hermes-ready")).toContain("STATIC_IPV4='10.1.20.30'");
    expect(unwrapSecrets(named(run, "hermes-files").inputs.connection)).toMatchObject({ host: "10.1.20.30" });
  });

  it("sets no root password when the stack has none: keys only, and nothing secret in the initialization", () => {
    const ct = named(run, "hermes-ct").inputs as Mutable;
    expect(isSecretEnvelope(ct.initialization)).toBe(false);
    expect(ct.initialization.userAccount.password).toBeUndefined();
    expect(ct.initialization.userAccount.keys.length).toBeGreaterThan(0);
  });

  it("verifies the template download against the pinned checksum", () => {
    expect(named(run, "hermes-template").inputs).toMatchObject({
      checksum: "a".repeat(128),
      checksumAlgorithm: "sha512",
      overwrite: false,
    });
  });

  it("prints the node's ssh command with its port", () => {
    expect((run.outputs.agents as Mutable).hermes.snapshots.list).toMatch(
      /^ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=\S+ -o UserKnownHostsFile=\S+ -p 2222 root@gihyeon\.intra /,
    );
  });
});

describe("DNS servers without a search domain", () => {
  it("gives the container its servers and no domain", async () => {
    const raw = variant();
    delete raw.lxcs.hermes.network.dnsDomain;
    const run = await runProgram(raw);
    const init = unwrapSecrets(named(run, "hermes-ct").inputs.initialization) as Mutable;
    expect(init.dns).toEqual({ servers: ["10.1.20.2"] });
  });
});
