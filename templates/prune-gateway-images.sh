#!/usr/bin/env bash
# prune-gateway-images.sh: runs as root on the Docker host after a gateway passed its health gate on an image, and
# removes the gateway images nobody needs any more, so old multi-gigabyte images do not fill the LXC's rootfs
# (the program pulls with keepLocally so that a rollback needs no registry; without this they would pile up).
#
# Env:
#   CONTAINER_NAME  the gateway container that just became healthy
#   REPOSITORY      its image repository (e.g. nousresearch/hermes-agent)
#   IMAGE           the image id it runs (sha256:...)
#   STATE_DIR       where each gateway's current and previous healthy image ids are recorded (absolute)
#
# Kept: for every gateway recorded in STATE_DIR (so one agent never removes another's way back), its current image
# and the one before it; and any image some container (running or not) was created from. Removed: the other images
# of REPOSITORY, reference by reference (`docker image rm <repo>:<tag>` / `<repo>@<digest>`; an image another
# repository also names stays under that name). Idempotent: a re-run finds nothing left to remove.
# stdout: `removed <reference>` per reference, then `images kept: <n> (current <id12>, previous <id12|none>)`.
set -euo pipefail

readonly SELF=prune-gateway-images.sh
die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

[[ ${CONTAINER_NAME-} =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]] || die "CONTAINER_NAME is not a container name: '${CONTAINER_NAME-}'"
[[ ${REPOSITORY-} =~ ^[a-z0-9]+([._/:-][a-z0-9]+)*$ ]] || die "REPOSITORY is not an image repository: '${REPOSITORY-}'"
[[ ${IMAGE-} =~ ^sha256:[0-9a-f]{64}$ ]] || die "IMAGE must be an image id (sha256:<64 hex>), got '${IMAGE-}'"
[[ ${STATE_DIR-} =~ ^/[A-Za-z0-9._/-]+$ && $STATE_DIR != *..* ]] || die "STATE_DIR must be an absolute path"
command -v docker >/dev/null 2>&1 || die "docker is not installed"

mkdir -p "$STATE_DIR"
record=$STATE_DIR/$CONTAINER_NAME.images
current='' previous=''
[[ ! -f $record ]] || { read -r current previous <"$record" || true; }
if [[ $current != "$IMAGE" ]]; then
  previous=$current
  current=$IMAGE
  printf '%s %s\n' "$current" "$previous" >"$record.tmp"
  mv -f "$record.tmp" "$record"
fi

declare -A keep=()
for f in "$STATE_DIR"/*.images; do
  [[ -f $f ]] || continue
  read -r a b <"$f" || true
  [[ -z ${a-} ]] || keep[$a]=1
  [[ -z ${b-} ]] || keep[$b]=1
done
while IFS= read -r id; do
  [[ -z $id ]] || keep[$id]=1
done < <(docker ps -aq --no-trunc | xargs -r docker inspect -f '{{.Image}}')

while read -r id repo tag digest; do
  [[ -z ${keep[$id]-} ]] || continue
  if [[ $tag != '<none>' ]]; then
    ref=$repo:$tag
  elif [[ $digest != '<none>' ]]; then
    ref=$repo@$digest
  else
    ref=$id
  fi
  if docker image rm "$ref" >/dev/null 2>&1; then echo "removed $ref"; fi
done < <(docker image ls --no-trunc --digests --format '{{.ID}} {{.Repository}} {{.Tag}} {{.Digest}}' "$REPOSITORY")

prev_short=none
[[ -z $previous ]] || prev_short=${previous:7:12}
echo "images kept: ${#keep[@]} (current ${current:7:12}, previous $prev_short)"
