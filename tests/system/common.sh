# shellcheck shell=bash
# The constants below are used by the scripts that source this file, which shellcheck checks one by one.
# shellcheck disable=SC2034
# Shared constants and helpers for the system-test tier. Sourced by env-up.sh, env-down.sh, rootfs.sh,
# bench.sh and run.sh; never executed on its own.
#
# Everything the tier creates on this machine lives under one fixed runtime directory ($SYSTEST_RUNTIME) and is
# recorded in $SYSTEST_RUNTIME/state, so env-down.sh can tear down what a crashed run left behind.

SYSTEST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SYSTEST_DIR/../.." && pwd)"
SYSTEST_CACHE="${SYSTEST_CACHE:-$SYSTEST_DIR/.cache}"
# Fixed (not mktemp) so a later run can find and clean up the leftovers of a killed one.
SYSTEST_RUNTIME="${SYSTEST_RUNTIME:-/tmp/hermes-systest}"
SYSTEST_STATE="$SYSTEST_RUNTIME/state"
# Keys, known_hosts and the node's sshd config. Not under /tmp: sshd's StrictModes refuses an authorized_keys file
# below a world-writable directory.
SYSTEST_SSH_DIR="${SYSTEST_SSH_DIR:-/run/hermes-systest-ssh}"

# The emulated Proxmox container. The VMID doubles as the LXC container name in a private lxcpath, so nothing
# under /var/lib/lxc is touched.
SYSTEST_VMID="${SYSTEST_VMID:-9118}"
# The PVE double's backend passes its own (tests/pve-double/layout.ts: <stateDir>/lxc); the tier's world uses the
# double's layout with stateDir = $SYSTEST_RUNTIME, so both name the same directories.
SYSTEST_LXCPATH="${SYSTEST_LXCPATH:-$SYSTEST_RUNTIME/lxc}"
# Proxmox's default unprivileged mapping: CT uid n == host uid 100000+n, 65536 ids.
SYSTEST_ID_BASE=100000
SYSTEST_ID_COUNT=65536
# hermes (uid/gid 10000 inside the image, and inside the CT because nested Docker adds no shift).
SYSTEST_OWNER_ID=$((SYSTEST_ID_BASE + 10000))

# Private bridge + /24 for the CT. 15-char interface name limit.
SYSTEST_BRIDGE="${SYSTEST_BRIDGE:-hsysbr0}"
SYSTEST_NET_PREFIX="${SYSTEST_NET_PREFIX:-10.231.118}"
SYSTEST_GW="$SYSTEST_NET_PREFIX.1"
SYSTEST_CT_IP="$SYSTEST_NET_PREFIX.10"

# The emulated node's sshd (loopback only).
SYSTEST_NODE_PORT="${SYSTEST_NODE_PORT:-2222}"

# Debian suite and mirror of the CT template; the only network the tier uses.
SYSTEST_SUITE=bookworm
SYSTEST_MIRROR="${SYSTEST_MIRROR:-http://deb.debian.org/debian}"

log() { printf '[systest %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
  printf '[systest] FATAL: %s\n' "$*" >&2
  exit 1
}

# Append "key=value" to the state file; env-down.sh reads it to know what to undo.
state_add() { printf '%s\n' "$1" >>"$SYSTEST_STATE"; }
state_has() { [[ -f $SYSTEST_STATE ]] && grep -qxF -- "$1" "$SYSTEST_STATE"; }
state_get() {
  [[ -f $SYSTEST_STATE ]] || return 0
  sed -n "s/^$1=//p" "$SYSTEST_STATE" | tail -n1
}

# The tier must never be skipped quietly: when this machine cannot run it, say why and fail.
require_capable_host() {
  local missing=()
  [[ $EUID -eq 0 ]] || die "the system tier needs root (it creates an LXC, a bridge and iptables rules); run it as root"
  local cmd
  for cmd in lxc-start lxc-attach lxc-info lxc-stop lxc-usernsexec newuidmap debootstrap sshd ssh ssh-keygen \
    iptables ip flock tar; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]} (apt-get install lxc uidmap debootstrap openssh-server iptables)"
  [[ -r /proc/self/ns/user ]] || die "this kernel has no user namespaces; unprivileged LXC cannot run here"
  local max
  max=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)
  ((max > 0)) || die "user namespaces are disabled (user.max_user_namespaces=$max)"
}

