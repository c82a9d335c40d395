#!/usr/bin/env bash
# prepare-host-dirs.sh: runs as root on the Proxmox VE node. Creates the host directories that are bind-mounted
# into an unprivileged LXC and gives each of them (the directory itself, never its contents) the host uid/gid the
# gateway process writes as. In an unprivileged CT, container uid n is host uid 100000+n, so the hermes-agent image's
# uid 10000 needs 110000 here; the caller does that arithmetic and passes the result in.
#
# Env (all required unless noted):
#   OWNER_UID, OWNER_GID  host uid/gid that must own each OWNED_DIRS entry (decimal integers)
#   DIR_MODE              octal mode for each OWNED_DIRS entry, 3 or 4 digits (e.g. 0750)
#   OWNED_DIRS            space-separated absolute paths; the parent of each must already exist
#   ENSURE_PARENTS        space-separated absolute paths to create (root-owned, 0755) if missing; may be empty
#   SEPARATE_DISK_DIRS    optional subset of OWNED_DIRS that must live on another filesystem than / (bulk disks):
#                         an unmounted disk leaves its empty mount directory behind, and the agent would
#                         otherwise fill the node's root disk without anyone noticing
#
# stdout: one line per OWNED_DIRS entry: `created <path>`, `fixed <path>` or `ok <path>`.
#
# Safe to re-run: every step compares before it acts (mkdir only if absent, chown/chmod only if stat differs), so a
# prepared host is left untouched and a run killed halfway is completed by the next one. Nothing is ever deleted, and
# the work is O(1) in the size of the data below each directory: the tree is never walked.
set -euo pipefail

readonly SELF=prepare-host-dirs.sh

die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

log() {
  printf '%s: %s\n' "$SELF" "$*" >&2
}

# The caller validates too, but this script runs as root on the node: a stray `/`, `..` or `.` segment here could
# re-own a whole disk, so every path is re-checked before anything is touched.
check_path() {
  local var=$1 path=$2
  [[ $path == /* ]] || die "$var: '$path' is not an absolute path"
  [[ $path != / ]] || die "$var: refusing '/'"
  [[ $path =~ ^[A-Za-z0-9._@+/-]+$ ]] || die "$var: '$path' contains characters outside [A-Za-z0-9._@+/-]"
  [[ /$path/ != */../* ]] || die "$var: '$path' contains a '..' segment"
  # A '.' segment, '//' or a trailing '/' would make the parent computed below point at the wrong directory
  # (e.g. '/mnt/pve/hdd/.' would re-own the disk root).
  [[ /$path/ != */./* ]] || die "$var: '$path' contains a '.' segment"
  [[ $path != *//* ]] || die "$var: '$path' contains '//'"
  [[ $path != */ ]] || die "$var: '$path' ends with '/'"
}

check_id() {
  local var=$1 value=$2
  # 4294967295 is (uid_t)-1, which chown reads as "leave unchanged"; leading zeros are refused so the string
  # compared with stat output below is canonical.
  if ! [[ $value =~ ^(0|[1-9][0-9]{0,9})$ ]] || ((value >= 4294967295)); then
    die "$var must be a decimal integer between 0 and 4294967294, got '$value'"
  fi
}

[[ -n ${OWNER_UID-} ]] || die "OWNER_UID is required (host uid = 100000 + container uid, e.g. 110000)"
[[ -n ${OWNER_GID-} ]] || die "OWNER_GID is required (host gid = 100000 + container gid, e.g. 110000)"
[[ -n ${DIR_MODE-} ]] || die "DIR_MODE is required (octal, e.g. 0750)"
[[ -n ${OWNED_DIRS-} ]] || die "OWNED_DIRS is required (space-separated absolute paths)"
check_id OWNER_UID "$OWNER_UID"
check_id OWNER_GID "$OWNER_GID"
[[ $DIR_MODE =~ ^[0-7]{3,4}$ ]] || die "DIR_MODE must be 3 or 4 octal digits (e.g. 0750), got '$DIR_MODE'"

