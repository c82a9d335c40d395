/**
 * Test order for mutation runs: the unit test named after a mutated file first (tests/unit/validators.test.ts for
 * MUTATE=components/lib/validators.ts), then the other unit tests, smallest file first, the program tier last. A
 * mutant's run stops at its first failing test (tests/mutation/environment.js bails), so a mutant a unit test kills
 * costs that unit test, not the program tier's whole-program runs first (jest's own order puts the slowest files
 * first).
 */
const Sequencer = require("@jest/test-sequencer").default;
const fs = require("node:fs");
const path = require("node:path");

/** The unit tests named after the files MUTATE names (a file, a comma-separated list of files, or a folder). */
const ownTests = new Set(
  (process.env.MUTATE ?? "")
    .split(",")
    .flatMap((part) =>
      fs.statSync(part, { throwIfNoEntry: false })?.isDirectory() ? fs.readdirSync(part) : [part],
    )
    .filter((file) => file.endsWith(".ts"))
    .map((file) => `${path.basename(file, ".ts")}.test.ts`),
);

class UnitFirst extends Sequencer {
  sort(tests) {
    const rank = (t) =>
      ownTests.has(path.basename(t.path)) && t.path.includes("/tests/unit/")
        ? 0
        : t.path.includes("/tests/program/")
          ? 2
          : 1;
    const size = (t) => fs.statSync(t.path).size;
    return [...tests].sort((a, b) => rank(a) - rank(b) || size(a) - size(b) || a.path.localeCompare(b.path));
  }
}

module.exports = UnitFirst;
