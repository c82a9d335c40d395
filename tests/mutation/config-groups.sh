#!/usr/bin/env bash
# Stryker over components/config/ in file groups, one after another, each with its own incremental file (a group
# that finishes keeps its results even if a later one is stopped), then one run over the whole folder that reuses
# every group's results and writes the folder's score (reports/mutation/config/). Unit tier only, static mutants
# ignored (README, Benchmarks, says why). Usage: bash tests/mutation/config-groups.sh [group...]
set -euo pipefail
cd "$(dirname "$0")/../.."
c=components/config
# Small groups, the rules that guard hosts, secrets and access first: on two shared cores a group of 300 mutants
# takes about an hour, and only a finished group keeps its results.
not_rules="!$c/ha.ts,!$c/haRules.ts,!$c/lxcRules.ts,!$c/snapshotRules.ts,!$c/agentRules.ts,!$c/agentSecrets.ts"
not_rules="$not_rules,!$c/mcpRules.ts,!$c/rawConfig.ts,!$c/fields.ts"
declare -A groups=(
  [config-ha]="$c/ha.ts,$c/haRules.ts"
  [config-lxc]="$c/lxcRules.ts,$c/snapshotRules.ts"
  [config-secrets]="$c/agentSecrets.ts,$c/mcpRules.ts,$c/platforms/access.ts"
  [config-agent]="$c/agentRules.ts"
  [config-fields]="$c/platforms/platform.ts,$c/rawConfig.ts,$c/fields.ts"
  [config-platforms]="$c/platforms/*.ts,!$c/platforms/access.ts,!$c/platforms/platform.ts"
  [config-rest]="$c/*.ts,$not_rules"
)
order=(config-ha config-lxc config-secrets config-agent config-fields config-platforms config-rest)
export MUTATION_TIERS=unit
# The test names by file, fresh, so that each mutant loads only the test files that covered it (sequencer.js).
names=reports/mutation/test-names.json
if [ ! -f "$names" ] || [ -n "$(find tests components index.ts -name '*.ts' -newer "$names" | head -1)" ]; then
  bash tests/mutation/test-names.sh
fi
export MUTATION_TEST_NAMES="$PWD/reports/mutation/test-names.json"
for g in "${@:-${order[@]}}"; do
  echo "== $g: ${groups[$g]} ($(date -u +%T))"
  MUTATE="${groups[$g]}" MUTATION_PART="$g" npx stryker run --ignoreStatic
done
inputs=()
for g in "${order[@]}"; do
  f="reports/mutation/$g/stryker-incremental.json"
  [ -f "$f" ] || {
    echo "== $g has not finished: no folder score yet (run: bash $0 $g)"
    exit 0
  }
  inputs+=("$f")
done
node tests/mutation/merge-incremental.js reports/mutation/config/stryker-incremental.json "${inputs[@]}"
echo "== components/config, every group's results reused ($(date -u +%T))"
MUTATE=components/config npx stryker run --ignoreStatic
