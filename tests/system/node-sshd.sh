#!/usr/bin/env bash
# One emulated Proxmox node's sshd: `node-sshd.sh start <node> <port>` / `node-sshd.sh stop <node>`.
#
# env-up.sh starts the world's node ($SYSTEST_PVE_NODE on $SYSTEST_NODE_PORT) with it; a test that needs a cluster
# starts more nodes on the same machine (tests/engine/ha.engine.test.ts: a second node of a two-node cluster) and
# stops one to stand for a dead node. Each node is its own sshd on 127.0.0.1:<port> with its own host key (made
# once, kept across a stop and a start, so the pin in known_hosts.node[.<node>] stays true), in its own private
# mount namespace where /etc/pve/lxc IS that node's conf directory (`pve/nodes/<node>/lxc`, as pmxcfs links it) and
# /var/lib/hermes-lxc/raw-lxc-config is that node's own (on a cluster /var/lib is node-local). Its sessions get the
# pct shim with SYSTEST_PVE_NODE=<node>, so `pct` sees only the CTs whose conf is on that node, as on Proxmox.
#
# The world's node keeps the file names it always had (node_host_ed25519_key, known_hosts.node, sshd_config,
# sshd.pid, sshd.log); another node's files carry `.<node>`. Recorded in $SYSTEST_STATE as
# `node_sshd=<node> <pid> <config>`; env-down.sh stops every one. Idempotent: start on a running node is a no-op.
set -euo pipefail
# shellcheck source=tests/system/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { die "usage: node-sshd.sh start <node> <port> | stop <node>"; }
(($# >= 2)) || usage
action=$1 node=$2
[[ $node =~ ^[a-z][a-z0-9-]{0,62}$ ]] || die "node name '$node' is not a hostname"
sshdir=$SYSTEST_SSH_DIR
suffix=".$node"
[[ $node != "$SYSTEST_PVE_NODE" ]] || suffix=
cfg=$sshdir/sshd_config$suffix
pidfile=$sshdir/sshd$suffix.pid

running_pid() { # the pid of this node's sshd, if it runs (checked against its config path, never a reused pid)
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ -n $pid ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$cfg" && printf '%s\n' "$pid"
}

case $action in
  stop)
    if pid=$(running_pid); then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
    exit 0
    ;;
  start) if (($# != 3)) || ! [[ $3 =~ ^[0-9]+$ ]]; then usage; fi ;;
  *) usage ;;
esac
port=$3
if running_pid >/dev/null; then exit 0; fi

key=$sshdir/node_host_ed25519_key$suffix
known=$sshdir/known_hosts.node$suffix
conf_dir=$SYSTEST_RUNTIME/pve/nodes/$node/lxc
raw_dir=$SYSTEST_RAW_STATE_DIR$suffix
nodens=$SYSTEST_RUNTIME/node-ns$suffix
[[ -f $sshdir/authorized_keys ]] || die "$sshdir/authorized_keys is missing: run env-up.sh first"
[[ -f $key ]] || ssh-keygen -q -t ed25519 -N '' -C "hermes-systest-node-$node" -f "$key"
# Pinned before any connection: the node's host key is known because we made it.
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$key.pub")" >"$known"
mkdir -p "$SYSTEST_RUNTIME/node-home"
chmod 0700 "$SYSTEST_RUNTIME/node-home"
if [[ ! -d /run/sshd ]]; then
  mkdir -p /run/sshd # sshd's privilege-separation directory; Debian creates it only via the ssh.service unit
  chmod 0755 /run/sshd
  state_add "created=/run/sshd"
fi
cat >"$cfg" <<EOF
# The emulated Proxmox node $node's sshd (tests/system/node-sshd.sh). Loopback only, keys only.
Port $port
ListenAddress 127.0.0.1
HostKey $key
PidFile $pidfile
AuthorizedKeysFile $sshdir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# Debian's default AcceptEnv LANG LC_* is left out on purpose: parameters travel in the command, never as Setenv.
AcceptEnv none
# The pct shim on PATH, and the world's variables it reads through common.sh (runtime directory, this node, vmid,
# bridge: a world other than the default one would otherwise be looked up under the default names).
# HOME: this machine's /root/.bashrc (which bash sources for ssh commands) puts pyenv/cargo/go first on PATH; a PVE
# node's root has Debian's default one. An empty home keeps the node sessions' environment like a PVE node's.
SetEnv PATH=$SYSTEST_RUNTIME/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SYSTEST_RUNTIME=$SYSTEST_RUNTIME SYSTEST_PVE_NODE=$node SYSTEST_VMID=$SYSTEST_VMID SYSTEST_BRIDGE=$SYSTEST_BRIDGE SYSTEST_NET_PREFIX=$SYSTEST_NET_PREFIX HOME=$SYSTEST_RUNTIME/node-home
Subsystem sftp internal-sftp
LogLevel VERBOSE
MaxStartups 50:30:100
EOF
/usr/sbin/sshd -t -f "$cfg"
# The node sessions run in a private mount namespace where the node's conf directory IS /etc/pve/lxc and its raw
# lines' state IS /var/lib/hermes-lxc/raw-lxc-config: apply-raw-lxc-config.sh runs with its defaults, exactly as the
# program sends it (only VMID and RAW_LINES), and acts on the confs the Proxmox VE API double writes. /etc, /var/lib
# and /usr/local are overlays there (upper layers under $SYSTEST_RUNTIME/node-ns[.<node>]), so whatever the
# node-side scripts install (snapshot units and commands, ...) never reaches this machine.
mkdir -p "$conf_dir" "$raw_dir"
for layer in etc var-lib usr-local; do mkdir -p "$nodens/$layer/upper" "$nodens/$layer/work"; done
# shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
unshare --mount --propagation private -- bash -euc '
  ns=$1 conf=$2 raw=$3
  shift 3
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=$ns/etc/upper,workdir=$ns/etc/work" /etc
  mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$ns/var-lib/upper,workdir=$ns/var-lib/work" /var/lib
  mount -t overlay overlay -o "lowerdir=/usr/local,upperdir=$ns/usr-local/upper,workdir=$ns/usr-local/work" /usr/local
  mkdir -p /etc/pve/lxc /var/lib/hermes-lxc/raw-lxc-config
  mount --bind "$conf" /etc/pve/lxc
  mount --bind "$raw" /var/lib/hermes-lxc/raw-lxc-config
  exec "$@"' node-ns "$nodens" "$conf_dir" "$raw_dir" \
  /usr/sbin/sshd -f "$cfg" -E "$sshdir/sshd$suffix.log" ||
  die "could not start node $node's sshd in a private mount namespace (overlayfs and unshare --mount needed)"
for _ in $(seq 1 50); do [[ -s $pidfile ]] && break; sleep 0.1; done
pid=$(running_pid) || die "node $node's sshd did not start (see $sshdir/sshd$suffix.log)"
state_add "node_sshd=$node $pid $cfg"

node_ssh() {
  ssh -i "$sshdir/id_ed25519" -p "$port" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$known" -o ConnectTimeout=5 root@127.0.0.1 "$@"
}
node_ssh true || die "cannot reach node $node's sshd on 127.0.0.1:$port (see $sshdir/sshd$suffix.log)"
[[ $(node_ssh 'findmnt -n -o SOURCE /etc/pve/lxc') == *"[$conf_dir]" ]] ||
  die "node $node's sessions do not see $conf_dir as /etc/pve/lxc"
[[ $(node_ssh 'command -v pct') == "$SYSTEST_RUNTIME/bin/pct" ]] || die "the pct shim is not on node $node's PATH"
[[ $(node_ssh 'command -v python3') == /usr/bin/python3 ]] ||
  die "node $node's sessions do not get a plain PATH (python3 is not /usr/bin/python3)"
