#!/usr/bin/env bash
# Tears down everything env-up.sh recorded in $SYSTEST_STATE: the CT (and Docker inside it), the node's sshd, the
# bridge, the iptables rules, ip_forward, /etc/subuid+subgid lines it added, and $SYSTEST_RUNTIME itself.
# Idempotent and safe to run at any time (no state file: nothing to do). Processes are ended by the pid recorded
# at start, after checking that the pid still is that process.
# Usage: env-down.sh [--quiet] [--keep]   (--keep: leave everything running, for debugging; prints what is left)
set -uo pipefail
# shellcheck source=tests/system/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

quiet=0
for a in "$@"; do
  case $a in
    --quiet) quiet=1 ;;
    --keep)
      log "SYSTEST_KEEP: leaving the environment up in $SYSTEST_RUNTIME (run tests/system/env-down.sh to remove it)"
      exit 0
      ;;
    *) die "unknown argument $a" ;;
  esac
done
say() { ((quiet)) || log "$@"; }

[[ -f $SYSTEST_STATE ]] || {
  # No record, but a runtime dir from an older layout could remain: only remove it when nothing is mounted in it.
  if [[ -d $SYSTEST_RUNTIME ]] && ! findmnt -rn -o TARGET | grep -qF "$SYSTEST_RUNTIME/"; then
    rm -rf --one-file-system "$SYSTEST_RUNTIME"
  fi
  exit 0
}
say "tearing down $SYSTEST_RUNTIME"

# The CTs first (env-up.sh's and every one the Proxmox VE API double created): Docker inside, veths and mounts go
# with them.
for ct in "$SYSTEST_LXCPATH"/*/; do
  ct=$(basename "$ct")
  [[ $ct =~ ^[0-9]+$ ]] || continue
  state=$(ct_state "$ct")
  [[ $state != ABSENT && $state != STOPPED ]] || continue
  lxc-stop -P "$SYSTEST_LXCPATH" -n "$ct" -k >/dev/null 2>&1 || true
  lxc-wait -P "$SYSTEST_LXCPATH" -n "$ct" -s STOPPED -t 30 >/dev/null 2>&1 || true
done

# Every node's sshd node-sshd.sh started (the world's node and any further node of a cluster test).
while read -r _ pid cfg; do
  if [[ -n $pid && -n $cfg ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$cfg"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
done < <(sed -n 's/^node_sshd=//p' "$SYSTEST_STATE"
  # A world brought up before node-sshd.sh existed recorded its one sshd as sshd_pid= and sshd_config=.
  [[ -z $(state_get sshd_pid) ]] || printf 'legacy %s %s\n' "$(state_get sshd_pid)" "$(state_get sshd_config)")

while IFS= read -r rule; do
  read -r -a r <<<"$rule"
  table=${r[0]} chain=${r[1]}
  while iptables -t "$table" -D "$chain" "${r[@]:2}" -m comment --comment hermes-systest 2>/dev/null; do :; done
done < <(sed -n 's/^iptables=//p' "$SYSTEST_STATE")

br=$(state_get bridge)
if [[ -n $br ]] && ip link show "$br" >/dev/null 2>&1; then ip link del "$br"; fi

fwd=$(state_get ip_forward_was)
[[ -z $fwd ]] || sysctl -qw "net.ipv4.ip_forward=$fwd"

while IFS= read -r f; do
  sed -i "/^root:$SYSTEST_ID_BASE:$SYSTEST_ID_COUNT\$/d" "$f"
done < <(sed -n 's/^added_idmap=//p' "$SYSTEST_STATE")

if state_has "created=/run/sshd"; then rmdir /run/sshd 2>/dev/null || true; fi
sshdir=$(state_get sshdir)
if [[ $sshdir == /run/hermes-systest* && -d $sshdir ]]; then rm -rf "$sshdir"; fi

# Nothing of the tier may still be mounted in this (the host's) mount namespace before deleting; the bind mounts
# only ever existed inside the CT's namespace.
if findmnt -rn -o TARGET | grep -qF "$SYSTEST_RUNTIME/"; then
  die "something is still mounted under $SYSTEST_RUNTIME; not deleting it: $(findmnt -rn -o TARGET | grep -F "$SYSTEST_RUNTIME/")"
fi
rm -rf --one-file-system "$SYSTEST_RUNTIME"
say "teardown complete"
