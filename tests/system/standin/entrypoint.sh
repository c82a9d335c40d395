#!/bin/bash
# hermes-agent stand-in entrypoint: the real image's boot chain in one bash file, without s6-overlay (README.md
# names the upstream file and commit each part mirrors).
#   as PID 1          /init: stage 2 (docker/stage2-hook.sh), the supervise-perms step, registration of the
#                     gateway-default slot, one `--supervise` process per slot (s6-svscan), then the CMD through
#                     main-wrapper as the hermes user. The CMD's exit ends the container with its code; SIGTERM
#                     (`docker stop`) stops the CMD and the slot and exits 0.
#   not PID 1         the dispatcher's other path (`docker run --init`): stage 2, then main-wrapper; no supervision.
#   --as-hermes ARGS  docker/main-wrapper.sh, after the privilege drop.
#   --supervise SLOT  s6-supervise for /run/service/SLOT: runs ./run; when it exits, ./finish <exit code>; finish
#                     exiting 125 parks the slot (down until the next `u`), anything else restarts ./run, at most
#                     once a second. `u`/`d` lines written to supervise/control are s6-svc -u/-d.
# The `bash -c '...' _ args` calls below expand $1.. in the inner shell, run as hermes, on purpose.
# shellcheck disable=SC2016
set -uo pipefail

HERMES_HOME=${HERMES_HOME:-/opt/data}
SCANDIR=/run/service
SELF=$0
say() { printf '[stage2] %s\n' "$*"; }

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
  elif ! command -v "$1" >/dev/null 2>&1 || [[ $1 == gateway || $1 == pairing || $1 == config ]]; then
    set -- hermes "$@"
  fi
  exec "$@"
}

# s6-supervise, reduced: one slot, its ./run and ./finish, a control fifo, and a one-line supervise/status
# (stand-in only: `up pid=<pid> starts=<n>` or `down exitcode=<code> starts=<n> parked|restarting`).
supervise() {
  local svc=$SCANDIR/$1 want=up child='' rc fin cmd stopping=0 last=0 now starts=0 i
  [[ ! -e $svc/down ]] || want=down
  exec 3<>"$svc/supervise/control"
  trap 'stopping=1' TERM INT
  status() { printf '%s\n' "$*" >"$svc/supervise/status.tmp" && mv -f "$svc/supervise/status.tmp" "$svc/supervise/status"; }
  status "down starts=0"
  while ((!stopping)); do
    cmd=''
    read -r -t 0.2 -u 3 cmd || true # the loop's tick, and s6-svc's commands
    case $cmd in
      u) want=up ;;
      d)
        want=down
        [[ -z $child ]] || kill -TERM "$child" 2>/dev/null
        ;;
    esac
    if [[ -n $child ]] && ! kill -0 "$child" 2>/dev/null; then
      wait "$child"
      rc=$?
      child=''
      "$svc/finish" "$rc" 3>&-
      fin=$?
      if ((fin == 125)); then
        want=down
        status "down exitcode=$rc starts=$starts parked"
      else
        status "down exitcode=$rc starts=$starts restarting"
      fi
    fi
    if [[ $want == up && -z $child ]]; then
      now=${EPOCHREALTIME/./}
      if ((now - last >= 1000000)); then
        "$svc/run" 3>&- &
        child=$!
        last=$now
        starts=$((starts + 1))
        status "up pid=$child starts=$starts"
      fi
    fi
  done
  if [[ -n $child ]]; then
    kill -TERM "$child" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      kill -0 "$child" 2>/dev/null || break
      read -r -t 0.1 -u 3 _ || true
    done
    kill -KILL "$child" 2>/dev/null
    wait "$child"
  fi
  status "down starts=$starts"
  exit 0
}

case ${1-} in
  --as-hermes)
    shift
    run_main "$@"
    ;;
  --supervise)
    supervise "$2"
    ;;
esac

