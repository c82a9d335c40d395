/** The rules of one LXC that span fields: its node, addressing, mount names, nesting and defaults. */
import { DNS_LABEL, ipv4InSubnet, isSameOrInside } from "../lib/validators";
import { Findings, checkUnique } from "./errors";
import { LxcConfig, LxcMountConfig, ParsedLxc } from "./lxc";
import { ProxmoxConfig } from "./proxmox";
import { resolveHa, sharedStorageOf } from "./haRules";
import { snapshotDirectory } from "./snapshots";

/** Default state directory on the node's local disk. */
export const defaultStateHostPath = (lxcName: string) => `/var/lib/hermes-lxc/${lxcName}`;

/** Resolves one LXC against the Proxmox nodes, reporting what does not fit together. */
export function resolveLxc(
  name: string,
  lxc: ParsedLxc,
  proxmox: ProxmoxConfig | undefined,
  { problems, warnings }: Findings,
): LxcConfig {
  const at = `lxcs.${name}`;
  const node = proxmox?.nodes[lxc.node];
  if (proxmox && !node) {
    const known = Object.keys(proxmox.nodes);
    problems.push(
      `${at}.node: is not a key of proxmox.nodes (known: ${known.length ? known.join(", ") : "none"})`,
    );
  }

  const net = lxc.network;
  if (net.ipv4 !== "dhcp" && !ipv4InSubnet(net.ipv4.gateway, net.ipv4.address)) {
    problems.push(`${at}.network.ipv4.gateway: is not inside the subnet of ${at}.network.ipv4.address`);
  }
  if (net.ipv4 !== "dhcp" && net.ipv4.address.split("/")[0] === net.ipv4.gateway) {
    problems.push(`${at}.network.ipv4.gateway: must differ from the container's own address`);
  }

  const mounts: LxcMountConfig[] = lxc.mounts.map((m) => ({
    name:
      m.name ??
      m.containerPath
        .split("/")
        .pop()!
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-"),
    hostPath: m.hostPath,
    containerPath: m.containerPath,
    readOnly: m.readOnly,
    onSeparateDisk: m.onSeparateDisk,
    shared: sharedStorageOf(m.hostPath, lxc.node, proxmox) !== undefined,
  }));
  mounts.forEach((m, i) => {
    if (!DNS_LABEL.test(m.name)) {
      problems.push(
        `${at}.mounts[${i}].name: the default name derived from containerPath is not a DNS label; set name`,
      );
    }
  });
  const stateHostPath = lxc.stateMount.hostPath ?? defaultStateHostPath(name);
  const stateMount = {
    hostPath: stateHostPath,
    containerPath: lxc.stateMount.containerPath,
    shared: sharedStorageOf(stateHostPath, lxc.node, proxmox) !== undefined,
  };

  // Every host path and every container path, including the state mount, must be distinct and not nested:
  // Proxmox would mount one over the other, and ownership preparation would apply twice.
  const hostEntries: Array<[string, string]> = [
    [stateMount.hostPath, `${at}.stateMount.hostPath`],
    ...mounts.map((m, i): [string, string] => [m.hostPath, `${at}.mounts[${i}].hostPath`]),
  ];
  const containerEntries: Array<[string, string]> = [
    [stateMount.containerPath, `${at}.stateMount.containerPath`],
    ...mounts.map((m, i): [string, string] => [m.containerPath, `${at}.mounts[${i}].containerPath`]),
  ];
  for (const entries of [hostEntries, containerEntries]) {
    for (let i = 0; i < entries.length; i++) {
      for (let j = 0; j < i; j++) {
        const [a, whereA] = entries[i];
        const [b, whereB] = entries[j];
        if (a === b) problems.push(`${whereA}: duplicates ${whereB}`);
        else if (isSameOrInside(a, b) || isSameOrInside(b, a)) {
          problems.push(`${whereA}: is nested with ${whereB}; mounts must not contain one another`);
        }
      }
    }
  }
  checkUnique(
    mounts.map((m, i) => [m.name, `${at}.mounts[${i}].name`]),
    "has the same name as",
    problems,
  );

  if ("url" in lxc.template && !lxc.template.checksum) {
    warnings.push(
      `${at}.template.checksum is not set: the template download is verified by TLS only. On the node, ` +
        "`pveam update`, then read the sha512sum line of this file's entry in " +
        "/var/lib/pve-manager/apl-info/download.proxmox.com, and set the URL with it: " +
        `pulumi config set --path '${at}.template.url' ${lxc.template.url} && ` +
        `pulumi config set --path '${at}.template.checksum' <sha512sum>`,
    );
  }
  if (lxc.rawConfig.apparmorUnconfined) {
    warnings.push(
      `${at}.rawConfig.apparmorUnconfined is on: the container runs without AppArmor confinement.`,
    );
  }
  const template: LxcConfig["template"] =
    "fileId" in lxc.template
      ? { kind: "existing", fileId: lxc.template.fileId }
      : { kind: "download", ...lxc.template, fileName: lxc.template.url.split("/").pop()! };

  const ha =
    lxc.ha &&
    resolveHa(
      {
        name,
        node: lxc.node,
        vmId: lxc.vmId,
        protect: lxc.protect,
        rootfsDatastore: lxc.rootfs.datastore,
        hostPaths: [
          [stateMount.hostPath, `${at}.stateMount.hostPath`],
          ...mounts.map((m, i): [string, string] => [m.hostPath, `${at}.mounts[${i}].hostPath`]),
        ],
        snapshotsDirectory: snapshotDirectory(name, lxc.snapshots),
      },
      lxc.ha,
      proxmox,
      { problems, warnings },
    );

  return {
    ...lxc,
    ha,
    name,
    hostname: lxc.hostname ?? name,
    template,
    stateMount,
    mounts,
    nodeAddress: node?.address ?? "",
    nodeSshPort: node?.sshPort ?? 22,
    nodeHostKey: node?.hostKey ?? "",
  };
}