# ---------------------------------------------------------------------------------------------------------------
# Emulated Proxmox containers (shared by env-up.sh, the pct shim and the Proxmox VE API double's backend, ct.sh)
# ---------------------------------------------------------------------------------------------------------------
# Every container is a real unprivileged LXC named after its vmid in the private lxcpath, made from a PVE-format
# conf in $SYSTEST_PVE_CONF_DIR (what a node's /etc/pve/lxc is; the node sessions see it there, see env-up.sh).
# The LXC config is rendered from that conf at every start, as pve-container does (src/PVE/LXC.pm update_lxc_config).
SYSTEST_CT_DIR="$SYSTEST_LXCPATH/$SYSTEST_VMID"
# The emulated node's name, and its /etc/pve/lxc: laid out as pmxcfs does (/etc/pve/lxc -> nodes/<node>/lxc) and as
# the PVE double keeps it (tests/pve-double/layout.ts confDir), so a double started on $SYSTEST_RUNTIME writes here.
SYSTEST_PVE_NODE="${SYSTEST_PVE_NODE:-systest}"
SYSTEST_PVE_CONF_DIR="${SYSTEST_PVE_CONF_DIR:-$SYSTEST_RUNTIME/pve/nodes/$SYSTEST_PVE_NODE/lxc}"
# What the node sessions see as /var/lib/hermes-lxc/raw-lxc-config (apply-raw-lxc-config.sh's default STATE_DIR).
SYSTEST_RAW_STATE_DIR="$SYSTEST_RUNTIME/raw-lxc-config"
SYSTEST_HOST_STATE_DIR="$SYSTEST_RUNTIME/hermes-state"
SYSTEST_HOST_DATA_DIR="$SYSTEST_RUNTIME/bulk-data"
SYSTEST_HOST_FAST_DIR="$SYSTEST_RUNTIME/bulk-fast"

pve_conf_path() { printf '%s/%s.conf\n' "$SYSTEST_PVE_CONF_DIR" "${1:-$SYSTEST_VMID}"; }

# pve_conf_get <conf> <key>: the value of <key> in the main section (before the first [section]), empty if absent.
pve_conf_get() {
  awk -v k="$2" '/^\[/ {exit} /^#/ {next} { i = index($0, ":"); if (i > 0 && substr($0, 1, i - 1) == k) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }' "$1"
}

# prop_get <property-string> <key>: one key of a PVE property string (`a=1,b=2`); with key "", the default key's
# value (the first element without a name, e.g. the source of `mp0: /src,mp=/dst`).
prop_get() {
  local part parts
  IFS=, read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ -z $2 && $part != *=* ]] || [[ -n $2 && $part == "$2="* ]]; then
      printf '%s\n' "${part#"$2="}"
      return 0
    fi
  done
  return 1
}

