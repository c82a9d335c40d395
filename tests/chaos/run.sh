#!/usr/bin/env bash
# The chaos tier (npm run test:chaos): interrupted and crowded deploys under the real engine, on the system tier's
# world (tests/system/common.sh variables pick the world). Extra arguments go to jest (a file pattern: `crowded`,
# `interrupted`). CHAOS_SEED and CHAOS_TRIALS pick the interrupted trials; CHAOS_REPORT=<file> appends the tables.
# Without the language host and provider plugins it prints one line saying why it did not run, and succeeds, like
# the engine tier.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! found="$(node "$here/../engine/toolchain.js")"; then
  echo "chaos tier: did not run: no Pulumi language host and provider plugins: $found (see tests/engine/README.md)"
  exit 0
fi
echo "chaos tier: toolchain $found"
# shellcheck source=tests/system/common.sh
source "$here/../system/common.sh"
if [[ ${SYSTEST_KEEP-} != 1 ]]; then trap 'bash "$SYSTEST_DIR/env-down.sh" --quiet' EXIT; fi
cd "$REPO_ROOT"
# The full set here; the engine tier runs the file with its default of 3.
export CHAOS_TRIALS="${CHAOS_TRIALS:-24}"
started=$SECONDS
status=0
npx jest -c tests/chaos/jest.config.js "$@" || status=$?
log "chaos tier finished in $((SECONDS - started))s (exit $status)"
exit "$status"
