#!/usr/bin/env bash
# wait-for-gateway.sh: runs as root in the LXC (or on a Docker host) after the gateway container was (re)started,
# and fails the deployment when the gateway does not come up healthy.
#
# Env:
#   CONTAINER_NAME    the gateway container (required)
#   TIMEOUT_SECONDS   how long to wait (optional, default 180)
#   API_HEALTH_URL    optional URL probed from INSIDE the container, e.g. http://127.0.0.1:8642/health (the API
#                     server listens there; the image ships curl)
#   LOG_LINES         container log lines shown on failure (optional, default 50)
#
# Healthy means, checked in this order on every poll: the container is running and not restarting (docker inspect);
# `hermes gateway status` exits 0 inside it; and, when API_HEALTH_URL is set, `curl -fsS` of it succeeds inside it.
# stdout: `healthy <container>`. On timeout, or when the container has exited, the state, the restart count and the
# last LOG_LINES log lines go to stderr and the exit status is 1.
#
# Read-only and bounded by TIMEOUT_SECONDS: safe to kill and re-run at any time.
set -euo pipefail

readonly SELF=wait-for-gateway.sh
readonly POLL_SECONDS=2

die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

TIMEOUT_SECONDS=${TIMEOUT_SECONDS:-180}
LOG_LINES=${LOG_LINES:-50}
API_HEALTH_URL=${API_HEALTH_URL:-}
[[ ${CONTAINER_NAME-} =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ ]] || die "CONTAINER_NAME must be a docker container name, got '${CONTAINER_NAME-}'"
[[ $TIMEOUT_SECONDS =~ ^[1-9][0-9]{0,5}$ ]] || die "TIMEOUT_SECONDS must be a positive integer, got '$TIMEOUT_SECONDS'"
[[ $LOG_LINES =~ ^(0|[1-9][0-9]{0,5})$ ]] || die "LOG_LINES must be a non-negative integer, got '$LOG_LINES'"
# It reaches curl as one argv element (no shell in between), so any non-blank characters are safe.
url_re='^https?://[^[:space:]]+$'
if [[ -n $API_HEALTH_URL && ! $API_HEALTH_URL =~ $url_re ]]; then
  die "API_HEALTH_URL must be an http(s) URL, got '$API_HEALTH_URL'"
fi
for tool in docker timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

start=$SECONDS
deadline=$((start + TIMEOUT_SECONDS))
status=missing
restarting=false
restarts=unknown
reason="the container does not exist"

# Reads the container's state into status/restarting/restarts; returns 1 when docker cannot inspect it.
inspect() {
  local out
  out=$(docker inspect --format '{{.State.Status}} {{.State.Restarting}} {{.RestartCount}}' "$CONTAINER_NAME" 2>/dev/null) || {
    status=missing restarting=false restarts=unknown
    return 1
  }
  read -r status restarting restarts <<<"$out"
}

# Runs a command inside the container, bounded: a hung `docker exec` must not stall the deployment past its timeout.
in_container() {
  local left=$((deadline - SECONDS))
  ((left >= 5)) || left=5
  ((left <= 30)) || left=30
  timeout --kill-after=5 "$left" docker exec "$CONTAINER_NAME" "$@" >/dev/null 2>&1
}

# One health probe; sets reason to what failed, for the failure report.
probe() {
  if ! inspect; then
    reason="the container does not exist (or docker is not answering)"
    return 1
  fi
  if [[ $status != running || $restarting == true ]]; then
    reason="the container is $status (restarting=$restarting)"
    return 1
  fi
  if ! in_container hermes gateway status; then
    reason="'hermes gateway status' fails inside the container"
    return 1
  fi
  if [[ -n $API_HEALTH_URL ]] && ! in_container curl -fsS --max-time 5 -o /dev/null "$API_HEALTH_URL"; then
    reason="$API_HEALTH_URL does not answer inside the container"
    return 1
  fi
  return 0
}

while true; do
  if probe; then
    echo "healthy $CONTAINER_NAME"
    exit 0
  fi
  # An exited container will not get healthy by waiting: with a restart policy docker reports "restarting" instead.
  if [[ $status == exited || $status == dead ]]; then
    break
  fi
  if ((SECONDS >= deadline)); then
    break
  fi
  sleep "$POLL_SECONDS"
done

{
  printf '%s: deployment failed: the gateway in container %s is not healthy after %ss: %s\n' \
    "$SELF" "$CONTAINER_NAME" "$((SECONDS - start))" "$reason"
  printf '%s: state=%s restarting=%s restart_count=%s\n' "$SELF" "$status" "$restarting" "$restarts"
  if [[ $status != missing && $LOG_LINES != 0 ]]; then
    printf '%s: last %s log lines of %s:\n' "$SELF" "$LOG_LINES" "$CONTAINER_NAME"
    docker logs --tail "$LOG_LINES" "$CONTAINER_NAME" 2>&1 || true
  fi
} >&2
exit 1
