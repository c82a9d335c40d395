#!/usr/bin/env bash
# migrate-agent-config.sh: runs as root on the Docker host (the LXC) before a gateway container is created from an
# image, and brings the agent's config.yaml to that image's config schema version.
#
# Why here and not at the gateway's boot: the image runs scripts/docker_config_migrate.py on every boot
# (docker/stage2-hook.sh), but the gateway runs in managed mode, where hermes refuses to save its config; the
# migration then fails on every start and leaves `config.yaml.bak-<stamp>` and `.env.bak-<stamp>` (secrets included)
# in /opt/data each time. So the gateway runs with HERMES_SKIP_CONFIG_MIGRATION=1, and this step runs the image's own
# migration once per image, unmanaged, exactly as stage 2 would: as the hermes uid, with HERMES_HOME=/opt/data.
#
# Env:
#   IMAGE          image id (sha256:...) of the gateway about to be created (required)
#   AGENT_DIR      the agent's /opt/data on this host (required, absolute, must exist)
#   HERMES_UID     uid the gateway runs as (1..65534)
#   HERMES_GID     gid likewise
#
# The migration's own backups are removed when it succeeds: the copy of .env holds secrets, and the stack holds the
# canonical .env and config.yaml anyway (take a snapshot first for a way back; see the README). A failed migration
# restores its backups itself (docker_config_migrate.py) and fails this step, so the old container keeps running.
# stdout: `config-version <before> -> <after>`. Idempotent: with the config already current it changes nothing.
set -euo pipefail

readonly SELF=migrate-agent-config.sh
die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

[[ ${IMAGE-} =~ ^sha256:[0-9a-f]{64}$ ]] || die "IMAGE must be an image id (sha256:<64 hex>), got '${IMAGE-}'"
[[ ${AGENT_DIR-} =~ ^/[A-Za-z0-9._/-]+$ && $AGENT_DIR != *..* ]] || die "AGENT_DIR must be an absolute path, got '${AGENT_DIR-}'"
[[ -d $AGENT_DIR && ! -L $AGENT_DIR ]] || die "AGENT_DIR $AGENT_DIR is not a directory"
for v in HERMES_UID HERMES_GID; do
  if [[ ! ${!v-} =~ ^[1-9][0-9]{0,4}$ ]] || ((${!v} > 65534)); then
    die "$v must be an id in 1..65534, got '${!v-}'"
  fi
done
command -v docker >/dev/null 2>&1 || die "docker is not installed"

# `_config_version: N` at the top level of config.yaml; missing or invalid counts as 0, as hermes reads it.
config_version() {
  local v
  v=$(sed -n 's/^_config_version:[[:space:]]*\([0-9]\{1,6\}\)[[:space:]]*$/\1/p' "$AGENT_DIR/config.yaml" 2>/dev/null | tail -n1)
  echo "${v:-0}"
}
backups() {
  find "$AGENT_DIR" -maxdepth 1 -type f \( -name '.env.bak-*' -o -name 'config.yaml.bak-*' \) -printf '%f\n' | sort
}

if [[ ! -f $AGENT_DIR/config.yaml ]]; then
  echo "config-version none (no config.yaml yet)"
  exit 0
fi
before=$(config_version)
mapfile -t old_backups < <(backups)

# The image's own migration, as docker/stage2-hook.sh runs it, minus the rest of the boot: no gateway, no network.
# HERMES_MANAGED=false wins over the .managed marker (hermes reads the marker only when the variable is unset).
docker run --rm --network none \
  --user "$HERMES_UID:$HERMES_GID" \
  --entrypoint /opt/hermes/.venv/bin/python \
  -e HERMES_HOME=/opt/data -e HOME=/opt/data -e HERMES_MANAGED=false \
  -v "$AGENT_DIR:/opt/data" -w /opt/data \
  "$IMAGE" /opt/hermes/scripts/docker_config_migrate.py >&2 ||
  die "the image's config migration failed (see above); config.yaml and .env were restored by it, nothing else changed"

# Remove what this run's migration backed up (and any copy of .env an earlier boot left behind).
mapfile -t new_backups < <(backups)
for f in "${new_backups[@]}"; do
  if [[ $f == .env.bak-* ]] || ! printf '%s\n' "${old_backups[@]}" | grep -qxF -- "$f"; then
    rm -f -- "${AGENT_DIR:?}/$f"
  fi
done
echo "config-version $before -> $(config_version)"
