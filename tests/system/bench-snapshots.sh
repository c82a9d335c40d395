#!/usr/bin/env bash
# Benchmark of the snapshot scripts on an agent directory of about 1 GB with a 200 MB state.db (WAL mode), run as
# the node runs them (templates/snapshot-agent-data.sh and restore-agent-data.sh, root, local disk). No LXC needed:
# snapshots run on the Proxmox node itself. Prints a markdown table; the numbers go in BENCHMARKS.md.
# Usage: sudo bash tests/system/bench-snapshots.sh [workdir]   (default: a temp dir under /var/tmp; needs ~3 GB)
# Needs: sqlite3, zstd, python3 (to generate the data).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
templates=$here/../../templates
work=$(mktemp -d "${1:-/var/tmp}/hermes-bench-snap.XXXXXX")
trap 'rm -rf "$work"' EXIT
data=$work/srv/bench
snaps=$work/snapshots
mkdir -p "$data"

# The data: state.db of ~200 MB (sessions: text rows, WAL mode, like hermes' default journal mode), and ~800 MB of
# memories, skills and session transcripts (2,000 text files of ~400 KB).
python3 - "$data" <<'EOF'
import os, random, sqlite3, string, sys
root = sys.argv[1]
rnd = random.Random(42)
# A 64 MB pool of text from a 5,000-word vocabulary; every file and row is a slice at a random offset, so the data
# compresses like prose (about 3:1 with zstd), not like one block repeated.
words = ["".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(2, 10))) for _ in range(5000)]
pool = " ".join(rnd.choices(words, k=9_000_000))[: 64 << 20]
def text(n):
    at = rnd.randrange(0, len(pool) - n)
    return pool[at : at + n]
db = sqlite3.connect(os.path.join(root, "state.db"))
db.execute("PRAGMA journal_mode=wal")
db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, session TEXT, body TEXT)")
for i in range(50000):
    db.execute("INSERT INTO messages (session, body) VALUES (?, ?)", (f"s{i % 500}", text(4000)))
db.commit()
db.close()
for d in ("memories", "skills", "sessions"):
    os.makedirs(os.path.join(root, d), exist_ok=True)
for i in range(2000):
    sub = ("memories", "skills", "sessions")[i % 3]
    with open(os.path.join(root, sub, f"f{i:05}.md"), "w") as f:
        f.write(text(400_000))
EOF
chown -R 110000:110000 "$data"

secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f s", e - s }'; }
run() { # <script> <env...>: the way the program runs it
  env "${@:2}" bash "$templates/$1"
}
common=(AGENT=bench "DATA_DIR=$data" "SNAPSHOT_ROOT=$snaps" KEEP=7 MAX_AGE_DAYS=30)

data_bytes=$(du -sb "$data" | cut -f1)
db_bytes=$(stat -c %s "$data/state.db")
sync

t0=$(date +%s.%N)
run snapshot-agent-data.sh "${common[@]}" LABEL=scheduled >/dev/null 2>&1
t1=$(date +%s.%N)
file=$(find "$snaps/bench" -name '*.tar.zst' | head -n1)
snap_bytes=$(stat -c %s "$file")

# The scheduled run the next day with nothing changed: the fingerprint matches, nothing is written.
unchanged=()
for _ in 1 2 3 4 5; do
  a=$(date +%s.%N)
  out=$(run snapshot-agent-data.sh "${common[@]}" LABEL=scheduled 2>/dev/null)
  b=$(date +%s.%N)
  [[ $out == unchanged* ]] || { echo "expected an unchanged run, got: $out" >&2; exit 1; }
  unchanged+=("$(awk -v s="$a" -v e="$b" 'BEGIN { printf "%.3f", e - s }')")
done
median=$(printf '%s\n' "${unchanged[@]}" | sort -n | sed -n 3p)

# One memory changed: a full snapshot again (snapshots are self-contained archives, not increments).
echo "one more thing" >>"$data/memories/f00000.md"
t2=$(date +%s.%N)
run snapshot-agent-data.sh "${common[@]}" LABEL=scheduled >/dev/null 2>&1
t3=$(date +%s.%N)

t4=$(date +%s.%N)
run restore-agent-data.sh AGENT=bench "DATA_DIR=$data" "SNAPSHOT_ROOT=$snaps" SNAPSHOT=latest CONTAINER_NAME=hermes-bench VMID= >/dev/null 2>&1
t5=$(date +%s.%N)

mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }
printf '| measure | value | notes |\n|---|---|---|\n'
printf '| agent directory | %s (state.db %s) | 2,000 text files + one WAL-mode SQLite database |\n' "$(mib "$data_bytes")" "$(mib "$db_bytes")"
printf '| snapshot (first) | %s | online backup of state.db, tar, zstd -3, listed, integrity_check of the copy |\n' "$(secs "$t0" "$t1")"
printf '| snapshot size | %s | %.0f%% of the directory |\n' "$(mib "$snap_bytes")" "$(awk -v a="$snap_bytes" -v b="$data_bytes" 'BEGIN { print 100 * a / b }')"
printf '| scheduled run, nothing changed (median of 5) | %s s | fingerprint of names, sizes, mtimes, owners, modes; nothing written |\n' "$median"
printf '| scheduled run after one memory changed | %s | a full snapshot again |\n' "$(secs "$t2" "$t3")"
printf '| restore of the latest | %s | list, extract, integrity_check, two renames (no gateway here) |\n' "$(secs "$t4" "$t5")"
# shellcheck disable=SC1091 # /etc/os-release exists on every Debian
printf '\nMeasured on %s (%s, kernel %s, %s cores), %s.\n' "$(hostname)" \
  "$(. /etc/os-release && echo "$PRETTY_NAME")" "$(uname -r)" "$(nproc)" "$(date -u +%F)"
