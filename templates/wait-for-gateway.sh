#!/usr/bin/env bash
# wait-for-gateway.sh: runs as root on the Docker host (the LXC) after the gateway container was (re)started or
# its files changed, and fails the deployment unless the gateway and every platform the agent configures come up.
#
# Env:
#   CONTAINER_NAME    the gateway container (required)
#   PLATFORMS         space-separated platforms that must be connected, as hermes names them (e.g. "telegram slack")
#   TIMEOUT_SECONDS   how long to wait (optional, default 180)
#   API_HEALTH_URL    optional URL probed from INSIDE the container, e.g. http://127.0.0.1:8642/health
#   LOG_LINES         container log lines shown on failure (optional, default 50)
#   POLL_SECONDS      pause between readings (optional, default 2; the tests poll faster)
#
# What hermes offers and what it does not (read in its source at 00067189, see tests/system/standin/README.md):
# - The container's main process is not the gateway: `gateway run` hands the gateway to the image's s6 supervisor
#   and becomes `sleep infinity` (hermes_cli/gateway.py), so a running container says nothing about the gateway.
# - `hermes gateway status` prints "not running" and still exits 0 (hermes_cli/gateway.py _cmd_status).
# - The gateway records itself in $HERMES_HOME/gateway_state.json (gateway/status.py write_runtime_status): the top
#   level names the LAST writer (pid, start_time, updated_at, gateway_state starting|running|degraded|
#   startup_failed|stopped|draining, exit_reason); platforms.<name> = {state connecting|connected|retrying|fatal|
#   disconnected, error_code, error_message, updated_at, writer_pid, writer_start_time}.
# - That file outlives the process that wrote it, and so do its platform entries: each write merges into the file,
#   the startup write drops only `<profile>:<platform>` keys, and base.py _mark_disconnected never overwrites
#   `fatal`. A new gateway therefore starts with the old process's entries (a revoked token's `telegram: fatal`)
#   until it writes its own. So a platform entry counts only when the live writer stamped it (writer_pid and
#   writer_start_time equal the top level's pid and start_time; an unstamped entry of an older hermes only when
#   written since the container started).
# - base.py _set_fatal_error writes `fatal` even for a retryable error; run_startup.py
#   _start_aggregate_connect_results rewrites it to `retrying` when the whole connect round is over, and only then
#   is a `fatal` final. The round is over once gateway_state has left `starting`.
# - Timestamps: hermes writes isoformat() (`+00:00`, no fraction when the microsecond is 0; epoch seconds in older
#   fields), Docker's StartedAt has nanoseconds (trailing zeros trimmed) and `Z`. All are compared as instants.
# So healthy means: the container runs; the state file was written after the container started, by a gateway
# process that is alive (pid and start time match, so a record of a previous process never counts); gateway_state
# is running; every platform in PLATFORMS is connected by that process; and API_HEALTH_URL (when set) answers. A
# failed startup, or a platform the finished connect round left fatal, fails at once, naming the platform and
# hermes' own error; anything else is waited for.
# stdout: `healthy <container>: gateway running (pid N); platforms: telegram=connected ...`.
# Read-only and bounded by TIMEOUT_SECONDS: safe to kill and re-run at any time.
set -euo pipefail

readonly SELF=wait-for-gateway.sh
readonly STATE_FILE=/opt/data/gateway_state.json

die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

TIMEOUT_SECONDS=${TIMEOUT_SECONDS:-180}
LOG_LINES=${LOG_LINES:-50}
API_HEALTH_URL=${API_HEALTH_URL:-}
PLATFORMS=${PLATFORMS:-}
POLL_SECONDS=${POLL_SECONDS:-2}
[[ ${CONTAINER_NAME-} =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ ]] || die "CONTAINER_NAME must be a docker container name, got '${CONTAINER_NAME-}'"
[[ $TIMEOUT_SECONDS =~ ^[1-9][0-9]{0,5}$ ]] || die "TIMEOUT_SECONDS must be a positive integer, got '$TIMEOUT_SECONDS'"
[[ $LOG_LINES =~ ^(0|[1-9][0-9]{0,5})$ ]] || die "LOG_LINES must be a non-negative integer, got '$LOG_LINES'"
[[ $PLATFORMS =~ ^[a-z0-9_\ ]*$ ]] || die "PLATFORMS must be space-separated platform names, got '$PLATFORMS'"
if ! [[ $POLL_SECONDS =~ ^[0-9]{1,4}(\.[0-9]{1,3})?$ ]] || [[ $POLL_SECONDS =~ ^0+(\.0*)?$ ]]; then
  die "POLL_SECONDS must be a positive number of seconds, got '$POLL_SECONDS'"
