#!/usr/bin/env bash
# The names of every test of the mutation run's tiers, by file (reports/mutation/test-names.json), for
# tests/mutation/sequencer.js: run once before a mutation run, again after tests are added or renamed (a test missing
# from it only costs time: its file is kept).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p reports/mutation
out=reports/mutation/jest-result.json
npx jest -c tests/mutation/jest.config.js --json --outputFile="$out" >/dev/null 2>&1 || {
  echo "test-names: the tests do not pass; fix them before a mutation run" >&2
  exit 1
}
# shellcheck disable=SC2016 # JavaScript template literals, not shell
node -e '
  const path = require("node:path");
  const r = require(path.resolve(process.argv[1]));
  const byFile = Object.fromEntries(
    r.testResults.map((s) => [path.relative(process.cwd(), s.name), s.assertionResults.map((a) => a.fullName)]),
  );
  require("node:fs").writeFileSync("reports/mutation/test-names.json", JSON.stringify(byFile));
  console.log(`test-names: ${r.numTotalTests} tests in ${r.testResults.length} files`);
' "$out"
