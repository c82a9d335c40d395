#!/usr/bin/env bash
# Prints the path of a real Pulumi CLI binary, building it from the Go module proxy the first time.
#
# The version is the one pinned in tests/cli/pulumi-cli/go.mod (its `tool` line); the build is cached outside the
# repository, keyed by that version and by go.sum, so a warm run costs nothing and a bump rebuilds. The first build
# takes about 8 minutes on 2 cores. PULUMI_CLI=/path/to/pulumi skips all of this and uses that binary.
set -euo pipefail

if [[ -n ${PULUMI_CLI-} ]]; then
  [[ -x $PULUMI_CLI ]] || {
    echo "ensure-pulumi-cli: PULUMI_CLI=$PULUMI_CLI is not an executable" >&2
    exit 1
  }
  printf '%s\n' "$PULUMI_CLI"
  exit 0
fi

module_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/pulumi-cli" && pwd)"
command -v go >/dev/null || {
  echo "ensure-pulumi-cli: needs Go (the CLI is built from the Go module proxy)" >&2
  exit 1
}
cd "$module_dir"
version="$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
sum="$(sha256sum go.sum | cut -c1-12)"
cache="${HERMES_LXC_CACHE:-$HOME/.cache/hermes-lxc}/pulumi-cli/$version-$sum"
binary="$cache/bin/pulumi"

if [[ ! -x $binary ]]; then
  echo "ensure-pulumi-cli: building the Pulumi CLI $version (about 8 minutes the first time)" >&2
  mkdir -p "$cache/bin"
  started=$SECONDS
  # The version ldflag is what `pulumi version` prints and what the engine compares plugin requirements against.
  go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$binary.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  mv "$binary.partial" "$binary"
  echo "ensure-pulumi-cli: built in $((SECONDS - started))s: $binary" >&2
fi
printf '%s\n' "$binary"
