#!/bin/bash
# hermes-agent stand-in: boot-time config migration, run by stage 2 as the hermes user on every boot when
# config.yaml exists (upstream: scripts/docker_config_migrate.py; see README.md). Behaviour mirrored:
#   HERMES_SKIP_CONFIG_MIGRATION truthy -> say so, exit 0;
#   _config_version (missing/invalid = 0) >= the image's latest -> nothing, exit 0;
#   else back up config.yaml and .env to <name>.bak-<UTC %Y%m%dT%H%M%SZ>[.N] (cp -p, never pruned), announce,
#   migrate (hermes_cli/config.py migrate_config: sanitize_env_file, then the closing save_config, which rewrites
#   config.yaml in hermes' own layout and is refused under managed mode; see hermes-config.sh), re-check; not
#   advanced -> restore both from the backups, report, exit 1 (stage 2 carries on).
# Installed as /opt/hermes/scripts/docker_config_migrate.py (upstream's path; bash, run through the `python` shim).
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=hermes-config.sh
. /opt/hermes/lib/hermes-config.sh

die() {
  printf '[config-migrate] ERROR: %s\n' "$*" >&2
  exit 1
}

backup_path() {
  local base=$1.bak-$2 i
  [[ -e $base ]] || {
    echo "$base"
    return 0
  }
  for ((i = 1; i < 1000; i++)); do
    [[ -e $base.$i ]] || {
      echo "$base.$i"
      return 0
    }
  done
  die "could not choose a backup path for $1"
}

join() {
  local out=$1 x
  shift
  for x in "$@"; do out+=", $x"; done
  echo "$out"
}

if hermes_env_enabled HERMES_SKIP_CONFIG_MIGRATION; then
  echo "[config-migrate] HERMES_SKIP_CONFIG_MIGRATION is set; skipping config migration"
  exit 0
fi

config=$HERMES_HOME/config.yaml
current=$(hermes_config_version "$config")
latest=$HERMES_LATEST_CONFIG_VERSION
((current >= latest)) && exit 0

stamp=$(date -u +%Y%m%dT%H%M%SZ)
originals=()
backups=()
for f in "$config" "$HERMES_HOME/.env"; do
  [[ -f $f ]] || continue
  dest=$(backup_path "$f" "$stamp") || exit 1
  cp -p "$f" "$dest" || die "could not back up $f"
  originals+=("$f")
  backups+=("$dest")
done
backup_text=none
((${#backups[@]})) && backup_text=$(join "${backups[@]}")
echo "[config-migrate] Migrating config schema $current -> $latest; backups: $backup_text"

restore() {
  local i back=()
  for i in "${!originals[@]}"; do
    [[ -f ${backups[i]} ]] || continue
    cp -p "${backups[i]}" "${originals[i]}" && back+=("${originals[i]}")
  done
  if ((${#back[@]})); then join "${back[@]}"; else echo none; fi
}

# migrate_config(interactive=False): .env normalised, no schema steps of its own, then the closing save.
hermes_sanitize_env_file || die "could not rewrite $HERMES_HOME/.env"
if ! hermes_save_migrated_config "$latest"; then
  restored=$(restore)
  echo "[config-migrate] Migration failed; restored $restored"
  die "could not write $config"
fi

post=$(hermes_config_version "$config")
if ((post < latest)); then
  restored=$(restore)
  die "migration did not advance config version to $latest (still $post); restored: $restored"
fi
exit 0
