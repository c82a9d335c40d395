#!/usr/bin/env bash
# Benchmark of the provisioning steps on the system tier's environment (same harness: env-up.sh, the node's sshd,
# the CT, renderRemoteCommand). Prints a markdown table: each step's first run against its re-run on the
# provisioned CT, and host preparation of an empty directory against one holding 100,000 files.
# Usage: bash tests/system/bench.sh   (or npm run bench); needs what the tier needs (root, lxc, Debian mirrors).
set -euo pipefail
# shellcheck source=tests/system/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out=$(mktemp /tmp/hermes-systest-bench.XXXXXX.md)
trap 'rm -f "$out"; bash "$SYSTEST_DIR/env-down.sh" --quiet' EXIT
cd "$REPO_ROOT"
# globalSetup brings a fresh environment up (so install-docker's first run is a real first run) and
# globalTeardown removes it; the bench itself is one jest test in bench.measure.ts.
SYSTEST_BENCH_OUT=$out npx jest -c tests/system/jest.config.js --testMatch '**/tests/system/bench.measure.ts' \
  --testTimeout 1800000 >&2
# shellcheck disable=SC1091 # /etc/os-release exists on every Debian
printf '\nMeasured on %s (%s, kernel %s, %s cores), %s:\n\n' "$(hostname)" \
  "$(. /etc/os-release && echo "$PRETTY_NAME")" "$(uname -r)" "$(nproc)" "$(date -u +%F)"
cat "$out"
