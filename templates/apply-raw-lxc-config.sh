#!/usr/bin/env bash
# apply-raw-lxc-config.sh: runs as root on the Proxmox VE node. Writes raw `lxc.*` lines that the PVE API cannot set
# (e.g. `lxc.apparmor.profile: unconfined`) into the main section of /etc/pve/lxc/<VMID>.conf, and reboots the
# container once when the file changed, because LXC reads these keys only at container start.
#
# Env:
#   VMID       container id, integer 100..999999999 (required)
#   RAW_LINES  newline-separated `lxc.<key>: <value>` lines (may be empty: then every key this script managed
#              before is removed again)
#   CONF_DIR   where the container confs live (default /etc/pve/lxc)
#   STATE_DIR  where this script remembers which keys it manages, in $STATE_DIR/$VMID.keys
#              (default /var/lib/hermes-lxc/raw-lxc-config)
#
# stdout: `unchanged` or `applied`, then `rebooted <vmid>` when it rebooted the container.
#
# Safe to re-run: the new content is computed from the current file and written only when its bytes differ, so a
# second run is a no-op. The key list is updated only after the conf was written, and a reboot marker is set before
# the write and cleared after the reboot, so a run killed at any point is completed by the next one.
# Snapshot sections (from the first `[...]` header on) and the description (`#` lines) are never modified.
set -euo pipefail

readonly SELF=apply-raw-lxc-config.sh

die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

log() {
  printf '%s: %s\n' "$SELF" "$*" >&2
}

# CONF_DIR and STATE_DIR come from the caller; re-checked because this script runs as root.
check_path() {
  local var=$1 path=$2
  [[ $path == /* ]] || die "$var: '$path' is not an absolute path"
  [[ $path != / ]] || die "$var: refusing '/'"
  [[ $path =~ ^[A-Za-z0-9._@+/-]+$ ]] || die "$var: '$path' contains characters outside [A-Za-z0-9._@+/-]"
  [[ /$path/ != */../* ]] || die "$var: '$path' contains a '..' segment"
}

[[ -n ${VMID-} ]] || die "VMID is required"
[[ $VMID =~ ^[1-9][0-9]{2,8}$ ]] || die "VMID must be an integer between 100 and 999999999, got '$VMID'"
CONF_DIR=${CONF_DIR:-/etc/pve/lxc}
STATE_DIR=${STATE_DIR:-/var/lib/hermes-lxc/raw-lxc-config}
check_path CONF_DIR "$CONF_DIR"
check_path STATE_DIR "$STATE_DIR"

conf=$CONF_DIR/$VMID.conf
keys_file=$STATE_DIR/$VMID.keys
reboot_marker=$STATE_DIR/$VMID.reboot-pending

desired=()
desired_keys=()
while IFS= read -r line; do
  [[ -n $line ]] || continue # a trailing newline in RAW_LINES is not a line
  # No control characters: a stray CR or tab in a value would end up verbatim in the conf PVE parses.
  [[ $line =~ ^lxc\.[a-z0-9._]+:\ [^[:cntrl:]]+$ ]] ||
    die "invalid RAW_LINES line '$line': expected 'lxc.<key>: <value>' (key [a-z0-9._], one space after the colon)"
  desired+=("$line")
  key=${line%%: *}
  [[ " ${desired_keys[*]} " == *" $key "* ]] || desired_keys+=("$key")
done <<<"${RAW_LINES-}"

[[ -f $conf ]] || die "$conf does not exist: is container $VMID on this node?"

previous_keys=()
if [[ -f $keys_file ]]; then
  while IFS= read -r key; do
    [[ $key =~ ^lxc\.[a-z0-9._]+$ ]] || die "$keys_file has an invalid line '$key'; fix or delete it"
    previous_keys+=("$key")
  done <"$keys_file"
fi

# Keys whose lines are dropped from the main section: what is wanted now (re-appended below) and what was managed
# before (so that turning a setting off removes its line).
declare -A drop=()
for key in "${desired_keys[@]}" "${previous_keys[@]}"; do drop[$key]=1; done

tmp_dir=$(mktemp -d)
trap 'rm -rf -- "$tmp_dir"' EXIT
new_conf=$tmp_dir/conf

mapfile -t lines <"$conf"
main=()
rest=()
in_main=1
for line in "${lines[@]}"; do
  # Everything from the first section header on ([snapshot], [pve:pending]) belongs to PVE and is copied verbatim.
  if ((in_main)) && [[ $line == \[* ]]; then in_main=0; fi
  if ((in_main)); then main+=("$line"); else rest+=("$line"); fi
done

# PVE separates the main section from the first snapshot with a blank line; the managed lines go before that gap.
tail_blanks=0
while ((${#main[@]} > tail_blanks)) && [[ ${main[${#main[@]} - 1 - tail_blanks]} =~ ^[[:space:]]*$ ]]; do
  ((tail_blanks += 1))
done
body_len=$((${#main[@]} - tail_blanks))

{
  for ((i = 0; i < body_len; i++)); do
    line=${main[i]}
    # PVE also accepts `key = value` and `key:value`, so the key ends at the first ':', '=' or blank.
    if [[ $line =~ ^(lxc\.[^:=[:space:]]+) ]] && [[ -n ${drop[${BASH_REMATCH[1]}]-} ]]; then
      continue
    fi
    printf '%s\n' "$line"
  done
  if ((${#desired[@]} > 0)); then printf '%s\n' "${desired[@]}"; fi
  for ((i = body_len; i < ${#main[@]}; i++)); do printf '%s\n' "${main[i]}"; done
  if ((${#rest[@]} > 0)); then printf '%s\n' "${rest[@]}"; fi
} >"$new_conf"

mkdir -p -- "$STATE_DIR"

save_keys() {
  if ((${#desired_keys[@]} == 0)); then
    rm -f -- "$keys_file"
    return
  fi
  printf '%s\n' "${desired_keys[@]}" >"$tmp_dir/keys"
  if ! cmp -s -- "$tmp_dir/keys" "$keys_file"; then
    # Written beside the target and renamed, so a kill never leaves a half-written key list.
    cp -- "$tmp_dir/keys" "$keys_file.tmp"
    mv -f -- "$keys_file.tmp" "$keys_file"
  fi
}

if cmp -s -- "$new_conf" "$conf"; then
  echo unchanged
  # A run killed between the conf write and this bookkeeping left the key list behind; the conf already matches,
  # so recording the current keys is safe.
  save_keys
  if [[ ! -e $reboot_marker ]]; then
    exit 0
  fi
  log "a previous run changed $conf but did not finish rebooting container $VMID; finishing now"
else
  : >"$reboot_marker"
  # In place: /etc/pve is pmxcfs, where a temp file plus rename is not an option.
  cat -- "$new_conf" >"$conf"
  save_keys
  echo applied
fi

status=$(pct status "$VMID")
if [[ $status =~ ^status:[[:space:]]+running ]]; then
  pct reboot "$VMID"
  echo "rebooted $VMID"
else
  log "container $VMID is not running ($status); the new lines apply at its next start"
fi
rm -f -- "$reboot_marker"
