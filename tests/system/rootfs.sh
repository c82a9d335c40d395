#!/usr/bin/env bash
# Builds (once) and caches the Debian 12 rootfs the system tier's CT is made from, and prints the path of the
# cached tarball on stdout.
#
# It stands in for Proxmox's debian-12-standard template: debootstrap's default variant (priority required +
# important: systemd as init, ifupdown, iproute2, procps, cron, less, nano, ...) plus what that template ships and
# this project relies on (openssh-server, ca-certificates, curl, wget, python3). python3-yaml is added because the
# agent-files scripts need it (the program installs it via EXTRA_PACKAGES; having it here too keeps the tier fast).
# Deliberately NOT included: postfix (slow to configure, irrelevant), unattended-upgrades (its timers would grab
# the apt lock at random moments during the tier; the lock-wait path is tested on purpose instead), gnupg.
#
# The tarball is unshifted (uid 0 = root); env-up.sh extracts it inside a user namespace, the way `pct create`
# does, so every file lands at host uid 100000+n with its mode (setuid bits included) intact.
#
# Cache key: suite + mirror + package list + this file's recipe version. Change any of them and it rebuilds.
set -euo pipefail
# shellcheck source=tests/system/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RECIPE_VERSION=3
PACKAGES=(
  systemd-sysv dbus openssh-server iproute2 ifupdown ca-certificates curl wget
  python3 python3-yaml procps less iputils-ping
)

key_input="recipe=$RECIPE_VERSION suite=$SYSTEST_SUITE mirror=$SYSTEST_MIRROR packages=${PACKAGES[*]}"
key=$(printf '%s' "$key_input" | sha256sum | cut -c1-16)
tarball="$SYSTEST_CACHE/rootfs-$SYSTEST_SUITE-$key.tar"

mkdir -p "$SYSTEST_CACHE"
# Two tiers started at once must not both debootstrap into the cache.
exec 9>"$SYSTEST_CACHE/.rootfs.lock"
flock 9

if [[ -s $tarball ]]; then
  log "rootfs cache hit: $tarball"
  printf '%s\n' "$tarball"
  exit 0
fi

log "rootfs cache miss ($key_input); running debootstrap (takes a few minutes, cached afterwards)"
# Built outside the repository (jest crawls tests/, and debootstrap mounts /proc and /sys inside the target), on the
# same filesystem as the cache so the final mv is a rename.
work=$(mktemp -d /var/tmp/hermes-systest-rootfs.XXXXXX)
cleanup() {
  # An interrupted debootstrap leaves proc/sys mounted in the target: unmount before deleting, and never cross
  # into another filesystem while deleting.
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(findmnt -rn -o TARGET | grep -F "$work/" | sort -r)
  rm -rf --one-file-system "$work"
}
# A failed or interrupted build leaves nothing half-done in the cache.
trap cleanup EXIT

include=$(
  IFS=,
  echo "${PACKAGES[*]}"
)
debootstrap --include="$include" "$SYSTEST_SUITE" "$work/rootfs" "$SYSTEST_MIRROR" >"$work/debootstrap.log" 2>&1 || {
  tail -n 40 "$work/debootstrap.log" >&2
  die "debootstrap failed (log above)"
}

r="$work/rootfs"
# Like a Proxmox template: no downloaded .debs, no host keys (every CT gets its own at creation), no machine-id
# (systemd creates one at first boot), apt lists kept so `apt-get install` works before any `apt-get update`
# would (the template ships them too).
rm -f "$r"/var/cache/apt/archives/*.deb "$r"/etc/ssh/ssh_host_* "$r"/etc/machine-id "$r"/var/lib/dbus/machine-id
: >"$r/etc/machine-id"
cat >"$r/etc/apt/sources.list" <<EOF
deb $SYSTEST_MIRROR $SYSTEST_SUITE main
deb $SYSTEST_MIRROR $SYSTEST_SUITE-updates main
deb http://deb.debian.org/debian-security $SYSTEST_SUITE-security main
EOF
# Device nodes cannot be created inside a user namespace, and LXC populates /dev itself (autodev).
tar --numeric-owner -C "$r" --exclude='./dev/*' -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$tarball.tmp"
mv "$tarball.tmp" "$tarball"
log "rootfs cached: $tarball ($(du -h "$tarball" | cut -f1))"
printf '%s\n' "$tarball"
