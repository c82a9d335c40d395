#!/usr/bin/env bash
# Builds the hermes-agent stand-in image inside the CT, without any registry:
#   1. hermes-standin-base:1 — `docker import` of a minimal rootfs assembled from the CT's own Debian binaries
#      (bash, coreutils, util-linux's setpriv, findutils, grep, sed and the libraries they link), made once;
#   2. hermes-standin:local, :v2 and :v3 — `docker build` of ./Dockerfile `FROM hermes-standin-base:1`, every run
#      (seconds): the same image except for the newest config schema it knows (44 in :local, 45 in :v2, 46 in :v3),
#      so starting :v2 on :local's data is an upgrade that migrates config.yaml; :v3 is a broken release whose
#      gateway crashes at every start (its config migration still runs: the upgrade a rollback must undo).
# Runs as root in the CT: `tar -x -C /root/standin && bash /root/standin/build.sh` (tests/system/harness.ts).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
base=hermes-standin-base:1

if ! docker image inspect "$base" >/dev/null 2>&1; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  chmod 0755 "$root" # mktemp's 0700 would become the image's / (with vfs, non-root could then run nothing)
  files=()
  for pkg in bash coreutils findutils grep sed; do
    while IFS= read -r f; do
      [[ -f $f && ! -L $f && $f == */bin/* ]] && files+=("$f")
    done < <(dpkg -L "$pkg")
  done
  files+=(/usr/bin/setpriv)
  # Libraries: whatever the dynamic linker resolves for these binaries, plus the loader itself.
  mapfile -t libs < <(ldd "${files[@]}" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | sort -u)
  mkdir -p "$root"/{usr/bin,usr/lib,usr/lib64,etc,tmp,opt/data,run}
  chmod 1777 "$root/tmp"
  for link in bin lib lib64 sbin; do ln -s "usr/$link" "$root/$link"; done
  ln -s bin "$root/usr/sbin"
  for f in "${files[@]}" "${libs[@]}"; do
    real=$(readlink -f "$f")
    dest=$root/usr${f#/usr}
    mkdir -p "$(dirname "$dest")"
    cp -L "$real" "$dest"
  done
  ln -sf bash "$root/usr/bin/sh"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$root.tar" .
  docker import --message "hermes-lxc system tier: stand-in base" "$root.tar" "$base" >/dev/null
  rm -f "$root.tar"
  echo "imported $base ($(docker image inspect -f '{{.Size}}' "$base") bytes)"
fi

# The legacy builder: Debian's docker.io 20.10 has no buildx, and FROM a local image needs no registry either way.
for tag in local:44:0 v2:45:0 v3:46:1; do
  IFS=: read -r name schema broken <<<"$tag"
  DOCKER_BUILDKIT=0 docker build -q --build-arg "HERMES_STANDIN_CONFIG_VERSION=$schema" \
    --build-arg "HERMES_STANDIN_BROKEN=$broken" -t "hermes-standin:$name" "$here" >/dev/null
  echo "built hermes-standin:$name (config schema $schema$([[ $broken == 1 ]] && echo ', broken: crashes at start'))"
done
