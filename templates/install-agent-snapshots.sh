#!/usr/bin/env bash
# install-agent-snapshots.sh: runs as root on the Proxmox node (LXC agents) or the Docker host, and installs what
# snapshots and restores one agent's /opt/data there:
#   LIB_DIR/snapshot-agent-data.sh, LIB_DIR/restore-agent-data.sh   the scripts (0700)
#   BIN_DIR/hermes-lxc-snapshot <id> [label]                         a snapshot now (label default: manual)
#   BIN_DIR/hermes-lxc-restore <id> <snapshot|latest|list>           the README's restore command
#   CONF_DIR/<id>.conf                                               this agent's settings (0600)
#   UNIT_DIR/hermes-lxc-snapshot-<id>.{service,timer}                the schedule (removed when SCHEDULE=off)
#
# Env:
#   SNAPSHOT_ID     instance id, `<lxc or host>-<agent>` ([a-z0-9-])
#   AGENT, DATA_DIR, SNAPSHOT_ROOT, KEEP, MAX_AGE_DAYS     as snapshot-agent-data.sh
#   CONTAINER_NAME, VMID                                    as restore-agent-data.sh
#   SCHEDULE        `off` or a systemd OnCalendar value (validated by the config model, re-checked here)
#   BIN_DIR, LIB_DIR, CONF_DIR, UNIT_DIR   where the files go (absolute paths)
#   SYSTEMCTL       the systemctl to drive (absolute path, or `systemctl`)
#   SNAPSHOT_SH, RESTORE_SH                 the two scripts' text
#
# Idempotent: every file is written only when its content differs, `daemon-reload` runs only when a unit changed,
# and the timer is (re)started only when it is not already enabled and active: a re-run changes nothing and takes
# well under a second. Snapshots themselves are never touched here.
# stdout: `changed <file>` per file written, then `snapshots <id>: schedule=<s> keep=<n> max-age=<d>d dir=<dir>`.
set -euo pipefail
umask 077

readonly SELF=install-agent-snapshots.sh
die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

