#!/usr/bin/env bash
# snapshot-agent-data.sh: runs as root on the Proxmox node (an LXC agent: its /opt/data is a host directory there)
# or on a Docker host, and writes one verified snapshot of an agent's /opt/data, outside every bind mount.
#
# Why: Proxmox backups never include bind mounts (vzdump: "excluding bind mount point mpN ... (not a volume)"), and an
# image upgrade runs a config migration against this data. Installed by install-agent-snapshots.sh as
# `hermes-lxc-snapshot <id> [label]` (which sets this environment from the agent's conf file).
#
# Env:
#   AGENT          agent name ([a-z0-9-])
#   DATA_DIR       the agent's /opt/data on this machine (absolute)
#   SNAPSHOT_ROOT  the configured snapshot directory (absolute, not /); this agent's go to SNAPSHOT_ROOT/AGENT,
#                  both 0700
#   KEEP           snapshots kept (1..1000); the newest is never removed
#   MAX_AGE_DAYS   snapshots older than this are removed (1..3650); the newest is never removed
#   LABEL          scheduled | pre-change | manual | [a-z0-9-]{1,32}: part of the name; `scheduled` skips when
#                  nothing changed since the newest snapshot
#
# Consistency: every SQLite database (found by its header, not its name) is copied with SQLite's online backup API
# (the sqlite3 shell's .backup, or Python's sqlite3.Connection.backup where the shell is missing), never by a plain
# copy of a live file; its -wal/-shm/-journal files are left out. Everything else goes in as it is (tar, numeric
# owners, modes). Runtime files hermes rewrites constantly and never restores (gateway_state.json, *.pid,
# .backup.lock: hermes_cli/backup.py) are left out.
# Verification: the written archive is listed, and each database in it is extracted and passes PRAGMA
# integrity_check; only then is it renamed into place (atomic). Files 0600, directories 0700: .env and auth.json
# are in there. Never writes to DATA_DIR, except handing back to the database's owner a -wal/-shm file that
# SQLite created while this script read the database.
# stdout: last line `snapshot <file>` or `unchanged <file>` (or `nothing to snapshot: ...`).
set -euo pipefail
umask 077

readonly SELF=snapshot-agent-data.sh
die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}
log() { printf '%s\n' "$*" >&2; }

