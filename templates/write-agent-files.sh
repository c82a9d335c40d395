#!/usr/bin/env bash
# write-agent-files.sh: runs as root inside the LXC (or on any Docker host). Installs the files the stack declares
# for one agent (config.yaml, .env, auth.json, SOUL.md, workspace documents) into the agent directory, which is the
# host side of the gateway container's /opt/data, sets the `.managed` marker, installs the `hermes` wrapper, and
# restarts the gateway container once when anything it reads changed.
#
# Env (required unless noted):
#   AGENT_NAME         agent name (a DNS label); used in messages
#   AGENT_DIR          absolute path of the agent directory, e.g. /srv/hermes/<agent>
#   OWNER_UID          uid the gateway runs as on this host (optional, default 10000: the image's hermes user)
#   OWNER_GID          gid the gateway runs as on this host (optional, default 10000)
#   CONTAINER_NAME     docker container of the gateway, restarted when something changed
#   MANAGED            true|false: create or remove $AGENT_DIR/.managed (hermes then refuses `config set` etc.)
#   MERGE_CONFIG_PY    text of templates/merge-config.py (needs python3 + PyYAML on this host)
#   HERMES_WRAPPER_SH  text of templates/hermes-wrapper.sh, installed as the `hermes` command
#   WRAPPER_PATH       optional, default /usr/local/bin/hermes (tests point it into a temp dir)
#
# stdin: the payload of components/lib/agentFiles.ts (SECRET: .env and auth.json travel in it):
#   hermes-lxc-agent-files v1
#   file <relpath> <0600|0640> <replace|merge-yaml|seed> <base64 content>
#   end
#
# stdout, one line per item, never content: `changed|unchanged|seeded|kept <relpath>` (`.managed` included) and
# `restarted <container>`. Notes go to stderr.
#
# Safe to re-run: the whole payload is read and checked before anything is written, so an interrupted transfer (no
# `end` line) changes nothing; each file is written to a temp file next to it and renamed into place (a kill leaves
# the old file or the new one, never half of one, and the next run sweeps the temp files); files whose bytes, owner
# and mode already match are left alone, and then nothing is restarted. Only the named files and their parent
# directories are touched: the agent's data tree is never walked.
#
# Why the file work runs as OWNER_UID (setpriv), not as root: the agent writes in this directory too, and a
# prompt-injected agent could plant symlinks (config.yaml -> /etc/shadow, workspace -> /etc). As root, following one
# would read or overwrite files of the host; as the agent's own uid it can only reach what the agent could already
# reach. It also makes every file owner-owned from its first byte. Root is used only for the agent directory itself
# (created by this script, not agent-controlled), `chown -h` (never follows links), the wrapper and docker.
set -euo pipefail
shopt -s nullglob
# Nothing this script creates may be group- or world-readable, not even for an instant: modes are only widened
# (0640) on the temp file, before it is renamed into place.
umask 077

readonly SELF=write-agent-files.sh
readonly HEADER="hermes-lxc-agent-files v1"
readonly TMP_PREFIX=.hermes-lxc-tmp.
readonly MAX_DEPTH=4

die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

note() {
  printf '%s: %s\n' "$SELF" "$*" >&2
}

# --- Parameters: the config model validated them; this runs as root, so everything relied on is re-checked. ---

OWNER_UID=${OWNER_UID:-10000}
OWNER_GID=${OWNER_GID:-10000}
WRAPPER_PATH=${WRAPPER_PATH:-/usr/local/bin/hermes}

check_abs_path() {
  local var=$1 path=$2
  [[ $path == /* && $path != / ]] || die "$var must be an absolute path other than /, got '$path'"
  [[ $path =~ ^[A-Za-z0-9._@+/-]+$ ]] || die "$var: '$path' contains characters outside [A-Za-z0-9._@+/-]"
  [[ /$path/ != */../* && /$path/ != */./* && $path != *//* && $path != */ ]] ||
    die "$var: '$path' must not contain '.', '..' or empty segments, nor end with '/'"
}