# stat -c %a prints the mode without leading zeros; compare in that form.
want_mode=$(printf '%o' "$((8#$DIR_MODE))")
# GNU chmod keeps a directory's setuid/setgid bits for a plain numeric mode such as 0750; the extra leading zero
# makes it set exactly these bits, otherwise a stray g+s would be "fixed" on every run without ever converging.
chmod_mode=$(printf '%05o' "$((8#$DIR_MODE))")
want_owner="$OWNER_UID:$OWNER_GID"

read -r -a owned <<<"$OWNED_DIRS"
read -r -a parents <<<"${ENSURE_PARENTS-}"
read -r -a separate <<<"${SEPARATE_DISK_DIRS-}"
((${#owned[@]} > 0)) || die "OWNED_DIRS contains no path"
for p in "${parents[@]}"; do check_path ENSURE_PARENTS "$p"; done
for d in "${separate[@]}"; do
  check_path SEPARATE_DISK_DIRS "$d"
  [[ " ${owned[*]} " == *" $d "* ]] || die "SEPARATE_DISK_DIRS: $d is not one of OWNED_DIRS"
done
root_dev=$(stat -c %d /)
for d in "${owned[@]}"; do check_path OWNED_DIRS "$d"; done

# Parents are plain scaffolding owned by root; an explicit umask keeps them 0755 whatever the SSH session's umask is.
umask 022

for p in "${parents[@]}"; do
  if [[ -d $p ]]; then
    continue # existing parents are left exactly as they are: they may belong to someone else's layout
  fi
  [[ ! -e $p && ! -L $p ]] || die "ENSURE_PARENTS: $p exists but is not a directory"
  mkdir -p -- "$p"
  log "created parent $p"
done

# Check every owned dir before changing any, so a refusal leaves the host as it was rather than half-prepared.
for d in "${owned[@]}"; do
  parent=${d%/*}
  parent=${parent:-/}
  # Without this check, an unmounted storage would silently get the directory on the root disk instead.
  [[ -d $parent ]] || die "parent $parent of $d does not exist: is the disk mounted?"
  if [[ " ${separate[*]} " == *" $d "* ]]; then
    probe=$parent
    [[ ! -d $d ]] || probe=$d
    if [[ $(stat -c %d -- "$probe") == "$root_dev" ]]; then
      die "$d would be on the root filesystem, not on a separate disk: is the disk mounted at $parent? (if this directory is meant to be on /, set the mount's onSeparateDisk: false)"
    fi
  fi
  if [[ -L $d ]]; then
    die "$d is a symlink: refusing to re-own whatever it points to; use the real path"
  fi
  if [[ -e $d ]]; then
    [[ -d $d ]] || die "$d exists but is not a directory"
    # chown on the root of a filesystem re-maps the whole disk for the container; only a subdirectory is safe.
    if mountpoint -q -- "$d"; then
      die "$d is a mount point: refusing to re-own the root of a filesystem; bind a subdirectory of it instead"
    fi
  fi
done

for d in "${owned[@]}"; do
  result=ok
  if [[ ! -e $d ]]; then
    # Plain mkdir: the parent was checked above, and -p could create a whole tree on the wrong disk.
    mkdir -- "$d"
    result=created
  fi
  read -r have_owner have_mode < <(stat -c '%u:%g %a' -- "$d")
  if [[ $have_owner != "$want_owner" ]]; then
    chown -- "$want_owner" "$d" # the directory itself only: its contents are the user's data
    [[ $result == created ]] || result=fixed
    # chown may drop setuid/setgid bits, so the mode is judged on what chown left behind.
    have_mode=$(stat -c '%a' -- "$d")
  fi
  if [[ $have_mode != "$want_mode" ]]; then
    chmod -- "$chmod_mode" "$d"
    [[ $result == created ]] || result=fixed
  fi
  printf '%s %s\n' "$result" "$d"
done
