#!/usr/bin/env bash
# The engine tier alone (npm run test:engine): the system tier's world, then tests/engine and the chaos tier's
# reduced set (tests/chaos/interrupted, 3 trials). Without the language host and provider plugins it prints one line
# saying why it did not run, and succeeds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! found="$(node "$here/toolchain.js")"; then
  echo "engine tier: did not run: no Pulumi language host and provider plugins: $found (see tests/engine/README.md)"
  exit 0
fi
echo "engine tier: toolchain $found"
exec bash "$here/../system/run.sh" tests/engine tests/chaos/interrupted "$@"
