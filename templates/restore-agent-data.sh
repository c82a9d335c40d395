#!/usr/bin/env bash
# restore-agent-data.sh: runs as root where snapshot-agent-data.sh wrote the agent's snapshots (the Proxmox node,
# or the Docker host), and puts one back: the named snapshot, or the newest. Installed by
# install-agent-snapshots.sh as `hermes-lxc-restore <id> <snapshot file name | latest | list>`.
#
# Env:
#   AGENT           agent name ([a-z0-9-])
#   DATA_DIR        the agent's /opt/data on this machine (absolute)
#   SNAPSHOT_ROOT   the configured snapshot directory; this agent's are in SNAPSHOT_ROOT/AGENT
#   SNAPSHOT        a file name from `list`, or `latest`, or `list` (prints the snapshots, newest first, and stops)
#   CONTAINER_NAME  the gateway container
#   VMID            the LXC the container runs in (docker is reached with `pct exec VMID -- docker ...`); empty on a
#                   Docker host (docker runs here)
#
# Order, so that the gateway is down for seconds and nothing is ever deleted:
#   1. the snapshot is listed and extracted (numeric owners, modes) next to DATA_DIR, and its databases pass
#      PRAGMA integrity_check, while the gateway still runs;
#   2. the gateway is stopped (`docker stop`);
#   3. DATA_DIR is renamed to DATA_DIR.before-restore-<stamp> (kept: remove it yourself once satisfied) and the
#      extracted tree renamed into its place (same filesystem: two renames);
#   4. the gateway is started again (`docker start`): Docker resolves the bind mount's source again at start.
# An interruption before 3 leaves DATA_DIR untouched; re-running finishes the job.
# stdout: last line `restored <snapshot> into <DATA_DIR>; previous data kept at <dir>; started <container>`.
set -euo pipefail
umask 077

readonly SELF=restore-agent-data.sh
die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

[[ ${AGENT-} =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || die "AGENT must be a DNS label, got '${AGENT-}'"
for v in DATA_DIR SNAPSHOT_ROOT; do
  [[ ${!v-} =~ ^/[A-Za-z0-9._@+/-]+$ && ${!v} != *..* && ${!v} != / ]] || die "$v must be an absolute path, got '${!v-}'"
done
[[ ${CONTAINER_NAME-} =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]] || die "CONTAINER_NAME is not a container name: '${CONTAINER_NAME-}'"
[[ -z ${VMID-} || ${VMID} =~ ^[1-9][0-9]{2,8}$ ]] || die "VMID must be empty or a VMID, got '${VMID-}'"
SNAPSHOT_DIR=$SNAPSHOT_ROOT/$AGENT

snapshots() {
  [[ -d $SNAPSHOT_DIR ]] || return 0
  find "$SNAPSHOT_DIR" -mindepth 1 -maxdepth 1 -type f \( -name "$AGENT-*.tar.zst" -o -name "$AGENT-*.tar.gz" \) \
    -printf '%f\n' | sort -r
}

case ${SNAPSHOT-} in
  list)
    while IFS= read -r f; do
      printf '%s\t%s bytes\n' "$f" "$(stat -c %s "$SNAPSHOT_DIR/$f")"
    done < <(snapshots)
    exit 0
    ;;
  latest)
    name=$(snapshots | head -n1)
    [[ -n $name ]] || die "no snapshot of $AGENT in $SNAPSHOT_DIR"
    ;;
  *)
    name=${SNAPSHOT-}
    [[ $name =~ ^$AGENT-[0-9]{8}T[0-9]{6}Z-[a-z0-9-]+\.tar\.(zst|gz)$ ]] ||
      die "SNAPSHOT must be 'latest', 'list' or a file name from 'list' ($AGENT-<UTC stamp>-<label>.tar.zst), got '$name'"
    [[ -f $SNAPSHOT_DIR/$name ]] || die "no snapshot $name in $SNAPSHOT_DIR (see: list)"
    ;;
esac
archive=$SNAPSHOT_DIR/$name

docker_cmd() {
  if [[ -n ${VMID-} ]]; then pct exec "$VMID" -- docker "$@"; else docker "$@"; fi
}

sqlite_check() {
  if command -v sqlite3 >/dev/null 2>&1; then
    sqlite3 -bail "$1" 'PRAGMA integrity_check;' 2>&1 | head -n 5
  else
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print("\n".join(r[0] for r in c.execute("PRAGMA integrity_check").fetchall()[:5]))
c.close()' "$1" 2>&1
  fi
}

parent=$(dirname "$DATA_DIR")
base=$(basename "$DATA_DIR")
[[ -d $parent ]] || die "the parent of DATA_DIR, $parent, does not exist"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
# Leftovers of an interrupted restore: only this script's own extraction directories.
find "$parent" -mindepth 1 -maxdepth 1 -name "$base.restoring-*" -exec rm -rf -- {} +
work=$parent/$base.restoring-$stamp
mkdir "$work"

# 1. Extract (the archive's "./" entry gives the directory its owner and mode) and verify.
tar -tf "$archive" >/dev/null || die "snapshot $name cannot be read"
tar -C "$work" --numeric-owner --same-permissions --same-owner -xf "$archive" || die "extracting $name failed"
while IFS= read -r -d '' db; do
  [[ $(head -c 15 -- "$db") == "SQLite format 3" ]] || continue
  verdict=$(sqlite_check "$db")
  [[ $verdict == ok ]] || die "database ${db#"$work"/} in $name fails integrity_check: $verdict (DATA_DIR untouched)"
done < <(find "$work" -type f \( -name '*.db' -o -name '*.sqlite' -o -name '*.sqlite3' \) -print0)
# Opening the copies may have left -wal/-shm files owned by root: they must not stay (the gateway owns its journals).
find "$work" -type f \( -name '*.db-wal' -o -name '*.db-shm' -o -name '*.sqlite-wal' -o -name '*.sqlite-shm' \) -delete

# 2. Stop the gateway (gone or stopped already: fine).
stopped=no
if docker_cmd container inspect "$CONTAINER_NAME" >/dev/null 2>&1; then
  docker_cmd stop -t 30 "$CONTAINER_NAME" >/dev/null
  stopped=yes
fi

# 3. Swap: the current data is kept aside, never deleted.
aside=none
if [[ -e $DATA_DIR ]]; then
  aside=$parent/$base.before-restore-$stamp
  mv -T -- "$DATA_DIR" "$aside"
fi
mv -T -- "$work" "$DATA_DIR"

# 4. Start it again.
started=no
if [[ $stopped == yes ]]; then
  docker_cmd start "$CONTAINER_NAME" >/dev/null
  started=yes
fi
echo "restored $name into $DATA_DIR; previous data kept at $aside; started $CONTAINER_NAME: $started"
