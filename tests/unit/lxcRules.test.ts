/**
 * lxcRules.ts and snapshotRules.ts, branch by branch: the survivors and uncovered mutants of the first Stryker run over
 * them (README, Benchmarks), each test naming the mutant it kills.
 */
import { parseStackConfig } from "../../components/config/stack";
import { problemsOf } from "../helpers/configProblems";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

const opts = { readFile: readProjectFile };

describe("lxcRules", () => {
  // Kills: the whole check made true or `===` made `!==` (then every static address is refused or none), the split
  // on "/" emptied, the block emptied (no test reached it before).
  it("refuses a gateway equal to the container's own address, and only that", () => {
    const net = (address: string, gateway: string) => (r: any) =>
      (r.lxcs.hermes.network.ipv4 = { address, gateway });
    expect(problemsOf(net("10.1.10.20/24", "10.1.10.20"))).toEqual([
      "lxcs.hermes.network.ipv4.gateway: must differ from the container's own address",
    ]);
    expect(problemsOf(net("10.1.10.20/24", "10.1.10.1"))).toEqual([]);
  });

  // Kills: the DNS-label check made false or its block emptied; the replacement of other characters emptied.
  it("refuses a default mount name that is not a DNS label, and makes one from other characters", () => {
    expect(problemsOf((r) => (r.lxcs.hermes.mounts[0].containerPath = "/-data"))).toEqual([
      "lxcs.hermes.mounts[0].name: the default name derived from containerPath is not a DNS label; set name",
    ]);
    const raw = homelabWithSecrets() as any;
    raw.lxcs.hermes.mounts[0].containerPath = "/My_Data";
    expect(parseStackConfig(raw, opts).config.lxcs[0].mounts[0].name).toBe("my-data");
  });

  // Kills: the message's key path and its words emptied.
  it("names both mounts that share a name", () => {
    const p = problemsOf((r) => (r.lxcs.hermes.mounts[1].name = r.lxcs.hermes.mounts[0].name = "disk"));
    expect(p).toContain("lxcs.hermes.mounts[1].name: has the same name as lxcs.hermes.mounts[0].name");
  });

  // Kills: the separator of the known nodes emptied.
  it("lists the known nodes when lxcs.<n>.node is not one of them", () => {
    expect(
      problemsOf((r) => {
        r.proxmox.nodes.pve2 = { ...r.proxmox.nodes.gihyeon, address: "10.1.10.3" };
        r.lxcs.hermes.node = "pve9";
      }),
    ).toEqual(["lxcs.hermes.node: is not a key of proxmox.nodes (known: gihyeon, pve2)"]);
    // Kills: "none" emptied (no test had a cluster without nodes).
    expect(problemsOf((r) => (r.proxmox.nodes = {}))).toContain(
      "lxcs.hermes.node: is not a key of proxmox.nodes (known: none)",
    );
  });

  // Kills: the apparmor condition made true or false (the warning always or never).
  it("warns about apparmorUnconfined only when it is on", () => {
    const warnings = (on: boolean) => {
      const raw = homelabWithSecrets() as any;
      raw.lxcs.hermes.rawConfig = { apparmorUnconfined: on };
      return parseStackConfig(raw, opts).warnings.filter((w) => w.includes("apparmor"));
    };
    expect(warnings(true)).toEqual([
      "lxcs.hermes.rawConfig.apparmorUnconfined is on: the container runs without AppArmor confinement.",
    ]);
    expect(warnings(false)).toEqual([]);
  });

  // Kills: the instructions in the checksum warning emptied; the file name split on "" (its last character).
  it("an unpinned template: the warning says how to pin it; the file name is the URL's last segment", () => {
    const { config, warnings } = parseStackConfig(homelabWithSecrets(), opts);
    const url = "https://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst";
    expect(warnings).toContain(
      "lxcs.hermes.template.checksum is not set: the template download is verified by TLS only. On the node, " +
        "`pveam update`, then read the sha512sum line of this file's entry in " +
        "/var/lib/pve-manager/apl-info/download.proxmox.com, and set the URL with it: " +
        `pulumi config set --path 'lxcs.hermes.template.url' ${url} && ` +
        "pulumi config set --path 'lxcs.hermes.template.checksum' <sha512sum>",
    );
    expect(config.lxcs[0].template).toMatchObject({
      kind: "download",
      fileName: "debian-12-standard_12.12-1_amd64.tar.zst",
    });
  });
});

describe("snapshotRules: a Docker host's scope", () => {
  // Kills: the agents filter dropped or made true (a mount of an agent on another host would count here).
  it("counts only the workspace mounts of agents on that host", () => {
    const p = problemsOf((r) => {
      const hostKey = r.proxmox.nodes.gihyeon.hostKey;
      r.dockerHosts = {
        box: { address: "192.0.2.10", hostKey, dataRoot: "/srv/agents" },
        box2: { address: "192.0.2.11", hostKey, dataRoot: "/srv/agents", snapshots: { directory: "/tank" } },
      };
      r.agents.other = { dockerHost: "box", workspaceMounts: [{ source: "/tank/shared" }] };
    });
    expect(p).toEqual([]);
  });
});
