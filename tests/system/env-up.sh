#!/usr/bin/env bash
# Brings up the system tier's world on this machine and writes $SYSTEST_RUNTIME/env.json for the jest suite:
#
#   * the "Proxmox node": an sshd of our own on 127.0.0.1:$SYSTEST_NODE_PORT with its own host key (pinned in
#     known_hosts.node before the first connection) and a key generated for this run; its sessions get the pct
#     shim on PATH through `SetEnv PATH=$SYSTEST_RUNTIME/bin:...` (bin/pct -> tests/system/pct);
#   * the "CT": a real unprivileged LXC (name = vmid, private lxcpath), made from the cached Debian 12 rootfs
#     extracted inside a user namespace (uid n -> 100000+n, like `pct create`), with a veth on a private bridge
#     NATed to the outside (apt reaches Debian's mirrors), the host's resolv.conf, and three bind mounts prepared
#     on the host owned 110000:110000 mode 0750: hermes-state -> /srv/hermes, bulk-data -> /data, bulk-fast -> /fast;
#   * the CT's sshd host key, read THROUGH THE NODE (ssh node -> pct exec <vmid> -- cat ...), pinned in
#     known_hosts.ct; every connection to the CT verifies it.
#
# Everything created is recorded in $SYSTEST_STATE; env-down.sh undoes it (also after a failure: see the trap).
set -euo pipefail
# shellcheck source=tests/system/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require_capable_host
started=$SECONDS

# Leftovers of a killed run would collide (same bridge, port, container name).
bash "$SYSTEST_DIR/env-down.sh" --quiet

# Any failure (including die, which exits) tears down what was created so far; success disarms this at the end.
ok=0
on_exit() {
  ((ok)) && return
  log "env-up failed; tearing down what was created"
  if [[ -f $SYSTEST_CT_DIR/lxc.log ]]; then tail -n 30 "$SYSTEST_CT_DIR/lxc.log" >&2 || true; fi
  if [[ -n ${SYSTEST_KEEP-} ]]; then
    log "SYSTEST_KEEP set: leaving it for inspection; run tests/system/env-down.sh afterwards"
    return
  fi
  bash "$SYSTEST_DIR/env-down.sh" --quiet || true
}
trap on_exit EXIT

mkdir -p "$SYSTEST_RUNTIME"
chmod 0755 "$SYSTEST_RUNTIME"
: >"$SYSTEST_STATE"
state_add "runtime=$SYSTEST_RUNTIME"

# --- id maps: Proxmox's root:100000:65536, needed by newuidmap (lxc-usernsexec) -----------------------------
for f in /etc/subuid /etc/subgid; do
  if ! grep -qx "root:$SYSTEST_ID_BASE:$SYSTEST_ID_COUNT" "$f" 2>/dev/null; then
    echo "root:$SYSTEST_ID_BASE:$SYSTEST_ID_COUNT" >>"$f"
    state_add "added_idmap=$f"
  fi
done

# --- rootfs ---------------------------------------------------------------------------------------------------
tarball=$(bash "$SYSTEST_DIR/rootfs.sh")
rootfs=$SYSTEST_CT_DIR/rootfs
mkdir -p "$rootfs"
# Traversable but not listable: the CT's root (host uid 100000) must reach its rootfs and tar (below) runs as it.
chmod 0711 "$SYSTEST_LXCPATH"
chmod 0755 "$SYSTEST_CT_DIR"
chown "$SYSTEST_ID_BASE:$SYSTEST_ID_BASE" "$rootfs"
# As `pct create` does for an unprivileged CT: tar runs as the CT's root inside the mapped user namespace, so every
# file gets host id 100000+n and tar restores modes after chown (setuid/setgid bits survive, which a chown -R
# afterwards would clear). The tarball is opened here, as host root, and read on stdin: the checkout may sit in a
# directory the mapped root cannot enter (a `mktemp -d` clone is 0700).
lxc-usernsexec -m "u:0:$SYSTEST_ID_BASE:$SYSTEST_ID_COUNT" -m "g:0:$SYSTEST_ID_BASE:$SYSTEST_ID_COUNT" -- \
  tar --numeric-owner -xpf - -C "$rootfs" <"$tarball"
su_stat=$(stat -c '%u:%g %a' "$rootfs/usr/bin/su")
[[ $su_stat == "$SYSTEST_ID_BASE:$SYSTEST_ID_BASE 4755" ]] || die "rootfs shift went wrong: usr/bin/su is $su_stat"

