#!/usr/bin/env bash
# ct.sh: what a Proxmox node's pve-container does with the lxc-* tools, for the Proxmox VE API double's LXC backend
# (tests/pve-double/lxcBackend.ts). One real unprivileged LXC per CT, named after its vmid in the private lxcpath
# $SYSTEST_LXCPATH (the double's layout.lxcPath). The double owns the PVE conf and passes the config to act on as a
# PVE-format file (<conf>); this script never writes the PVE conf.
#
#   ct.sh create <vmid> <rootfs-dir> <template> <conf>
#       vzcreate's body (pve-container src/PVE/API2/LXC.pm:141-657, src/PVE/LXC/Create.pm): bind sources checked,
#       the template extracted with shifted ids, then the post-create effects of src/PVE/LXC/Setup/Base.pm:
#       machine-id cleared, root's password (a SHA-512 crypt of the password read on stdin with CT_PASSWORD_STDIN=1,
#       else locked `*`), CT_SSH_KEYS_FILE's keys between the PVE markers in root's authorized_keys, new SSH host
#       keys (rsa, ecdsa, ed25519; comment root@<hostname>), hostname, hosts, network/interfaces, resolv.conf.
#   ct.sh start <vmid> <conf>            vzstart's body: bind sources checked, LXC config rendered, lxc-start
#   ct.sh shutdown <vmid> <timeout> <forceStop 0|1>   clean shutdown; killed after timeout only with forceStop
#                                        (else "container did not stop", src/PVE/LXC.pm vm_stop :3219-3271)
#   ct.sh stop <vmid>                    kill at once (vzstop)
#   ct.sh destroy <vmid> [volume-dir...] vzdestroy's body: the volume directories and the LXC directory go. Bind
#                                        sources are never passed here and never touched (src/PVE/LXC.pm:1009-1021)
#   ct.sh interfaces <vmid>              `ip --json address` in the running CT's network namespace
#   ct.sh memory <vmid> <MiB> <swapMiB>  hot-plug of memory/swap through the CT's cgroup (src/PVE/LXC.pm:1624-1747)
#
# Errors go to stderr as Proxmox words them; the exit status is non-zero.
set -euo pipefail
# shellcheck source=tests/system/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"

fail() {
  printf '%s\n' "$*" >&2
  exit 1
}

