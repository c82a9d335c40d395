/**
 * The provider's recorded request sequences, from ../../../../shared/reference/proxmox-api.md §3 and §4 (probe
 * runs B1-B16, provider bpg/terraform-provider-proxmox v0.111.1 through pulumi-proxmoxve 8.6.0). `{node}`,
 * `{vmid}`, `{upid}` and `{bind0..2}`, `{url}` are filled in by the test; bodies are as observed, with the
 * homelab's host paths swapped for the test's directories.
 */
export interface Step {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  params?: Record<string, string>;
  /** HTTP status the provider must get. */
  status: number;
  /** Text the provider must find (status line / message). */
  reason?: string;
  /** This step returns a UPID: the test polls it, as the provider does, and expects this exitstatus. */
  task?: string;
  /** Where the doc records this step. */
  source: string;
}

/** §3.4: ContainerLegacy create body (observed A2, A3, B1). */
export function createBody(vmid: number, binds: string[], hostManaged: boolean): Record<string, string> {
  return {
    arch: "amd64",
    cmode: "tty",
    console: "1",
    cores: "2",
    cpulimit: "0",
    tty: "2",
    template: "0",
    unprivileged: "1",
    vmid: String(vmid),
    description: "hermes-agent gateway (managed by Pulumi: hermes-lxc)",
    features: "keyctl=1,nesting=1",
    hostname: "hermes",
    memory: "4096",
    swap: "512",
    onboot: "1",
    protection: "1",
    start: "1",
    ostype: "debian",
    mp0: `mp=/srv/hermes,volume=${binds[0]}`,
    mp1: `mp=/data,volume=${binds[1]}`,
    mp2: `mp=/fast,volume=${binds[2]}`,
    net0: hostManaged
      ? "bridge=intra01,host-managed=0,ip=dhcp,name=eth0"
      : "bridge=intra01,ip=dhcp,name=eth0",
    ostemplate: "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst",
    rootfs: "volume=local-lvm:24",
    storage: "local-lvm",
    "ssh-public-keys":
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmTXG0d3hNNpkpzeZdoBqpGvZQqBzYPBVPVBqG9Xy8Q operator@laptop",
    tags: "agent;ai;pulumi",
  };
}

/** §3.3: download.File create (B1), then its refresh read (§3.3 Read). */
export const DOWNLOAD_CREATE: Step[] = [
  { method: "POST", path: "/access/ticket", status: 200, source: "§2 login" },
  {
    method: "GET",
    path: "/nodes/{node}/query-url-metadata",
    params: { url: "{url}", "verify-certificates": "1" },
    status: 200,
    source: "§3.3 B1",
  },
  {
    method: "POST",
    path: "/nodes/{node}/storage/local/download-url",
    params: {
      content: "vztmpl",
      filename: "debian-12-standard_12.12-1_amd64.tar.zst",
      node: "{node}",
      storage: "local",
      url: "{url}",
      "verify-certificates": "1",
    },
    status: 200,
    task: "OK",
    source: "§3.3 B1",
  },
  {
    method: "GET",
    path: "/nodes/{node}/storage/local/content",
    params: { content: "vztmpl" },
    status: 200,
    source: "§3.3 B1",
  },
];

/** §3.4: ContainerLegacy create (B1). The create body is createBody(). */
export const CT_CREATE: Step[] = [
  { method: "GET", path: "/version", status: 200, source: "§3.4 B1" },
  { method: "POST", path: "/nodes/{node}/lxc", status: 200, task: "OK", source: "§3.4 B1" },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.4 unlock wait" },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.4 start check" },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/config", status: 200, source: "§3.4 containerRead" },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.4 read" },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/interfaces", status: 200, source: "§3.4 read" },
];

/** §3.5: refresh (B3 after the fix, B9c). */
export const REFRESH: Step[] = [
  {
    method: "GET",
    path: "/nodes/{node}/storage/local/content",
    params: { content: "vztmpl" },
    status: 200,
    source: "§3.3 Read",
  },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/config", status: 200, source: "§3.5" },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.5" },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/interfaces", status: 200, source: "§3.5" },
];