# Files pct create writes into a new CT. Written as host root, then given to the CT's root (100000).
ct_file() { # ct_file <path-in-ct> <mode>  (content on stdin)
  local p=$rootfs$1
  mkdir -p "$(dirname "$p")"
  cat >"$p"
  chown "$SYSTEST_ID_BASE:$SYSTEST_ID_BASE" "$p"
  chmod "$2" "$p"
}
echo hermes | ct_file /etc/hostname 0644
printf '127.0.0.1 localhost\n127.0.1.1 hermes\n::1 localhost ip6-localhost ip6-loopback\n' | ct_file /etc/hosts 0644
ct_file /etc/network/interfaces 0644 <<EOF
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet static
	address $SYSTEST_CT_IP/24
	gateway $SYSTEST_GW
EOF
# The host's resolver config, as PVE does by default ("use host settings").
grep -E '^(nameserver|search|options) ' /etc/resolv.conf | ct_file /etc/resolv.conf 0644
rm -f "$rootfs"/etc/ssh/ssh_host_*
# Fresh host keys for this CT (pct create generates them on the node the same way).
ssh-keygen -q -A -f "$rootfs"
chown "$SYSTEST_ID_BASE:$SYSTEST_ID_BASE" "$rootfs"/etc/ssh/ssh_host_*

# --- keys and the node's sshd -----------------------------------------------------------------------------------
sshdir=$SYSTEST_SSH_DIR
mkdir -p "$sshdir" "$SYSTEST_RUNTIME/bin"
chmod 0700 "$sshdir"
state_add "sshdir=$sshdir"
ssh-keygen -q -t ed25519 -N '' -C hermes-systest-deploy -f "$sshdir/id_ed25519"
cp "$sshdir/id_ed25519.pub" "$sshdir/authorized_keys"
# Deployment key into the CT's root account (pct create --ssh-public-keys).
mkdir -p "$rootfs/root/.ssh"
chmod 0700 "$rootfs/root/.ssh"
chown "$SYSTEST_ID_BASE:$SYSTEST_ID_BASE" "$rootfs/root/.ssh"
ct_file /root/.ssh/authorized_keys 0600 <"$sshdir/id_ed25519.pub"

ln -sf "$SYSTEST_DIR/pct" "$SYSTEST_RUNTIME/bin/pct"
# The node's sshd (its own host key, pinned in known_hosts.node before the first connection; its sessions in a
# private mount namespace where the tier's conf directory is /etc/pve/lxc): node-sshd.sh, which also checks it.
bash "$SYSTEST_DIR/node-sshd.sh" start "$SYSTEST_PVE_NODE" "$SYSTEST_NODE_PORT"
[[ ! -e /etc/pve ]] || log "note: this machine has an /etc/pve of its own; the node sessions do not see it"

node_ssh() {
  ssh -i "$sshdir/id_ed25519" -p "$SYSTEST_NODE_PORT" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$sshdir/known_hosts.node" -o ConnectTimeout=5 \
    root@127.0.0.1 "$@"
}

# --- network: bridge + NAT --------------------------------------------------------------------------------------
ip link add "$SYSTEST_BRIDGE" type bridge
state_add "bridge=$SYSTEST_BRIDGE"
ip addr add "$SYSTEST_GW/24" dev "$SYSTEST_BRIDGE"
ip link set "$SYSTEST_BRIDGE" up
old_forward=$(sysctl -n net.ipv4.ip_forward)
if [[ $old_forward != 1 ]]; then
  sysctl -qw net.ipv4.ip_forward=1
  state_add "ip_forward_was=$old_forward"
fi
add_rule() { # add_rule <table> <chain> <rule...>: inserted first, recorded for env-down.sh
  local table=$1 chain=$2
  shift 2
  iptables -t "$table" -I "$chain" 1 "$@" -m comment --comment hermes-systest
  state_add "iptables=$table $chain $*"
}
add_rule nat POSTROUTING -s "$SYSTEST_NET_PREFIX.0/24" ! -o "$SYSTEST_BRIDGE" -j MASQUERADE
add_rule filter FORWARD -i "$SYSTEST_BRIDGE" -j ACCEPT
add_rule filter FORWARD -o "$SYSTEST_BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT

