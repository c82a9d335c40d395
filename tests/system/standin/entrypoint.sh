#!/bin/bash
# hermes-agent stand-in entrypoint: imitates the real image's boot (hermes-agent.md §2: stage2-hook + main-wrapper,
# §7: ownership) closely enough for the system tier, without s6. See README.md for what is and is not honoured.
# The `bash -c '...' _ args` calls below expand $1.. in the inner shell, run as hermes, on purpose.
# shellcheck disable=SC2016
set -euo pipefail

HERMES_HOME=${HERMES_HOME:-/opt/data}
warn() { printf 'hermes-entrypoint: %s\n' "$*" >&2; }

# uid/gid of the hermes user as /etc/passwd says now (after any remap below).
hermes_ids() {
  local name _pw uid gid rest
  while IFS=: read -r name _pw uid gid rest; do
    if [[ $name == hermes ]]; then
      echo "$uid $gid"
      return 0
    fi
  done </etc/passwd
  return 1
}

# main-wrapper's routing, after the privilege drop: no args -> hermes; an executable on PATH -> it; else hermes <args>.
run_main() {
  export HOME=$HERMES_HOME HERMES_HOME
  if (($# == 0)); then
    set -- hermes
  elif ! command -v "$1" >/dev/null 2>&1 || [[ $1 == gateway || $1 == pairing ]]; then
    set -- hermes "$@"
  fi
  exec "$@"
}

if [[ ${1-} == --as-hermes ]]; then
  shift
  run_main "$@"
fi

read -r H_UID H_GID < <(hermes_ids)
me=$(id -u)
if ((me != 0)); then
  # `docker run --user`: allowed only as the hermes uid itself (nothing can be chowned or remapped then).
  if ((me == H_UID)); then
    warn "running as uid $me (--user hermes): skipping uid remap and ownership fixes"
    run_main "$@"
  fi
  warn "refusing to run as uid $me: this image must start as root (no 'docker run --user' / compose 'user:')"
  warn "other than root or hermes ($H_UID); it drops to the hermes user itself. To choose the uid/gid files are"
  warn "written with, set HERMES_UID / HERMES_GID (1..65534) instead."
  exit 1
fi

# HERMES_UID/HERMES_GID (aliases PUID/PGID; the HERMES_ names win): digits in 1..65534, otherwise ignored.
valid_id() { [[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65534)); }
want_uid=${HERMES_UID:-${PUID:-}}
want_gid=${HERMES_GID:-${PGID:-}}
if [[ -n $want_uid ]] && ! valid_id "$want_uid"; then
  warn "ignoring HERMES_UID='$want_uid' (must be 1..65534)"
  want_uid=
fi
if [[ -n $want_gid ]] && ! valid_id "$want_gid"; then
  warn "ignoring HERMES_GID='$want_gid' (must be 1..65534)"
  want_gid=
fi
# usermod -u / groupmod -o -g equivalents (the base image has no shadow tools).
if [[ -n $want_uid && $((10#$want_uid)) != "$H_UID" ]]; then
  sed -i "s/^hermes:x:[0-9]*:/hermes:x:$((10#$want_uid)):/" /etc/passwd
fi
if [[ -n $want_gid && $((10#$want_gid)) != "$H_GID" ]]; then
  sed -i "s/^\(hermes:x:[0-9]*:\)[0-9]*:/\1$((10#$want_gid)):/" /etc/passwd
  sed -i "s/^hermes:x:[0-9]*:/hermes:x:$((10#$want_gid)):/" /etc/group
fi
read -r H_UID H_GID < <(hermes_ids)
as_hermes() { setpriv --reuid="$H_UID" --regid="$H_GID" --init-groups -- "$@"; }

mkdir -p "$HERMES_HOME"
# Targeted ownership, never `chown -R` on the whole volume: when the top dir is not hermes', fix it, then
# recursively fix only the Hermes-owned subdirs that hold foreign files (as stage2 does; note that workspace/ is
# one of them, so a volume that is not pre-owned gets workspace/ walked, bind mounts below it included).
if [[ $(stat -c '%u:%g' "$HERMES_HOME") != "$H_UID:$H_GID" ]]; then
  chown "$H_UID:$H_GID" "$HERMES_HOME"
  for sub in cron sessions logs hooks memories skills skins plans workspace home profiles pairing platforms/pairing lazy-packages; do
    d=$HERMES_HOME/$sub
    [[ -d $d && ! -L $d ]] || continue
    if [[ -n $(find "$d" \( ! -user "$H_UID" -o ! -group "$H_GID" \) -print -quit) ]]; then
      warn "chown -R $sub (it held files not owned by hermes)"
      chown -R "$H_UID:$H_GID" "$d"
    fi
  done
fi
# Every boot: depth-1 regular files belong to hermes and are u+rw; .env is 0600, config.yaml 0640.
find "$HERMES_HOME" -maxdepth 1 -type f -exec chown "$H_UID:$H_GID" {} + -exec chmod u+rw {} +
for d in profiles cron logs/gateways platforms/pairing pairing; do
  [[ ! -d $HERMES_HOME/$d || -L $HERMES_HOME/$d ]] || chown -R "$H_UID:$H_GID" "$HERMES_HOME/$d"
done
[[ ! -f $HERMES_HOME/.env ]] || chmod 600 "$HERMES_HOME/.env"
[[ ! -f $HERMES_HOME/config.yaml ]] || chmod 640 "$HERMES_HOME/config.yaml"

# As hermes: the directory skeleton, first-boot seeds, the loopback API key.
as_hermes mkdir -p "$HERMES_HOME"/{backups,cron,sessions,logs,logs/gateways,hooks,memories,skills,skins,plans,workspace,home,pairing,platforms/pairing,lazy-packages}
if [[ ! -e $HERMES_HOME/.env ]]; then
  as_hermes bash -c 'umask 077; printf "# seeded by the hermes-agent stand-in (first boot)\n" >"$1"' _ "$HERMES_HOME/.env"
fi
if [[ ! -e $HERMES_HOME/config.yaml ]]; then
  as_hermes bash -c 'umask 027; printf "model:\n  provider: auto\n" >"$1"' _ "$HERMES_HOME/config.yaml"
fi
[[ -e $HERMES_HOME/SOUL.md ]] || as_hermes bash -c 'printf "# SOUL (stand-in seed)\n" >"$1"' _ "$HERMES_HOME/SOUL.md"
if ! grep -qE '^API_SERVER_KEY=.+' "$HERMES_HOME/.env"; then
  key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  as_hermes bash -c 'printf "API_SERVER_KEY=%s\n" "$2" >>"$1"' _ "$HERMES_HOME/.env" "$key"
fi

# Stand-in bookkeeping: the .env the gateway starts with (after the seeding above), one line per container start.
env_sha=$(sha256sum "$HERMES_HOME/.env" | cut -d' ' -f1)
as_hermes bash -c 'printf "%s start uid=%s gid=%s env_sha256=%s args=%s\n" "$(date -u +%FT%TZ)" "$2" "$3" "$4" "$5" >>"$1"' \
  _ "$HERMES_HOME/logs/starts.log" "$H_UID" "$H_GID" "$env_sha" "$*"

# Drop privileges for good (s6-setuidgid hermes in the real image).
exec setpriv --reuid="$H_UID" --regid="$H_GID" --init-groups -- "$0" --as-hermes "$@"