# apply_pending <conf>: what vm_start does first (pve-container src/PVE/LXC.pm vm_start -> apply_pending, and
# AbstractConfig.pm): every `[pve:pending]` value replaces or joins the main section, `delete: a,b` removes keys,
# the pending section goes. Rewritten in place (/etc/pve is pmxcfs: no rename there either). No pending: untouched.
apply_pending() {
  local conf=$1 tmp
  grep -qx '\[pve:pending\]' "$conf" || return 0
  tmp=$(mktemp)
  awk '
    function key(l) { i = index(l, ":"); return i > 0 ? substr(l, 1, i - 1) : "" }
    function val(l) { v = substr(l, index(l, ":") + 1); sub(/^[ \t]+/, "", v); return v }
    FNR == NR {
      if ($0 ~ /^\[/) { sec = $0; next }
      if (sec == "[pve:pending]" && $0 !~ /^#/ && key($0) != "") {
        if (key($0) == "delete") { n = split(val($0), d, ","); for (j = 1; j <= n; j++) { sub(/^!/, "", d[j]); del[d[j]] = 1 } }
        else { pend[key($0)] = $0; order[++np] = key($0) }
      }
      next
    }
    /^\[/ { sec = $0 }
    sec == "" {
      k = key($0)
      if ($0 ~ /^#/ || k == "") { print; next }
      if (k in del) next
      if (k in pend) { print pend[k]; done[k] = 1; next }
      print; next
    }
    sec == "[pve:pending]" { next }
    { rest = rest $0 "\n" }
    END {
      for (j = 1; j <= np; j++) if (!(order[j] in done) && !(order[j] in del)) { print pend[order[j]]; done[order[j]] = 1 }
      sub(/^\n+/, "", rest); if (rest != "") printf "\n%s", rest
    }' "$conf" "$conf" >"$tmp"
  cat "$tmp" >"$conf"
  rm -f "$tmp"
}

# pve_mountpoints <conf>: `mpN<TAB>source<TAB>path<TAB>ro` for every mount point of the main section, in N order.
pve_mountpoints() {
  local conf=$1 key value src
  while IFS= read -r key; do
    value=$(pve_conf_get "$conf" "$key")
    src=$(prop_get "$value" "") || src=$(prop_get "$value" volume) || src=
    printf '%s\t%s\t%s\t%s\n' "$key" "$src" "$(prop_get "$value" mp || true)" "$(prop_get "$value" ro || echo 0)"
  done < <(awk '/^\[/ {exit} /^mp[0-9]+:/ { sub(/:.*/, ""); print substr($0, 3) " " $0 }' "$conf" | sort -n | cut -d' ' -f2)
}

# check_bind_sources <conf>: mount_all's check (pve-container src/PVE/LXC.pm:2300): a bind source must exist.
check_bind_sources() {
  local key src path ro
  while IFS=$'\t' read -r key src path ro; do
    [[ $src == /* ]] || continue # a storage volume, not a bind mount (the tier has no storage volumes)
    [[ -d $src ]] || {
      printf "directory '%s' does not exist\n" "$src" >&2
      return 1
    }
  done < <(pve_mountpoints "$1")
}

# render_lxc_config <vmid> [conf]: the LXC config of a PVE conf (default: the CT's own), as pve-container would
# generate it for an unprivileged Debian CT, followed by the conf's raw lxc.* lines.
render_lxc_config() {
  local vmid=${1:-$SYSTEST_VMID}
  local conf=${2:-} ct_dir hostname features nesting keyctl net0 memory swap key src path ro opts
  [[ -n $conf ]] || conf=$(pve_conf_path "$vmid")
  ct_dir=$SYSTEST_LXCPATH/$vmid
  [[ -f $conf ]] || die "render_lxc_config: $conf does not exist"
  [[ $(pve_conf_get "$conf" unprivileged) == 1 ]] || die "render_lxc_config: CT $vmid is not unprivileged (the tier emulates unprivileged CTs only)"
  hostname=$(pve_conf_get "$conf" hostname)
  features=$(pve_conf_get "$conf" features)
  nesting=$(prop_get "$features" nesting || echo 0)
  keyctl=$(prop_get "$features" keyctl || echo 0)
  memory=$(pve_conf_get "$conf" memory)
  swap=$(pve_conf_get "$conf" swap)
  cat <<CONF
# Generated by tests/system (render_lxc_config) from $conf at start; edit that conf, not this file.
lxc.include = /usr/share/lxc/config/debian.common.conf
lxc.include = /usr/share/lxc/config/debian.userns.conf
lxc.arch = ${SYSTEST_ARCH:-amd64}
lxc.uts.name = ${hostname:-CT$vmid}
lxc.rootfs.path = dir:$(ct_rootfs "$vmid")
# unprivileged: 1 -> CT uid/gid n is host 100000+n
lxc.idmap = u 0 $SYSTEST_ID_BASE $SYSTEST_ID_COUNT
lxc.idmap = g 0 $SYSTEST_ID_BASE $SYSTEST_ID_COUNT
lxc.mount.auto =
CONF
  if [[ $nesting == 1 ]]; then
    echo "# nesting=1 -> Docker inside needs a writable cgroup tree and proc/sys it may mount again."
    echo "lxc.mount.auto = proc:mixed sys:mixed cgroup:rw:force"
  else
    echo "# nesting=0: proc/sys mixed, cgroup tree read-only (PVE's default for an unprivileged CT)."
    echo "lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed"
  fi
  if [[ $keyctl == 1 ]]; then
    echo "# keyctl=1 -> the default seccomp profile (pve-container src/PVE/LXC.pm:540-561)."
    echo "lxc.seccomp.profile = /usr/share/lxc/config/common.seccomp"
  else
    # keyctl=0 on an unprivileged CT: PVE adds 'keyctl errno 38' to the profile (src/PVE/LXC.pm:540-561).
    mkdir -p "$ct_dir"
    { cat /usr/share/lxc/config/common.seccomp; echo 'keyctl errno 38'; } >"$ct_dir/seccomp-keyctl"
    echo "# keyctl=0 -> keyctl fails with ENOSYS (38), as PVE's generated profile does (src/PVE/LXC.pm:540-561)."
    echo "lxc.seccomp.profile = $ct_dir/seccomp-keyctl"
  fi
  echo "# This host has no AppArmor, so no LXC profile applies (on PVE: the generated nesting profile)."
  echo "# memory -> the cgroup's memory limit, as PVE sets it (swap: ${swap:-512} MiB is bookkeeping only here)."
  echo "$(cgroup_memory_key) = $((${memory:-512} * 1024 * 1024))"
  net0=$(pve_conf_get "$conf" net0)
  if [[ -n $net0 ]]; then
    echo "lxc.net.0.type = veth"
    echo "lxc.net.0.link = $(prop_get "$net0" bridge || die "CT $vmid: net0 has no bridge")"
    echo "lxc.net.0.flags = up"
    echo "lxc.net.0.name = $(prop_get "$net0" name || echo eth0)"
    opts=$(prop_get "$net0" hwaddr || true)
    [[ -z $opts ]] || echo "lxc.net.0.hwaddr = $opts"
    echo "lxc.net.0.veth.pair = veth${vmid}i0"
  fi
  while IFS=$'\t' read -r key src path ro; do
    [[ $src == /* && $path == /* ]] || continue
    opts=bind,create=dir
    [[ $ro != 1 ]] || opts+=,ro
    echo "lxc.mount.entry = $src ${path#/} none $opts 0 0"
  done < <(pve_mountpoints "$conf")
  echo "lxc.console.logfile = $ct_dir/console.log"
  echo "# systemd halts on SIGRTMIN+3 (LXC's default SIGPWR only reaches sigpwr.target), so lxc-stop shuts down cleanly."
  echo "lxc.signal.halt = SIGRTMIN+3"
  echo "# raw lxc.* lines from $conf"
  # Main section only; 'lxc.key: value' becomes 'lxc.key = value'.
  awk '/^\[/ {exit} /^lxc\.[^:=[:space:]]+:/ { k=$0; sub(/:.*/, "", k); v=$0; sub(/^[^:]*:[[:space:]]*/, "", v); print k " = " v }' "$conf"
}

# ct_rootfs <vmid>: the CT's root filesystem: the storage volume's directory the double's backend recorded in
# <lxcpath>/<vmid>/rootfs.path at create, else <lxcpath>/<vmid>/rootfs (env-up.sh's CT).
ct_rootfs() {
  local dir=$SYSTEST_LXCPATH/$1
  if [[ -s $dir/rootfs.path ]]; then cat "$dir/rootfs.path"; else echo "$dir/rootfs"; fi
}

# The memory limit's key: cgroup v2 (PVE 7+ hosts) or v1 (hybrid hosts such as this tier's CI machines).
cgroup_memory_key() {
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then echo lxc.cgroup2.memory.max; else echo lxc.cgroup.memory.limit_in_bytes; fi
}

ct_state() { # [vmid] -> RUNNING, STOPPED, ... or ABSENT
  lxc-info -P "$SYSTEST_LXCPATH" -n "${1:-$SYSTEST_VMID}" -s -H 2>/dev/null || echo ABSENT
}

# ct_launch <vmid> <conf>: bind sources checked, the LXC config regenerated from <conf> (so raw lines added since
# the last start apply, as on PVE), then lxc-start; returns once the CT runs.
ct_launch() {
  local vmid=$1 conf=$2
  check_bind_sources "$conf" || return 1
  render_lxc_config "$vmid" "$conf" >"$SYSTEST_LXCPATH/$vmid/config"
  lxc-start -P "$SYSTEST_LXCPATH" -n "$vmid" -d -o "$SYSTEST_LXCPATH/$vmid/lxc.log" -l INFO
  lxc-wait -P "$SYSTEST_LXCPATH" -n "$vmid" -s RUNNING -t 30
}

# ct_start [vmid]: vm_start as `pct start`/`pct reboot` run it on the node: pending changes applied to the CT's
# conf first, then ct_launch.
ct_start() {
  local vmid=${1:-$SYSTEST_VMID} conf
  conf=$(pve_conf_path "$vmid")
  apply_pending "$conf"
  ct_launch "$vmid" "$conf"
}

# ct_stop [vmid] [timeout]: clean shutdown (lxc.signal.halt above), killed if still running after timeout seconds.
ct_stop() {
  local vmid=${1:-$SYSTEST_VMID} timeout=${2:-30}
  [[ $(ct_state "$vmid") == RUNNING ]] || return 0
  lxc-stop -P "$SYSTEST_LXCPATH" -n "$vmid" -t "$timeout" || lxc-stop -P "$SYSTEST_LXCPATH" -n "$vmid" -k
}
