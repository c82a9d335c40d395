#!/usr/bin/env bash
# wait-for-container.sh: runs as root on the Proxmox VE node. Waits, for a bounded time, until the container runs,
# has an IPv4 address and its sshd answers; then prints that address and the container's SSH host key. The key is
# read through `pct exec` on the node, a channel that is already trusted, so later SSH connections to the container
# can pin it instead of trusting whatever answers on the network first.
#
# Env:
#   VMID             container id, integer 100..999999999 (required)
#   STATIC_IPV4      the container's address when it is static (bare IPv4, no prefix); empty: read it from IFACE
#   IFACE            interface inside the container to read the address from (default eth0)
#   SSH_PORT         port sshd listens on (default 22)
#   TIMEOUT_SECONDS  give up after this long (default 300)
#   POLL_SECONDS     pause between attempts (default 2)
#
# stdout on success, exactly: `address=<ip>` then `host_key=ssh-ed25519 <base64>`.
# On timeout: exit 1 and a message on stderr with the last observed state.
#
# Safe to re-run: it only reads (`pct status`, `pct exec ... ip/cat`, one TCP connection per attempt) and changes
# nothing, so killing it and starting again is harmless.
set -euo pipefail

readonly SELF=wait-for-container.sh

die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

log() {
  printf '%s: %s\n' "$SELF" "$*" >&2
}

is_ipv4() {
  local ip=$1 octet octets
  [[ $ip =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
  IFS=. read -r -a octets <<<"$ip"
  for octet in "${octets[@]}"; do
    ((10#$octet <= 255)) || return 1
  done
}

[[ -n ${VMID-} ]] || die "VMID is required"
[[ $VMID =~ ^[1-9][0-9]{2,8}$ ]] || die "VMID must be an integer between 100 and 999999999, got '$VMID'"
STATIC_IPV4=${STATIC_IPV4-}
IFACE=${IFACE:-eth0}
SSH_PORT=${SSH_PORT:-22}
TIMEOUT_SECONDS=${TIMEOUT_SECONDS:-300}
POLL_SECONDS=${POLL_SECONDS:-2}
if [[ -n $STATIC_IPV4 ]]; then
  is_ipv4 "$STATIC_IPV4" || die "STATIC_IPV4 must be a bare IPv4 address without prefix, got '$STATIC_IPV4'"
fi
[[ $IFACE =~ ^[A-Za-z0-9_.@-]{1,15}$ ]] || die "IFACE must be an interface name like eth0, got '$IFACE'"
if ! [[ $SSH_PORT =~ ^[1-9][0-9]{0,4}$ ]] || ((SSH_PORT > 65535)); then
  die "SSH_PORT must be 1..65535, got '$SSH_PORT'"
fi
[[ $TIMEOUT_SECONDS =~ ^[1-9][0-9]{0,5}$ ]] || die "TIMEOUT_SECONDS must be a positive integer, got '$TIMEOUT_SECONDS'"
if ! [[ $POLL_SECONDS =~ ^[0-9]{1,4}(\.[0-9]{1,3})?$ ]] || [[ $POLL_SECONDS =~ ^0+(\.0*)?$ ]]; then
  die "POLL_SECONDS must be a positive number of seconds, got '$POLL_SECONDS'"
fi

deadline=$((SECONDS + TIMEOUT_SECONDS))

# Each probe gets at most $1 seconds (10 unless given) and never much more than what is left, so a hung `pct exec`
# (container still booting) or a silent port cannot stretch the wait far past TIMEOUT_SECONDS.
budget() {
  local cap=${1:-10} left=$((deadline - SECONDS))
  if ((left > cap)); then left=$cap; fi
  if ((left < 1)); then left=1; fi
  echo "$left"
}

state_status=unknown
state_address=unknown
state_key=unknown
state_sshd=unknown
last_state=

probe() {
  local out banner key_line ktype kdata rest
  state_address=unknown
  state_key=unknown
  state_sshd=unknown
  address=
  host_key=

  if ! out=$(timeout "$(budget)" pct status "$VMID" 2>&1); then
    state_status="unknown (pct status failed: ${out%%$'\n'*})"
    return 1
  fi
  if [[ $out =~ ^status:[[:space:]]*([a-z]+) ]]; then
    state_status=${BASH_REMATCH[1]}
  else
    state_status="unknown (pct status said: ${out%%$'\n'*})"
  fi
  [[ $state_status == running ]] || return 1

  if [[ -n $STATIC_IPV4 ]]; then
    address=$STATIC_IPV4
  else
    # `ip -o` prints one line per address: "2: eth0    inet 10.1.10.23/24 brd ... scope global dynamic eth0 ...".
    out=$(timeout "$(budget)" pct exec "$VMID" -- ip -4 -o addr show dev "$IFACE" scope global 2>/dev/null) || out=
    if [[ $out =~ [[:space:]]inet[[:space:]]+([0-9.]+)/[0-9]+ ]]; then
      address=${BASH_REMATCH[1]}
      is_ipv4 "$address" || address=
    fi
  fi
  if [[ -z $address ]]; then
    state_address="none (no DHCP lease yet?)"
    return 1
  fi
  state_address=$address

  out=$(timeout "$(budget)" pct exec "$VMID" -- cat /etc/ssh/ssh_host_ed25519_key.pub 2>/dev/null) || out=
  key_line=${out%%$'\n'*}
  read -r ktype kdata rest <<<"$key_line" || true
  # The comment field (user@host) is dropped: only type and key material are pinned. An ed25519 public key blob is
  # always 51 bytes, i.e. 68 base64 characters starting with the encoded "ssh-ed25519" name.
  if [[ $ktype == ssh-ed25519 && $kdata =~ ^AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}$ ]]; then
    host_key="$ktype $kdata"
    state_key=present
  elif [[ -z $out ]]; then
    state_key="missing (/etc/ssh/ssh_host_ed25519_key.pub unreadable; openssh-server installed?)"
    return 1
  else
    state_key="invalid (/etc/ssh/ssh_host_ed25519_key.pub is not an ed25519 public key)"
    return 1
  fi

  # The banner is read from the node itself: that proves sshd is reachable on the address the caller will use.
  # shellcheck disable=SC2016 # $1/$2 expand in the inner bash, not here
  if banner=$(timeout "$(budget 5)" bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r line <&3 && printf %s "$line"' \
    _ "$address" "$SSH_PORT" 2>/dev/null); then
    banner=${banner%$'\r'}
    if [[ $banner == SSH-2.0-* ]]; then
      state_sshd=answering
      return 0
    fi
    state_sshd="unexpected banner '${banner:0:40}' on port $SSH_PORT"
  else
    state_sshd="not answering on port $SSH_PORT"
  fi
  return 1
}

while :; do
  if probe; then
    printf 'address=%s\n' "$address"
    printf 'host_key=%s\n' "$host_key"
    exit 0
  fi
  state="status=$state_status address=$state_address host_key=$state_key sshd=$state_sshd"
  # Progress is logged only when it changes, so a long wait does not flood the log.
  if [[ $state != "$last_state" ]]; then
    log "container $VMID: $state"
    last_state=$state
  fi
  if ((SECONDS >= deadline)); then
    die "container $VMID not ready after ${TIMEOUT_SECONDS}s; last state: $state"
  fi
  sleep "$POLL_SECONDS"
done