fi
# It reaches curl as one argv element (no shell in between), so any non-blank characters are safe.
url_re='^https?://[^[:space:]]+$'
if [[ -n $API_HEALTH_URL && ! $API_HEALTH_URL =~ $url_re ]]; then
  die "API_HEALTH_URL must be an http(s) URL, got '$API_HEALTH_URL'"
fi
for tool in docker timeout python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

# Judges one reading. argv: container StartedAt, required platforms; stdin: the state file, a NUL byte, then
# /proc/<pid>/stat of the pid it names (empty when that process does not exist). Prints one line:
# `ok <summary>`, `wait <reason>` or `fatal <reason>`.
read -r -d '' JUDGE <<'PY' || true
import datetime, json, re, sys

started_at, required = sys.argv[1], sys.argv[2].split()
state_text, _, stat = sys.stdin.read().partition("\0")
UTC = datetime.timezone.utc
ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?\s*([Zz]|[+-]\d{2}:?\d{2})?$")

def instant(value):
    """An aware datetime for every form hermes and Docker write (see above), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    m = ISO.match(value.strip()) if isinstance(value, str) else None
    if not m:
        return None
    day, clock, fraction, offset = m.groups()
    try:
        t = datetime.datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        return None
    t = t.replace(microsecond=int((fraction or "0")[:6].ljust(6, "0")))
    if offset is None or offset in "Zz":
        return t.replace(tzinfo=UTC)  # naive = UTC, as gateway/status.py normalize_updated_at reads it
    digits = offset[1:].replace(":", "")
    delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return t.replace(tzinfo=datetime.timezone(delta if offset[0] == "+" else -delta))

try:
    record = json.loads(state_text)
except ValueError:
    record = None
if not isinstance(record, dict):
    print("wait the gateway has not written gateway_state.json yet")
    sys.exit()
state = record.get("gateway_state") or "unknown"
started = instant(started_at)
written = instant(record.get("updated_at"))
if started is None or written is None or written < started:
    print("wait gateway_state.json is from before this start of the container")
    sys.exit()

writer = (record.get("pid"), record.get("start_time"))
def by_writer(entry):
    if not isinstance(entry, dict):
        return False
    if "writer_pid" in entry or "writer_start_time" in entry:
        return (entry.get("writer_pid"), entry.get("writer_start_time")) == writer
    at = instant(entry.get("updated_at"))
    return at is not None and at >= started

entries = record.get("platforms") if isinstance(record.get("platforms"), dict) else {}
platforms = {n: p for n, p in entries.items() if by_writer(p)}
left_over = sorted(n for n in entries if n not in platforms)
round_over = state != "starting"

def describe(name):
    p = platforms[name]
    text = f"{name}={p.get('state', '?')}"
    if p.get("state") not in ("connected", "connecting") and (p.get("error_code") or p.get("error_message")):
        text += f" ({p.get('error_code') or 'error'}: {p.get('error_message') or 'no message'})"
    return text
summary = " ".join(describe(n) for n in sorted(platforms))
ignored = f"; not counted (written by an earlier gateway process): {', '.join(left_over)}" if left_over else ""

def platform_error(name):
    p = platforms.get(name) or {}
    return f"{name}: {p.get('state')}: {p.get('error_code') or 'error'}: {p.get('error_message') or 'no message'}"

if state == "startup_failed":
    failed = [platform_error(n) for n, p in sorted(platforms.items()) if p.get("state") == "fatal"]
    print(f"fatal the gateway failed to start: {record.get('exit_reason') or 'no reason given'}"
          + ("; " + "; ".join(failed) if failed else ""))
    sys.exit()
fatal = [n for n in required if (platforms.get(n) or {}).get("state") == "fatal"]
if fatal and round_over:
    print("fatal " + "; ".join(platform_error(n) for n in fatal))
    sys.exit()
fields = stat.rpartition(")")[2].split()
alive = len(fields) > 19 and fields[19] == str(record.get("start_time"))
if state in ("stopped", "draining") and not alive:
    print(f"fatal the gateway is {state} ({record.get('exit_reason') or 'no reason given'})")
    sys.exit()
if not alive:
    print(f"wait the gateway process {record.get('pid')} is not running (state {state}); the supervisor restarts it")
    sys.exit()
missing = [n for n in required if (platforms.get(n) or {}).get("state") != "connected"]
if state != "running" or missing:
    print(f"wait gateway {state}; platforms: {summary or 'none yet'}{ignored}"
          + ("; a fatal during the connect round may still become retrying" if fatal else ""))
    sys.exit()
print(f"ok gateway running (pid {record.get('pid')}); platforms: {summary or 'none'}")
PY

start=$SECONDS
deadline=$((start + TIMEOUT_SECONDS))
reason="the container does not exist"
status=missing

# Runs a command inside the container, bounded: a hung `docker exec` must not stall the deployment past its timeout.
in_container() {
  local left=$((deadline - SECONDS))
  ((left >= 5)) || left=5
  ((left <= 30)) || left=30
  timeout --kill-after=5 "$left" docker exec "$CONTAINER_NAME" "$@"
}

# One reading; sets verdict (ok|wait|fatal) and reason.
probe() {
  local out restarting started state pid stat
  verdict="wait"
  if ! out=$(docker inspect --format '{{.State.Status}} {{.State.Restarting}} {{.State.StartedAt}}' "$CONTAINER_NAME" 2>/dev/null); then
    status=missing reason="the container does not exist (or docker is not answering)"
    return
  fi
  read -r status restarting started <<<"$out"
  if [[ $status != running || $restarting == true ]]; then
    reason="the container is $status (restarting=$restarting)"
    [[ $status == exited || $status == dead ]] && verdict=fatal
    return
  fi
  state=$(in_container cat "$STATE_FILE" 2>/dev/null) || state=""
  pid=$(printf '%s' "$state" | python3 -c 'import json,sys
try: print(int(json.load(sys.stdin).get("pid", 0)))
except Exception: print(0)')
  stat=""
  if [[ $pid =~ ^[1-9][0-9]*$ ]]; then stat=$(in_container cat "/proc/$pid/stat" 2>/dev/null) || stat=""; fi
  out=$(printf '%s\0%s' "$state" "$stat" | python3 -c "$JUDGE" "$started" "$PLATFORMS")
  verdict=${out%% *} reason=${out#* }
  if [[ $verdict == ok && -n $API_HEALTH_URL ]] && ! in_container curl -fsS --max-time 5 -o /dev/null "$API_HEALTH_URL" >/dev/null 2>&1; then
    verdict=wait reason="$API_HEALTH_URL does not answer inside the container"
  fi
}

while true; do
  probe
  if [[ $verdict == ok ]]; then
    echo "healthy $CONTAINER_NAME: $reason"
    exit 0
  fi
  [[ $verdict == fatal ]] && break
  ((SECONDS >= deadline)) && break
  sleep "$POLL_SECONDS"
done

{
  printf '%s: deployment failed: the gateway in container %s is not healthy after %ss: %s\n' \
    "$SELF" "$CONTAINER_NAME" "$((SECONDS - start))" "$reason"
  if [[ $status != missing && $LOG_LINES != 0 ]]; then
    printf '%s: last %s log lines of %s:\n' "$SELF" "$LOG_LINES" "$CONTAINER_NAME"
    docker logs --tail "$LOG_LINES" "$CONTAINER_NAME" 2>&1 || true
  fi
} >&2
exit 1