(($# >= 2)) || fail "usage: ct.sh <create|start|shutdown|stop|destroy|interfaces|memory> <vmid> ..."
op=$1
vmid=$2
shift 2
[[ $vmid =~ ^[1-9][0-9]{2,8}$ ]] || fail "ct.sh: invalid vmid '$vmid'"
ct_dir=$SYSTEST_LXCPATH/$vmid

# A file the CT's root owns, written as host root (pct create writes these on the node the same way).
ct_file() { # ct_file <rootfs> <path-in-ct> <mode>  (content on stdin)
  local p=$1$2
  mkdir -p "$(dirname "$p")"
  cat >"$p"
  chown "$SYSTEST_ID_BASE:$SYSTEST_ID_BASE" "$p"
  chmod "$3" "$p"
}

# The network files Setup/Debian.pm writes for net0 (static or dhcp; ifupdown, as PVE's Debian setup does).
write_interfaces() { # <rootfs> <net0>
  local rootfs=$1 net0=$2 name ip gw
  name=$(prop_get "$net0" name || echo eth0)
  ip=$(prop_get "$net0" ip || true)
  gw=$(prop_get "$net0" gw || true)
  {
    printf 'auto lo\niface lo inet loopback\n\n'
    if [[ $ip == dhcp ]]; then
      printf 'auto %s\niface %s inet dhcp\n' "$name" "$name"
    elif [[ -n $ip ]]; then
      printf 'auto %s\niface %s inet static\n\taddress %s\n' "$name" "$name" "$ip"
      [[ -z $gw ]] || printf '\tgateway %s\n' "$gw"
    fi
  } | ct_file "$rootfs" /etc/network/interfaces 0644
}

create() {
  local rootfs=$1 template=$2 conf=$3 hostname net0 ns sd t
  [[ -f $template ]] || fail "template '$template' does not exist"
  check_bind_sources "$conf" || exit 1
  mkdir -p "$ct_dir" "$rootfs"
  # The CT's root (host uid 100000) must traverse to its rootfs: tar below runs as it.
  chmod 0711 "$SYSTEST_LXCPATH"
  chmod 0755 "$ct_dir"
  printf '%s\n' "$rootfs" >"$ct_dir/rootfs.path"
  chown "$SYSTEST_ID_BASE:$SYSTEST_ID_BASE" "$rootfs"
  local decompress=(cat)
  case $template in
    *.tar.zst) decompress=(zstd -dcq) ;;
    *.tar.gz | *.tgz) decompress=(gzip -dc) ;;
    *.tar.xz) decompress=(xz -dc) ;;
    *.tar) ;;
    *) fail "unable to detect the template's compression: '$template'" ;;
  esac
  echo "extracting archive '$template'"
  # As pct create does for an unprivileged CT: tar runs as the CT's root inside the mapped user namespace, so each
  # file gets host id 100000+n with its mode (setuid bits survive). The archive is opened here, as host root, and
  # read on stdin: its directory may be one the mapped root cannot enter (a `mktemp -d` is 0700; see da1c549).
  "${decompress[@]}" <"$template" |
    lxc-usernsexec -m "u:0:$SYSTEST_ID_BASE:$SYSTEST_ID_COUNT" -m "g:0:$SYSTEST_ID_BASE:$SYSTEST_ID_COUNT" -- \
      tar --numeric-owner -xpf - -C "$rootfs"
  echo "Total bytes written: $(du -sb "$rootfs" | cut -f1)"

  hostname=$(pve_conf_get "$conf" hostname)
  hostname=${hostname:-CT$vmid}
  # Setup/Base.pm post_create_hook: a fresh machine-id on first boot.
  [[ ! -e $rootfs/etc/machine-id ]] || : >"$rootfs/etc/machine-id"
  # Root's password: a SHA-512 crypt of the given one, else locked (Base.pm:451-475). The clear text only ever
  # travels on stdin; the crypt reaches awk through its environment, never a command line.
  local crypt='*'
  if [[ ${CT_PASSWORD_STDIN-} == 1 ]]; then
    crypt=$(openssl passwd -6 -stdin)
    [[ $crypt == \$6\$* ]] || fail "unable to create a SHA-512 crypt of the root password"
  fi
  # In place, so /etc/shadow keeps its owner (root:shadow, shifted) and mode.
  CRYPT=$crypt awk -F: -v OFS=: '$1 == "root" { $2 = ENVIRON["CRYPT"] } { print }' "$rootfs/etc/shadow" \
    >"$ct_dir/shadow.new"
  cat "$ct_dir/shadow.new" >"$rootfs/etc/shadow"
  rm -f "$ct_dir/shadow.new"
  # The keys between PVE's markers (Base.pm:487-503,883-930).
  if [[ -n ${CT_SSH_KEYS_FILE-} && -s $CT_SSH_KEYS_FILE ]]; then
    mkdir -p "$rootfs/root/.ssh"
    chown "$SYSTEST_ID_BASE:$SYSTEST_ID_BASE" "$rootfs/root/.ssh"
    chmod 0700 "$rootfs/root/.ssh"
    { echo '# --- BEGIN PVE ---'; grep -v '^[[:space:]]*$' "$CT_SSH_KEYS_FILE"; echo '# --- END PVE ---'; } |
      ct_file "$rootfs" /root/.ssh/authorized_keys 0600
  fi
  # New host keys, generated on the node (src/PVE/LXC/Setup.pm:246-295).
  rm -f "$rootfs"/etc/ssh/ssh_host_*
  for t in rsa ecdsa ed25519; do
    ssh-keygen -q -t "$t" -N '' -C "root@$hostname" -f "$rootfs/etc/ssh/ssh_host_${t}_key"
    chown "$SYSTEST_ID_BASE:$SYSTEST_ID_BASE" "$rootfs/etc/ssh/ssh_host_${t}_key" "$rootfs/etc/ssh/ssh_host_${t}_key.pub"
  done
  printf '%s\n' "$hostname" | ct_file "$rootfs" /etc/hostname 0644
  printf '127.0.0.1 localhost.localdomain localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n' \
    "$hostname" | ct_file "$rootfs" /etc/hosts 0644
  net0=$(pve_conf_get "$conf" net0)
  [[ -z $net0 ]] || write_interfaces "$rootfs" "$net0"
  ns=$(pve_conf_get "$conf" nameserver)
  sd=$(pve_conf_get "$conf" searchdomain)
  if [[ -n $ns || -n $sd ]]; then
    { [[ -z $sd ]] || echo "search $sd"; for t in $ns; do echo "nameserver $t"; done; } |
      ct_file "$rootfs" /etc/resolv.conf 0644
  else
    # "use host settings", PVE's default.
    grep -E '^(nameserver|search|options) ' /etc/resolv.conf | ct_file "$rootfs" /etc/resolv.conf 0644
  fi
}