# --- host directories bind-mounted into the CT --------------------------------------------------------------------
for d in "$SYSTEST_HOST_STATE_DIR" "$SYSTEST_HOST_DATA_DIR" "$SYSTEST_HOST_FAST_DIR"; do
  mkdir -p "$d"
  chown "$SYSTEST_OWNER_ID:$SYSTEST_OWNER_ID" "$d"
  chmod 0750 "$d"
done

# --- PVE-style conf and start -------------------------------------------------------------------------------------
cat >"$SYSTEST_PVE_CONF_DIR/$SYSTEST_VMID.conf" <<EOF
arch: amd64
cores: 2
features: keyctl=1,nesting=1
hostname: hermes
memory: 4096
mp0: $SYSTEST_HOST_DATA_DIR,mp=/data
mp1: $SYSTEST_HOST_FAST_DIR,mp=/fast
mp2: $SYSTEST_HOST_STATE_DIR,mp=/srv/hermes
net0: name=eth0,bridge=$SYSTEST_BRIDGE,gw=$SYSTEST_GW,hwaddr=02:00:0A:E7:76:0A,ip=$SYSTEST_CT_IP/24,type=veth
ostype: debian
rootfs: $SYSTEST_CT_DIR/rootfs
swap: 512
unprivileged: 1
EOF
state_add "ct=$SYSTEST_VMID"
ct_start "$SYSTEST_VMID"

# --- the CT's host key, through the node --------------------------------------------------------------------------
ct_key=
for _ in $(seq 1 60); do
  ct_key=$(node_ssh "pct exec $SYSTEST_VMID -- cat /etc/ssh/ssh_host_ed25519_key.pub" 2>/dev/null | cut -d' ' -f1,2) && [[ $ct_key == ssh-ed25519\ * ]] && break
  sleep 1
done
[[ $ct_key == ssh-ed25519\ * ]] || die "could not read the CT's host key through the node (pct exec)"
[[ $ct_key == "$(cut -d' ' -f1,2 "$rootfs/etc/ssh/ssh_host_ed25519_key.pub")" ]] || die "host key read through the node differs from the one generated for the CT"
printf '%s %s\n' "$SYSTEST_CT_IP" "$ct_key" >"$sshdir/known_hosts.ct"

ct_ssh() {
  ssh -i "$sshdir/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$sshdir/known_hosts.ct" -o ConnectTimeout=3 "root@$SYSTEST_CT_IP" "$@"
}
up=0
for _ in $(seq 1 90); do
  if ct_ssh true 2>/dev/null; then
    up=1
    break
  fi
  sleep 1
done
((up)) || die "the CT's sshd did not answer on $SYSTEST_CT_IP:22 within 90s (see $SYSTEST_CT_DIR/console.log)"
# systemd finished booting (or degraded): units started after sshd (apt timers, ...) are not mid-start.
ct_ssh 'systemctl is-system-running --wait >/dev/null 2>&1 || true'

cat >"$SYSTEST_RUNTIME/env.json" <<EOF
{
  "runtime": "$SYSTEST_RUNTIME",
  "sshDir": "$sshdir",
  "repoRoot": "$REPO_ROOT",
  "vmid": $SYSTEST_VMID,
  "idBase": $SYSTEST_ID_BASE,
  "ownerId": $SYSTEST_OWNER_ID,
  "sshKey": "$sshdir/id_ed25519",
  "node": { "host": "127.0.0.1", "port": $SYSTEST_NODE_PORT, "user": "root", "knownHosts": "$sshdir/known_hosts.node" },
  "ct": { "host": "$SYSTEST_CT_IP", "port": 22, "user": "root", "knownHosts": "$sshdir/known_hosts.ct", "hostKey": "$ct_key" },
  "hostDirs": { "state": "$SYSTEST_HOST_STATE_DIR", "data": "$SYSTEST_HOST_DATA_DIR", "fast": "$SYSTEST_HOST_FAST_DIR" },
  "ctRootfs": "$rootfs",
  "pveConfDir": "$SYSTEST_PVE_CONF_DIR",
  "pveNode": "$SYSTEST_PVE_NODE",
  "lxcpath": "$SYSTEST_LXCPATH",
  "bridge": "$SYSTEST_BRIDGE",
  "netPrefix": "$SYSTEST_NET_PREFIX",
  "rootfsTarball": "$tarball"
}
EOF
ok=1
log "environment up in $((SECONDS - started))s: node 127.0.0.1:$SYSTEST_NODE_PORT, CT $SYSTEST_VMID at $SYSTEST_CT_IP"