[[ ${AGENT-} =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || die "AGENT must be a DNS label, got '${AGENT-}'"
for v in DATA_DIR SNAPSHOT_ROOT; do
  [[ ${!v-} =~ ^/[A-Za-z0-9._@+/-]+$ && ${!v} != *..* ]] || die "$v must be an absolute path, got '${!v-}'"
done
if [[ ! ${KEEP-} =~ ^[1-9][0-9]{0,3}$ ]] || ((KEEP > 1000)); then die "KEEP must be 1..1000, got '${KEEP-}'"; fi
if [[ ! ${MAX_AGE_DAYS-} =~ ^[1-9][0-9]{0,3}$ ]] || ((MAX_AGE_DAYS > 3650)); then
  die "MAX_AGE_DAYS must be 1..3650, got '${MAX_AGE_DAYS-}'"
fi
[[ ${LABEL-} =~ ^[a-z0-9][a-z0-9-]{0,31}$ ]] || die "LABEL must be [a-z0-9-]{1,32}, got '${LABEL-}'"
[[ $SNAPSHOT_ROOT != / ]] || die "SNAPSHOT_ROOT must not be /"
SNAPSHOT_DIR=$SNAPSHOT_ROOT/$AGENT
[[ $SNAPSHOT_DIR != "$DATA_DIR" && $SNAPSHOT_DIR != "$DATA_DIR"/* && $DATA_DIR != "$SNAPSHOT_DIR"/* ]] ||
  die "SNAPSHOT_DIR $SNAPSHOT_DIR and DATA_DIR $DATA_DIR must not contain one another"

if [[ ! -d $DATA_DIR ]]; then
  echo "nothing to snapshot: $DATA_DIR does not exist yet"
  exit 0
fi
[[ ! -L $DATA_DIR ]] || die "DATA_DIR $DATA_DIR is a symlink"

# The sqlite3 shell is a dependency of pve-cluster (every Proxmox VE node has it); Docker hosts have python3
# (write-agent-files.sh needs it). Either drives the same online backup API.
if command -v sqlite3 >/dev/null 2>&1; then SQLITE=shell; elif command -v python3 >/dev/null 2>&1; then SQLITE=python; else
  die "neither the sqlite3 shell nor python3 is installed: no consistent copy of hermes' databases is possible"
fi
if command -v zstd >/dev/null 2>&1; then EXT=tar.zst; else EXT=tar.gz; fi

mkdir -p "$SNAPSHOT_DIR"
chmod 0700 "$SNAPSHOT_ROOT" "$SNAPSHOT_DIR"
# One snapshot of an agent at a time (a scheduled run and a deploy may meet).
exec 9>"$SNAPSHOT_DIR/.lock"
flock -w 900 9 || die "another snapshot of $AGENT is still running (lock $SNAPSHOT_DIR/.lock)"
# Leftovers of an interrupted run: this script's own staging directories only.
find "$SNAPSHOT_DIR" -mindepth 1 -maxdepth 1 -name '.staging-*' -exec rm -rf -- {} +

# Snapshots of this agent, newest first (the UTC stamp in the name sorts chronologically).
snapshots() {
  find "$SNAPSHOT_DIR" -mindepth 1 -maxdepth 1 -type f \( -name "$AGENT-*.tar.zst" -o -name "$AGENT-*.tar.gz" \) \
    -printf '%f\n' | sort -r
}

# Runtime files: rewritten by the live gateway, never restored by hermes itself.
is_runtime() { [[ $1 == gateway_state.json || $1 == gateway.pid || $1 == cron.pid || $1 == .backup.lock ]]; }

# What the tree looks like (names, types, sizes, mtimes, owners, modes): equal fingerprints, nothing to save.
# Directories count without their mtime: a lock or temp file created and removed again (by the live gateway) changes
# its directory's mtime and nothing worth a snapshot; an entry that stays shows up by its own name anyway.
fingerprint() {
  find "$DATA_DIR" -xdev -mindepth 1 \
    \( -path "$DATA_DIR/gateway_state.json" -o -path "$DATA_DIR/gateway.pid" -o -path "$DATA_DIR/cron.pid" \
    -o -path "$DATA_DIR/.backup.lock" -o -path "$DATA_DIR/.gateway_state_*" \) -prune \
    -o -type d -printf '%P\0d %U:%G %m\0' -o -printf '%P\0%y %s %T@ %U:%G %m\0' |
    sort -z | sha256sum | cut -d' ' -f1
}

retention() {
  local -a all
  local i f
  mapfile -t all < <(snapshots)
  for ((i = 1; i < ${#all[@]}; i++)); do
    f=$SNAPSHOT_DIR/${all[$i]}
    if ((i >= KEEP)) || [[ -n $(find "$f" -maxdepth 0 -mtime "+$((MAX_AGE_DAYS - 1))" -print) ]]; then
      rm -f -- "$f" "$f.fingerprint"
      echo "removed ${all[$i]}"
    fi
  done
}

started=$(date +%s.%N)
now_fp=$(fingerprint)
latest=$(snapshots | head -n1)
if [[ $LABEL == scheduled && -n $latest && -f $SNAPSHOT_DIR/$latest.fingerprint &&
  $(<"$SNAPSHOT_DIR/$latest.fingerprint") == "$now_fp" ]]; then
  retention
  echo "unchanged $SNAPSHOT_DIR/$latest"
  exit 0
fi

stage=$(mktemp -d "$SNAPSHOT_DIR/.staging-XXXXXX")
trap 'rm -rf -- "$stage"' EXIT

sqlite_backup() { # <live database> <copy>
  if [[ $SQLITE == shell ]]; then
    # The copy's path is this script's own (no quotes in it): safe inside the dot-command.
    sqlite3 -bail -cmd '.timeout 30000' "$1" ".backup main '$2'" >/dev/null
  else
    python3 -c 'import sqlite3, sys
src = sqlite3.connect(sys.argv[1], timeout=30)
dst = sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close()
src.close()' "$1" "$2"
  fi
}
sqlite_check() { # <database> -> prints integrity_check's verdict
  if [[ $SQLITE == shell ]]; then
    sqlite3 -bail "$1" 'PRAGMA integrity_check;' 2>&1 | head -n 5
  else
    python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print("\n".join(r[0] for r in c.execute("PRAGMA integrity_check").fetchall()[:5]))
c.close()' "$1" 2>&1
  fi
}

# 1. The databases, through the online backup API, into the staging tree at their relative paths.
mkdir -p "$stage/db"
: >"$stage/db.list"
n_db=0
while IFS= read -r -d '' f; do
  [[ $(head -c 15 -- "$f" 2>/dev/null) == "SQLite format 3" ]] || continue
  rel=${f#"$DATA_DIR"/}
  had_wal=0 had_shm=0
  [[ -e $f-wal ]] && had_wal=1
  [[ -e $f-shm ]] && had_shm=1
  copy=$stage/copy-$n_db.sqlite
  sqlite_backup "$f" "$copy" || die "the online backup of $rel failed"
  # SQLite may have created -wal/-shm next to the live database while reading it: they belong to its owner.
  [[ $had_wal == 1 || ! -e $f-wal ]] || chown --reference="$f" -- "$f-wal"
  [[ $had_shm == 1 || ! -e $f-shm ]] || chown --reference="$f" -- "$f-shm"
  chown --reference="$f" -- "$copy"
  chmod --reference="$f" -- "$copy"
  touch --reference="$f" -- "$copy"
  mkdir -p -- "$stage/db/$(dirname -- "$rel")"
  mv -- "$copy" "$stage/db/$rel"
  printf '%s\0' "$rel" >>"$stage/db.list"
  n_db=$((n_db + 1))
done < <(find "$DATA_DIR" -xdev -type f \( -name '*.db' -o -name '*.sqlite' -o -name '*.sqlite3' \) -print0)

# 2. Everything else: the directory itself, then every entry except runtime files, the databases and their
# journals (the copies above replace them).
{
  printf '.\0'
  while IFS= read -r -d '' rel; do
    top=${rel%%/*}
    if [[ $rel == "$top" ]] && is_runtime "$rel"; then continue; fi
    printf '%s\0' "$rel"
  done < <(find "$DATA_DIR" -xdev -mindepth 1 -printf '%P\0')
} >"$stage/all.list"
if [[ -s $stage/db.list ]]; then
  # Drop the databases and their -wal/-shm/-journal files from the list (exact names, NUL-separated).
  without_databases() {
    local -A skip=()
    local r
    while IFS= read -r -d '' r; do
      skip[$r]=1 skip[$r-wal]=1 skip[$r-shm]=1 skip[$r-journal]=1
    done <"$stage/db.list"
    while IFS= read -r -d '' r; do
      [[ -n ${skip[$r]-} ]] || printf '%s\0' "$r"
    done <"$stage/all.list"
  }
  without_databases >"$stage/files.list"
else
  mv "$stage/all.list" "$stage/files.list"
fi

# One stream, no uncompressed copy on disk: the tree from DATA_DIR, then the database copies from the staging tree.
archive=$stage/snapshot.$EXT
compress() { if [[ $EXT == tar.zst ]]; then zstd -q -T0 -3 -c; else gzip -6 -c; fi; }
set +e
tar --numeric-owner --no-recursion --null --verbatim-files-from --ignore-failed-read -cf - \
  -C "$DATA_DIR" -T "$stage/files.list" -C "$stage/db" -T "$stage/db.list" 2>"$stage/tar.err" | compress >"$archive"
status=("${PIPESTATUS[@]}")
set -e
# tar 1 = a file changed while it was read (the gateway is live): the snapshot is still usable, say so.
((status[0] <= 1)) || die "tar failed: $(head -c 2000 "$stage/tar.err")"
((status[1] == 0)) || die "compressing the snapshot failed"
((status[0] == 0)) || log "note: files changed while they were read: $(head -c 500 "$stage/tar.err")"

# 3. Verify what was written: it opens and lists, and every database in it passes integrity_check.
# (A file that vanished while the live gateway ran is simply not in it: the count is reported, not compared.)
listed=$(tar -tf "$archive" | wc -l) || die "the new snapshot cannot be read back"
((listed > 0)) || die "the new snapshot lists no entries"
if ((n_db > 0)); then
  mkdir "$stage/verify"
  tar -C "$stage/verify" -xf "$archive" --null --verbatim-files-from -T "$stage/db.list"
  while IFS= read -r -d '' rel; do
    verdict=$(sqlite_check "$stage/verify/$rel")
    [[ $verdict == ok ]] || die "database $rel in the new snapshot fails integrity_check: $verdict"
  done <"$stage/db.list"
fi

# 4. Into place: a unique name (the stamp, to the second), fingerprint first, then the archive by rename.
while :; do
  name=$AGENT-$(date -u +%Y%m%dT%H%M%SZ)-$LABEL.$EXT
  [[ -e $SNAPSHOT_DIR/$name ]] || break
  sleep 1
done
printf '%s\n' "$now_fp" >"$SNAPSHOT_DIR/$name.fingerprint"
chmod 0600 "$archive" "$SNAPSHOT_DIR/$name.fingerprint"
mv -- "$archive" "$SNAPSHOT_DIR/$name"
retention
bytes=$(stat -c %s "$SNAPSHOT_DIR/$name")
log "wrote $name: $bytes bytes, $listed entries, $n_db databases (sqlite via $SQLITE), $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"
echo "snapshot $SNAPSHOT_DIR/$name"