[[ ${SNAPSHOT_ID-} =~ ^[a-z0-9]([a-z0-9-]{0,126}[a-z0-9])?$ ]] || die "SNAPSHOT_ID must be [a-z0-9-], got '${SNAPSHOT_ID-}'"
[[ ${AGENT-} =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || die "AGENT must be a DNS label, got '${AGENT-}'"
for v in DATA_DIR SNAPSHOT_ROOT BIN_DIR LIB_DIR CONF_DIR UNIT_DIR; do
  [[ ${!v-} =~ ^/[A-Za-z0-9._@+/-]+$ && ${!v} != *..* && ${!v} != / ]] || die "$v must be an absolute path, got '${!v-}'"
done
if [[ ! ${KEEP-} =~ ^[1-9][0-9]{0,3}$ ]] || ((KEEP > 1000)); then die "KEEP must be 1..1000, got '${KEEP-}'"; fi
if [[ ! ${MAX_AGE_DAYS-} =~ ^[1-9][0-9]{0,3}$ ]] || ((MAX_AGE_DAYS > 3650)); then
  die "MAX_AGE_DAYS must be 1..3650, got '${MAX_AGE_DAYS-}'"
fi
[[ ${CONTAINER_NAME-} =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]] || die "CONTAINER_NAME is not a container name: '${CONTAINER_NAME-}'"
[[ -z ${VMID-} || ${VMID} =~ ^[1-9][0-9]{2,8}$ ]] || die "VMID must be empty or a VMID, got '${VMID-}'"
# The subset the config model accepts (components/config/snapshots.ts): it goes into a unit file.
day='(Mon|Tue|Wed|Thu|Fri|Sat|Sun)'
calendar="^((hourly|daily|weekly)|($day(,$day)* )?(\\*-\\*-\\* )?([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)$"
[[ ${SCHEDULE-} == off || ${SCHEDULE-} =~ $calendar ]] || die "SCHEDULE is not an accepted OnCalendar value: '${SCHEDULE-}'"
[[ ${SYSTEMCTL-} == systemctl || ${SYSTEMCTL-} =~ ^/[A-Za-z0-9._/-]+$ ]] || die "SYSTEMCTL must be systemctl or a path"
[[ -n ${SNAPSHOT_SH-} && -n ${RESTORE_SH-} ]] || die "SNAPSHOT_SH and RESTORE_SH must hold the scripts"

# Writes stdin to $1 (mode $2) when the content differs; prints `changed $1` then. Atomic (rename).
write_if_changed() {
  local dest=$1 mode=$2 tmp
  tmp=$(mktemp "$dest.XXXXXX")
  cat >"$tmp"
  if [[ -f $dest ]] && cmp -s "$tmp" "$dest" && [[ $(stat -c %a "$dest") == "${mode#0}" ]]; then
    rm -f "$tmp"
    return 1
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
  echo "changed $dest"
}

mkdir -p "$BIN_DIR" "$LIB_DIR" "$CONF_DIR"
chmod 0700 "$LIB_DIR" "$CONF_DIR"
mkdir -p "$SNAPSHOT_ROOT/$AGENT"
chmod 0700 "$SNAPSHOT_ROOT" "$SNAPSHOT_ROOT/$AGENT"

printf '%s\n' "$SNAPSHOT_SH" | write_if_changed "$LIB_DIR/snapshot-agent-data.sh" 0700 || true
printf '%s\n' "$RESTORE_SH" | write_if_changed "$LIB_DIR/restore-agent-data.sh" 0700 || true

# The conf file is sourced by the two commands below: every value was validated above, and is single-quoted.
{
  printf "# hermes-lxc: snapshots of agent %s (written by install-agent-snapshots.sh; pulumi up rewrites it)\n" "$AGENT"
  for v in AGENT DATA_DIR SNAPSHOT_ROOT KEEP MAX_AGE_DAYS CONTAINER_NAME VMID; do printf "%s='%s'\n" "$v" "${!v}"; done
} | write_if_changed "$CONF_DIR/$SNAPSHOT_ID.conf" 0600 || true

# The commands an operator types (and the stack outputs print). Paths baked in; ids checked before sourcing.
command_text() { # <script> <usage> <variable set from $2>
  cat <<EOF
#!/usr/bin/env bash
# Installed by hermes-lxc (install-agent-snapshots.sh). Usage: $2
set -euo pipefail
if [[ ! \${1-} =~ ^[a-z0-9-]+\$ || ! -f $CONF_DIR/\${1-}.conf ]]; then
  echo "usage: $2 (ids: \$(cd $CONF_DIR && ls -- *.conf 2>/dev/null | sed 's/\\.conf\$//' | tr '\\n' ' '))" >&2
  exit 2
fi
set -a
# shellcheck disable=SC1090
. "$CONF_DIR/\$1.conf"
set +a
$3
exec bash $LIB_DIR/$1
EOF
}
# shellcheck disable=SC2016 # the third argument is code for the generated command, expanded there
command_text snapshot-agent-data.sh "hermes-lxc-snapshot <id> [label]" 'export LABEL=${2:-manual}' |
  write_if_changed "$BIN_DIR/hermes-lxc-snapshot" 0700 || true
# shellcheck disable=SC2016
command_text restore-agent-data.sh "hermes-lxc-restore <id> <snapshot file|latest|list>" 'export SNAPSHOT=${2:-list}' |
  write_if_changed "$BIN_DIR/hermes-lxc-restore" 0700 || true

unit=hermes-lxc-snapshot-$SNAPSHOT_ID
units_changed=no
if [[ $SCHEDULE == off ]]; then
  if [[ -f $UNIT_DIR/$unit.timer ]]; then
    "$SYSTEMCTL" disable --now "$unit.timer" >/dev/null 2>&1 || true
    rm -f "$UNIT_DIR/$unit.timer" "$UNIT_DIR/$unit.service"
    echo "changed $UNIT_DIR/$unit.timer (removed: schedule off)"
    "$SYSTEMCTL" daemon-reload
  fi
else
  mkdir -p "$UNIT_DIR"
  # Idle I/O priority and a low CPU priority: the node runs guests. Persistent: a run missed while the machine was
  # off happens at the next boot. The random delay spreads several agents' runs.
  # An LXC agent's snapshot runs only on the node that holds the container: /etc/pve/lxc is pmxcfs' link to this
  # node's own nodes/<node>/lxc (pve-cluster src/pmxcfs/pmxcfs.c:663-686). Under HA, every node the agent may run on
  # has the timer (its data and snapshots are on shared storage), and only the one holding it takes the snapshot.
  on_this_node=
  [[ -z $VMID ]] || on_this_node="
ConditionPathExists=/etc/pve/lxc/$VMID.conf"
  if cat <<EOF | write_if_changed "$UNIT_DIR/$unit.service" 0644; then units_changed=yes; fi
[Unit]
Description=hermes-lxc: snapshot of agent $AGENT's data ($DATA_DIR)
ConditionPathIsDirectory=$DATA_DIR$on_this_node

[Service]
Type=oneshot
Nice=10
IOSchedulingClass=idle
ExecStart=$BIN_DIR/hermes-lxc-snapshot $SNAPSHOT_ID scheduled
EOF
  if cat <<EOF | write_if_changed "$UNIT_DIR/$unit.timer" 0644; then units_changed=yes; fi
[Unit]
Description=hermes-lxc: scheduled snapshot of agent $AGENT's data

[Timer]
OnCalendar=$SCHEDULE
Persistent=true
RandomizedDelaySec=300

[Install]
WantedBy=timers.target
EOF
  if [[ $units_changed == yes ]]; then
    "$SYSTEMCTL" daemon-reload
    "$SYSTEMCTL" enable "$unit.timer" >/dev/null
    "$SYSTEMCTL" restart "$unit.timer"
  elif ! "$SYSTEMCTL" is-enabled --quiet "$unit.timer" || ! "$SYSTEMCTL" is-active --quiet "$unit.timer"; then
    "$SYSTEMCTL" enable --now "$unit.timer" >/dev/null
    echo "changed $unit.timer (enabled)"
  fi
fi
echo "snapshots $SNAPSHOT_ID: schedule=$SCHEDULE keep=$KEEP max-age=${MAX_AGE_DAYS}d dir=$SNAPSHOT_ROOT/$AGENT"