[[ ${AGENT_NAME-} =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || die "AGENT_NAME must be a DNS label, got '${AGENT_NAME-}'"
check_abs_path AGENT_DIR "${AGENT_DIR-}"
check_abs_path WRAPPER_PATH "$WRAPPER_PATH"
for var in OWNER_UID OWNER_GID; do
  # hermes' entrypoint accepts 1..65534 only; 0 would make the files root's and the gateway could not read them.
  if ! [[ ${!var} =~ ^[1-9][0-9]{0,4}$ ]] || ((${!var} > 65534)); then
    die "$var must be an integer in 1..65534, got '${!var}'"
  fi
done
[[ ${CONTAINER_NAME-} =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ ]] || die "CONTAINER_NAME must be a docker container name, got '${CONTAINER_NAME-}'"
[[ ${MANAGED-} == true || ${MANAGED-} == false ]] || die "MANAGED must be true or false, got '${MANAGED-}'"
[[ -n ${MERGE_CONFIG_PY-} ]] || die "MERGE_CONFIG_PY is required (the text of merge-config.py)"
[[ ${HERMES_WRAPPER_SH-} == '#!'* ]] || die "HERMES_WRAPPER_SH is required (the text of hermes-wrapper.sh)"
for tool in setpriv base64 cmp mktemp stat chown chmod mv rm; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

# Runs a command as the gateway's uid/gid (see the header for why).
as_owner() {
  setpriv --reuid="$OWNER_UID" --regid="$OWNER_GID" --clear-groups -- "$@"
}

# --- Payload: read all of it and check every record before the first write. ---

lines=()
while IFS= read -r line || [[ -n $line ]]; do
  lines+=("$line")
done
unset line
count=${#lines[@]}
((count > 0)) || die "the payload is empty; nothing was written"
if [[ ${lines[0]} != "$HEADER" ]]; then
  # The header line is not secret, but a garbled one could be anything: it is never echoed.
  [[ ${lines[0]} == hermes-lxc-agent-files\ * ]] && die "unsupported payload version (this script reads '$HEADER'); nothing was written"
  die "the payload does not start with '$HEADER'; nothing was written"
fi
if ((count < 2)) || [[ ${lines[count - 1]} != end ]]; then
  die "the payload has no 'end' line (interrupted transfer?); nothing was written"
fi

check_rel_path() {
  local n=$1 rel=$2 seg
  local -a segs
  [[ $rel != /* ]] || die "payload record $n: path must be relative; nothing was written"
  IFS=/ read -r -a segs <<<"$rel"
  ((${#segs[@]} <= MAX_DEPTH)) || die "payload record $n ($rel): deeper than $MAX_DEPTH segments; nothing was written"
  [[ $rel != */ && $rel != *//* ]] || die "payload record $n ($rel): empty path segment; nothing was written"
  for seg in "${segs[@]}"; do
    [[ -n $seg && $seg != . && $seg != .. ]] || die "payload record $n ($rel): '.', '..' or empty segment; nothing was written"
  done
  [[ $rel != .managed ]] || die "payload record $n: .managed is reserved (MANAGED sets it); nothing was written"
}

record_re='^file ([A-Za-z0-9._/-]+) (0600|0640) (replace|merge-yaml|seed) ([A-Za-z0-9+/]*={0,2})$'
f_path=()
f_mode=()
f_policy=()
f_data=()
declare -A is_file=()
needs_python=false
for ((i = 1; i < count - 1; i++)); do
  # A malformed record may carry content: only its number is reported.
  [[ ${lines[i]} =~ $record_re ]] || die "payload record $i is malformed; nothing was written"
  rel=${BASH_REMATCH[1]}
  mode=${BASH_REMATCH[2]}
  policy=${BASH_REMATCH[3]}
  data=${BASH_REMATCH[4]}
  check_rel_path "$i" "$rel"
  [[ -z ${is_file[$rel]+x} ]] || die "payload record $i ($rel): path declared twice; nothing was written"
  is_file[$rel]=1
  if ((${#data} % 4 != 0)) || ! printf '%s' "$data" | base64 -d >/dev/null 2>&1; then
    die "payload record $i ($rel): content is not valid base64; nothing was written"
  fi
  f_path+=("$rel")
  f_mode+=("$mode")
  f_policy+=("$policy")
  f_data+=("$data")
  [[ $policy != merge-yaml ]] || needs_python=true
done
unset data
unset 'lines'

# Parent directories, shallowest first; a path cannot be a file and a directory at once. workspace/ always exists:
# the bulk disks are mounted below it (/opt/data/workspace/<name>), and if it is missing when the container starts,
# Docker creates it root-owned 0755 and the agent cannot write beside its mounts.
dirs=(workspace)
declare -A is_dir=([workspace]=1)
[[ -z ${is_file[workspace]+x} ]] || die "payload: workspace is declared as a file but it is the directory the bulk disks mount into; nothing was written"
for rel in "${f_path[@]}"; do
  prefix=
  IFS=/ read -r -a segs <<<"$rel"
  for ((j = 0; j < ${#segs[@]} - 1; j++)); do
    prefix=${prefix:+$prefix/}${segs[j]}
    [[ -z ${is_file[$prefix]+x} ]] || die "payload: $prefix is declared as a file but $rel needs it as a directory; nothing was written"
    if [[ -z ${is_dir[$prefix]+x} ]]; then
      is_dir[$prefix]=1
      dirs+=("$prefix")
    fi
  done
done

# The merge runs as the owner: check now, before anything is written, that it can (python3 + PyYAML, readable).
if [[ $needs_python == true ]]; then
  python=$(command -v python3) || die "python3 is not installed (needed to merge config.yaml); nothing was written"
  as_owner "$python" -I -c 'import yaml' 2>/dev/null ||
    die "$python cannot import yaml as uid $OWNER_UID (install python3-yaml); nothing was written"
fi

# --- Helpers for the agent directory. All paths below are relative to it (cwd), so the unprivileged processes never
# need search permission on AGENT_DIR's ancestors. ---

temps=()
cleanup() {
  local t
  for t in "${temps[@]}"; do
    if [[ -e $t || -L $t ]]; then as_owner rm -f -- "$t" 2>/dev/null || rm -f -- "$t"; fi
  done
}
trap cleanup EXIT

# new_temp DIR: sets NEW_TEMP to an owner-owned 0600 temp file in DIR (the target's directory, so the final mv is a
# rename). Not called as $(new_temp): the cleanup list must be appended to in this shell, not in a subshell.
new_temp() {
  NEW_TEMP=$(as_owner mktemp -- "$1/${TMP_PREFIX}XXXXXXXX")
  temps+=("$NEW_TEMP")
}

# meta_ok PATH MODE: PATH (not followed if a link) is owned OWNER_UID:OWNER_GID with permission bits MODE (e.g. 640).
meta_ok() {
  [[ $(stat -c '%u:%g:%a' -- "$1") == "$OWNER_UID:$OWNER_GID:$2" ]]
}

# set_meta PATH MODE: fix owner and mode in place. chown -h never follows a link; chmod runs as the owner, so a link
# swapped in between can only lead to the owner's own files.
set_meta() {
  local owner
  owner=$(stat -c '%u:%g' -- "$1")
  [[ $owner == "$OWNER_UID:$OWNER_GID" ]] || chown -h -- "$OWNER_UID:$OWNER_GID" "$1"
  as_owner chmod -- "$2" "$1"
}

sweep_temps() {
  local stale
  for stale in "$1"/"$TMP_PREFIX"*; do
    as_owner rm -f -- "$stale"
  done
}

# --- The agent directory itself (root: it is created here and the agent cannot replace it). ---

parent=${AGENT_DIR%/*}
if [[ -n $parent && ! -d $parent ]]; then
  (umask 022 && mkdir -p -- "$parent")
fi
if [[ ! -e $AGENT_DIR ]]; then
  mkdir -m 0750 -- "$AGENT_DIR"
fi
[[ -d $AGENT_DIR ]] || die "AGENT_DIR '$AGENT_DIR' exists and is not a directory"
cd -P -- "$AGENT_DIR"
if ! meta_ok . 750; then
  chown -- "$OWNER_UID:$OWNER_GID" .
  chmod -- 0750 .
fi
sweep_temps .

for d in "${dirs[@]}"; do
  if [[ -L $d ]]; then
    die "$d is a symbolic link; refusing to write through it (move it away and re-run)"
  elif [[ ! -e $d ]]; then
    as_owner mkdir -m 0750 -- "$d"
  elif [[ ! -d $d ]]; then
    die "$d exists and is not a directory"
  fi
  meta_ok "$d" 750 || set_meta "$d" 750
  sweep_temps "$d"
done

# --- Files. ---

changed=false
for i in "${!f_path[@]}"; do
  rel=${f_path[i]}
  target=./$rel # ./ keeps a name starting with '-' from reading as an option
  dir=.
  [[ $rel != */* ]] || dir=${rel%/*}
  mode=${f_mode[i]#0}
  policy=${f_policy[i]}
  if [[ -d $target && ! -L $target ]]; then
    die "$rel is a directory; refusing to replace it"
  fi
  # Only a regular file counts as present: a symlink or FIFO planted under the name is replaced, never followed.
  present=false
  [[ -f $target && ! -L $target ]] && present=true
  if [[ $present == true ]] && ! meta_ok "$target" "$mode"; then
    # Drifted owner or mode: fix it first, so the owner can read the file for the comparison and the merge below.
    set_meta "$target" "$mode"
    note "reset owner/mode of $rel"
  fi

  if [[ $policy == seed && $present == true ]]; then
    # hermes rewrites seeded files (auth.json: refreshed OAuth tokens); only their owner and mode are ours.
    echo "kept $rel"
    continue
  fi

  new_temp "$dir"
  tmp=$NEW_TEMP
  printf '%s' "${f_data[i]}" | base64 -d | as_owner tee -- "$tmp" >/dev/null
  if [[ $policy == merge-yaml ]]; then
    new_temp "$dir"
    merged=$NEW_TEMP
    # -I: cwd (the agent's directory) must not be on sys.path, or a planted yaml.py would be imported.
    as_owner "$python" -I -c "$MERGE_CONFIG_PY" "$tmp" "$target" "$merged"
    as_owner rm -f -- "$tmp"
    tmp=$merged
  fi
  # hermes' entrypoint appends a random API_SERVER_KEY to .env at boot when the file has none (it runs a loopback
  # API server). Keep that line when the stack declares no key, or every run would see .env "changed", rewrite it
  # and restart the gateway, which would append a new key again. The key moves through a pipe, never argv.
  if [[ $rel == .env && $present == true ]] && ! as_owner grep -q '^API_SERVER_KEY=' "$tmp"; then
    as_owner grep -m1 '^API_SERVER_KEY=.' "$target" | as_owner tee -a -- "$tmp" >/dev/null || true
  fi
  as_owner chmod -- "$mode" "$tmp"

  if [[ $present == true ]] && as_owner cmp -s -- "$tmp" "$target"; then
    as_owner rm -f -- "$tmp"
    echo "unchanged $rel"
  else
    as_owner mv -fT -- "$tmp" "$target"
    changed=true
    if [[ $policy == seed ]]; then echo "seeded $rel"; else echo "changed $rel"; fi
  fi
done

# --- Managed marker: hermes reads $HERMES_HOME/.managed when HERMES_MANAGED is unset (hermes_cli/config.py
# get_managed_system): its content names the manager in hermes' messages; an empty file would say "nixos". ---

marker=./.managed
readonly MANAGER=hermes-lxc
if [[ -d $marker && ! -L $marker ]]; then
  die ".managed is a directory; refusing to touch it"
fi
if [[ $MANAGED == true ]]; then
  if [[ -f $marker && ! -L $marker && $(<"$marker") == "$MANAGER" ]]; then
    meta_ok "$marker" 640 || set_meta "$marker" 640
    echo "unchanged .managed"
  else
    new_temp .
    tmp=$NEW_TEMP
    printf '%s\n' "$MANAGER" | as_owner tee -- "$tmp" >/dev/null
    as_owner chmod -- 640 "$tmp"
    as_owner mv -fT -- "$tmp" "$marker"
    changed=true
    echo "changed .managed"
  fi
elif [[ -e $marker || -L $marker ]]; then
  as_owner rm -f -- "$marker"
  changed=true
  echo "changed .managed"
else
  echo "unchanged .managed"
fi

# --- The `hermes` wrapper (root-owned, outside the agent's reach). Not a reason to restart the gateway. ---

wrapper_dir=${WRAPPER_PATH%/*}
[[ -d $wrapper_dir ]] || (umask 022 && mkdir -p -- "$wrapper_dir")
wtmp=$(mktemp -- "$wrapper_dir/.hermes-wrapper.XXXXXXXX")
temps+=("$wtmp")
printf '%s' "$HERMES_WRAPPER_SH" >"$wtmp"
chmod -- 0755 "$wtmp"
if [[ -f $WRAPPER_PATH && ! -L $WRAPPER_PATH ]] && cmp -s -- "$wtmp" "$WRAPPER_PATH" &&
  [[ $(stat -c '%u:%g:%a' -- "$WRAPPER_PATH") == 0:0:755 ]]; then
  rm -f -- "$wtmp"
else
  mv -fT -- "$wtmp" "$WRAPPER_PATH"
  note "installed $WRAPPER_PATH"
fi

# --- Restart: hermes reads config.yaml and .env at start. A restart, not a re-creation, so packages the agent
# installed in the container survive. ---

if [[ $changed == true ]]; then
  if ! command -v docker >/dev/null 2>&1; then
    note "docker is not installed yet; the gateway will read the new files when it is created"
  elif ! running=$(docker inspect --format '{{.State.Running}}' "$CONTAINER_NAME" 2>/dev/null); then
    note "container $CONTAINER_NAME does not exist yet (or docker is down); it will read the new files when it starts"
  elif [[ $running == true ]]; then
    docker restart "$CONTAINER_NAME" >/dev/null
    echo "restarted $CONTAINER_NAME"
  else
    note "container $CONTAINER_NAME is not running; it will read the new files when it starts"
  fi
fi