/** §3.6: in-place update with a reboot (B7). */
export const UPDATE_REBOOT: Step[] = [
  {
    method: "PUT",
    path: "/nodes/{node}/lxc/{vmid}/config",
    params: {
      arch: "amd64",
      cores: "3",
      delete: "cpulimit",
      description: "hermes-agent gateway (managed by Pulumi: hermes-lxc)",
      memory: "6144",
      swap: "512",
      tags: "agent;ai;probe;pulumi",
    },
    status: 200,
    source: "§3.6 B7",
  },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.6 unlock wait" },
  {
    method: "POST",
    path: "/nodes/{node}/lxc/{vmid}/status/reboot",
    params: { timeout: "300" },
    status: 200,
    task: "OK",
    source: "§3.6 B7",
  },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/config", status: 200, source: "§3.6 read" },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.6 read" },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/interfaces", status: 200, source: "§3.6 read" },
];

/** §3.6 / §6.1: disk grow with protection on (B8): the resize goes through, the config PUT is refused. */
export const DISK_GROW_PROTECTED: Step[] = [
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/config", status: 200, source: "§3.6 B8" },
  {
    method: "PUT",
    path: "/nodes/{node}/lxc/{vmid}/resize",
    params: { disk: "rootfs", size: "32G" },
    status: 200,
    task: "OK",
    source: "§3.6 B8",
  },
  {
    method: "PUT",
    path: "/nodes/{node}/lxc/{vmid}/config",
    params: { rootfs: "acl=0,size=34359738368,quota=0,replicate=0,volume=local-lvm:vm-{vmid}-disk-0" },
    status: 500,
    reason: "can't update CT {vmid} drive 'rootfs' - protection mode enabled",
    source: "§3.6 B8, pve-container src/PVE/LXC/Config.pm:1344",
  },
];

/** §4 B13: destroy with protection set on the node: shutdown, then DELETE ×3 refused; the CT stays stopped. */
export const DESTROY_PROTECTED: Step[] = [
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.7" },
  {
    method: "POST",
    path: "/nodes/{node}/lxc/{vmid}/status/shutdown",
    params: { forceStop: "1", timeout: "55" },
    status: 200,
    task: "OK",
    source: "§3.7",
  },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.7" },
  ...[1, 2, 3].map((): Step => ({
    method: "DELETE",
    path: "/nodes/{node}/lxc/{vmid}",
    status: 500,
    reason: "can't remove CT {vmid} - protection mode enabled",
    source: "§4 B13",
  })),
];

/** §3.7: replacement's delete half (B10b) and destroy (B11), protection off. */
export const REPLACE_DELETE: Step[] = [
  {
    method: "PUT",
    path: "/nodes/{node}/lxc/{vmid}/config",
    params: { protection: "0" },
    status: 200,
    source: "§4 B9c",
  },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.7" },
  {
    method: "POST",
    path: "/nodes/{node}/lxc/{vmid}/status/shutdown",
    params: { forceStop: "1", timeout: "55" },
    status: 200,
    task: "OK",
    source: "§3.7",
  },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/status/current", status: 200, source: "§3.7" },
  { method: "DELETE", path: "/nodes/{node}/lxc/{vmid}", status: 200, task: "OK", source: "§3.7 B10b" },
  {
    method: "GET",
    path: "/nodes/{node}/lxc/{vmid}/status/current",
    status: 500,
    reason: "Configuration file 'nodes/{node}/lxc/{vmid}.conf' does not exist",
    source: "§3.7 (container.go:4249-4253 needs this to fail)",
  },
];

/** §4 B4: a re-download of an existing template without a checksum, then the provider's log read and task DELETE. */
export const REDOWNLOAD_NO_CHECKSUM: Step[] = [
  {
    method: "GET",
    path: "/nodes/{node}/query-url-metadata",
    params: { url: "{url}", "verify-certificates": "1" },
    status: 200,
    source: "§4 B4",
  },
  {
    method: "POST",
    path: "/nodes/{node}/storage/local/download-url",
    params: {
      content: "vztmpl",
      filename: "debian-12-standard_12.12-1_amd64.tar.zst",
      node: "{node}",
      storage: "local",
      url: "{url}",
      "verify-certificates": "1",
    },
    status: 200,
    task: "refusing to override existing file '{templateDir}/debian-12-standard_12.12-1_amd64.tar.zst'",
    source: "§4 B4, pve-common src/PVE/Tools.pm:1517-1519",
  },
];