running_pid() {
  [[ $(ct_state "$vmid") == RUNNING ]] || return 1
  lxc-info -P "$SYSTEST_LXCPATH" -n "$vmid" -p -H
}

case $op in
  create)
    (($# == 3)) || fail "usage: ct.sh create <vmid> <rootfs-dir> <template> <conf>"
    create "$@"
    ;;
  start)
    (($# == 1)) || fail "usage: ct.sh start <vmid> <conf>"
    [[ $(ct_state "$vmid") != RUNNING ]] || fail "CT $vmid already running"
    # mount_all's text first (src/PVE/LXC.pm:2300), then lxc-start's own failure as vm_start words it.
    check_bind_sources "$1" || exit 1
    ct_launch "$vmid" "$1" || fail "startup for container '$vmid' failed"
    ;;
  shutdown)
    (($# == 2)) || fail "usage: ct.sh shutdown <vmid> <timeout> <forceStop>"
    [[ $(ct_state "$vmid") == RUNNING ]] || fail "CT $vmid not running"
    if ! lxc-stop -P "$SYSTEST_LXCPATH" -n "$vmid" --nokill -t "$1"; then
      [[ $2 == 1 ]] || fail "container did not stop"
      lxc-stop -P "$SYSTEST_LXCPATH" -n "$vmid" -k
    fi
    ;;
  stop)
    [[ $(ct_state "$vmid") != RUNNING ]] || lxc-stop -P "$SYSTEST_LXCPATH" -n "$vmid" -k
    ;;
  destroy)
    [[ $(ct_state "$vmid") != RUNNING ]] || fail "unable to destroy CT $vmid - container is running"
    for dir in "$@" "$ct_dir"; do
      [[ -e $dir ]] || continue
      # Nothing may be mounted below a directory that goes (a bind source never is: it is not passed here).
      if findmnt -rn -o TARGET | grep -qF -- "$dir/"; then fail "unable to destroy CT $vmid - $dir has mounts"; fi
      rm -rf --one-file-system -- "$dir"
    done
    ;;
  interfaces)
    pid=$(running_pid) || {
      echo '[]'
      exit 0
    }
    nsenter -t "$pid" --net -- ip --json address
    ;;
  memory)
    (($# == 2)) || fail "usage: ct.sh memory <vmid> <MiB> <swapMiB>"
    running_pid >/dev/null || fail "CT $vmid not running"
    key=$(cgroup_memory_key)
    lxc-cgroup -P "$SYSTEST_LXCPATH" -n "$vmid" "${key#lxc.cgroup*.}" "$(($1 * 1024 * 1024))"
    ;;
  *) fail "ct.sh: unknown operation '$op'" ;;
esac
