#!/usr/bin/env bash
# The system tier (npm run test:system): jest with tests/system/jest.config.js. Extra arguments go to jest
# (e.g. a file name pattern). The environment is torn down afterwards even if jest itself is killed.
set -euo pipefail
# shellcheck source=tests/system/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# globalTeardown normally does this; the trap covers an interrupted jest (Ctrl-C, CI timeout).
if [[ ${SYSTEST_KEEP-} != 1 ]]; then trap 'bash "$SYSTEST_DIR/env-down.sh" --quiet' EXIT; fi
cd "$REPO_ROOT"
started=$SECONDS
status=0
npx jest -c tests/system/jest.config.js "$@" || status=$?
log "system tier finished in $((SECONDS - started))s (exit $status)"
exit "$status"