read -r H_UID H_GID < <(hermes_ids)
me=$(id -u)
if ((me != 0)); then
  # `docker run --user`: allowed only as the hermes uid itself (nothing can be chowned or remapped then).
  if ((me == H_UID)); then
    say "running as uid $me (--user hermes): skipping uid remap and ownership fixes" >&2
    run_main "$@"
  fi
  say "ERROR: container started with --user $me (an arbitrary, non-hermes UID)." >&2
  say "This image must start as root (no 'docker run --user' / compose 'user:' other than root or hermes" >&2
  say "($H_UID)); it drops to the hermes user itself. To choose the uid/gid files are written with, set" >&2
  say "HERMES_UID / HERMES_GID (1..65534) instead." >&2
  exit 1
fi
# PID 1 ignores signals it has no handler for: until the init below takes over, a `docker stop` just ends the boot.
(($$ != 1)) || trap 'exit 0' TERM INT QUIT HUP

# ---- stage 2 (docker/stage2-hook.sh) ----
# HERMES_UID/HERMES_GID (aliases PUID/PGID; the HERMES_ names win): digits in 1..65534, otherwise silently ignored.
valid_id() { [[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65534)); }
want_uid=${HERMES_UID:-${PUID:-}}
want_gid=${HERMES_GID:-${PGID:-}}
# usermod -u / groupmod -o -g equivalents (the base image has no shadow tools).
if [[ -n $want_uid ]] && valid_id "$want_uid" && [[ $((10#$want_uid)) != "$H_UID" ]]; then
  say "Changing hermes UID to $((10#$want_uid))"
  sed -i "s/^hermes:x:[0-9]*:/hermes:x:$((10#$want_uid)):/" /etc/passwd
fi
if [[ -n $want_gid ]] && valid_id "$want_gid" && [[ $((10#$want_gid)) != "$H_GID" ]]; then
  say "Changing hermes GID to $((10#$want_gid))"
  sed -i "s/^\(hermes:x:[0-9]*:\)[0-9]*:/\1$((10#$want_gid)):/" /etc/passwd
  sed -i "s/^hermes:x:[0-9]*:/hermes:x:$((10#$want_gid)):/" /etc/group
fi
read -r H_UID H_GID < <(hermes_ids)
as_hermes() { setpriv --reuid="$H_UID" --regid="$H_GID" --init-groups -- "$@"; }

mkdir -p "$HERMES_HOME"
# Targeted ownership, never `chown -R` on the whole volume: when the top dir is not hermes', fix it, then
# recursively fix only the Hermes-owned subdirs that hold foreign files (note that workspace/ is one of them, so a
# volume that is not pre-owned gets workspace/ walked, bind mounts below it included).
if [[ $(stat -c '%u:%g' "$HERMES_HOME") != "$H_UID:$H_GID" ]]; then
  chown "$H_UID:$H_GID" "$HERMES_HOME"
  for sub in cron sessions logs hooks memories skills skins plans workspace home profiles pairing platforms/pairing lazy-packages; do
    d=$HERMES_HOME/$sub
    [[ -d $d && ! -L $d ]] || continue
    if [[ -n $(find "$d" \( ! -user "$H_UID" -o ! -group "$H_GID" \) -print -quit) ]]; then
      say "chown -R $sub (it held files not owned by hermes)"
      chown -R "$H_UID:$H_GID" "$d"
    fi
  done
fi
# Every boot: depth-1 regular files belong to hermes and are u+rw; these subdirs are re-chowned; config.yaml 0640.
find "$HERMES_HOME" -maxdepth 1 -type f -exec chown "$H_UID:$H_GID" {} + -exec chmod u+rw {} +
for d in profiles cron logs/gateways platforms/pairing pairing; do
  [[ ! -d $HERMES_HOME/$d || -L $HERMES_HOME/$d ]] || chown -R "$H_UID:$H_GID" "$HERMES_HOME/$d"
done
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
if [[ -f $HERMES_HOME/.env ]] && ! grep -qE '^API_SERVER_KEY=.+' "$HERMES_HOME/.env"; then
  key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  as_hermes bash -c 'sed -i "/^API_SERVER_KEY=\$/d" "$1" && printf "API_SERVER_KEY=%s\n" "$2" >>"$1"' _ "$HERMES_HOME/.env" "$key"
fi
if [[ -f $HERMES_HOME/.env ]]; then
  chown "$H_UID:$H_GID" "$HERMES_HOME/.env"
  chmod 600 "$HERMES_HOME/.env"
fi

# Boot-time config migration, as hermes, on every boot; a failure does not stop the boot.
# Set HERMES_SKIP_CONFIG_MIGRATION=1 for controlled/manual migrations.
if [[ -f $HERMES_HOME/config.yaml ]]; then
  (cd "$HERMES_HOME" && HOME=$HERMES_HOME as_hermes /opt/hermes/.venv/bin/python /opt/hermes/scripts/docker_config_migrate.py) ||
    say "Warning: docker_config_migrate.py failed; continuing"
fi
say "Setup complete; starting user services"

if (($$ != 1)); then
  # Not PID 1 (e.g. `docker run --init`): main-wrapper directly, as the hermes user, without supervision.
  exec setpriv --reuid="$H_UID" --regid="$H_GID" --init-groups -- "$SELF" --as-hermes "$@"
fi

# ---- PID 1: register the gateway-default slot (container_boot.py + S6ServiceManager's run/finish scripts) ----
svc=$SCANDIR/gateway-default
rm -rf "$SCANDIR" /run/s6
mkdir -p /run/s6/basedir "$svc/supervise"
cat >"$svc/run" <<EOF
#!/bin/bash
export HOME=$HERMES_HOME
export HERMES_S6_SUPERVISED_CHILD=1
export HERMES_SUPERVISED_CHILD=1
cd $HERMES_HOME || exit 1
exec setpriv --reuid=$H_UID --regid=$H_GID --init-groups -- hermes gateway run --replace
EOF
cat >"$svc/finish" <<'EOF'
#!/bin/bash
# $1 = the gateway's exit code. 0 (clean exit) and 78 (EX_CONFIG, e.g. startup_failed): exit 125, i.e. do not
# restart; the slot stays down and the container stays up. Anything else: restart.
if [ "$1" = 0 ] || [ "$1" = 78 ]; then exit 125; fi
exit 0
EOF
chmod 0755 "$svc/run" "$svc/finish"
touch "$svc/down" # registered, not started: `hermes gateway run` (the CMD) asks for it with `u`
mkfifo -m 0600 "$svc/supervise/control"
# 015-supervise-perms: the hermes user may control the slot.
chown -R "$H_UID:$H_GID" "$svc/supervise"
exec 9<>"$svc/supervise/control" # held open by PID 1, so a `u` written before the supervisor reads it is kept

"$SELF" --supervise gateway-default 9>&- &
sup=$!
setpriv --reuid="$H_UID" --regid="$H_GID" --init-groups -- "$SELF" --as-hermes "$@" 9>&- &
cmd=$!

stop_all() {
  trap '' TERM INT QUIT HUP
  kill -TERM "$cmd" "$sup" 2>/dev/null
  wait "$sup" 2>/dev/null
  wait "$cmd" 2>/dev/null
  exit "$1"
}
trap 'stop_all 0' TERM INT QUIT HUP
while :; do
  done_pid=''
  wait -n -p done_pid "$cmd" "$sup"
  rc=$?
  if [[ $done_pid == "$cmd" ]]; then
    # The CMD ended: the container ends with its exit code, after the slot is brought down.
    kill -TERM "$sup" 2>/dev/null
    wait "$sup" 2>/dev/null
    exit "$rc"
  elif [[ $done_pid == "$sup" ]]; then
    "$SELF" --supervise gateway-default 9>&- & # s6-svscan restarts a dead s6-supervise
    sup=$!
  fi
done
