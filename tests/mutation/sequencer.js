/**
 * Test order and selection for mutation runs.
 *
 * Order: the unit test named after the mutated file first (tests/unit/validators.test.ts for a mutant in
 * components/lib/validators.ts: Stryker names that file to jest's findRelatedTests), then the other unit tests, smallest file first, the program tier last. A
 * mutant's run stops at its first failing test (tests/mutation/environment.js bails), so a mutant a unit test kills
 * costs that unit test, not the program tier's whole-program runs first (jest's own order puts the slowest files
 * first).
 *
 * Selection: for each mutant Stryker asks jest for the tests related to the mutated file (findRelatedTests) and names
 * the tests that covered the mutant (testNamePattern). Jest still loads every related file to look for those names,
 * and for a file under components/config that is nearly every unit test file: most of a mutant's time. With
 * MUTATION_TEST_NAMES (the names of the same tiers' tests by file, made by tests/mutation/test-names.sh), the files
 * none of whose tests match the pattern are dropped before jest loads them. A pattern that matches no known test
 * keeps every file, as jest would.
 */
const Sequencer = require("@jest/test-sequencer").default;
const fs = require("node:fs");
const path = require("node:path");

/** Full test names by test file, relative to the project root (tests/mutation/test-names.sh). */
const namesByFile = (file) => new Map(Object.entries(JSON.parse(fs.readFileSync(file, "utf8"))));

class UnitFirst extends Sequencer {
  constructor(options) {
    super(options);
    this.pattern = options?.globalConfig?.testNamePattern;
    const names = process.env.MUTATION_TEST_NAMES;
    this.names = names && this.pattern ? namesByFile(names) : undefined;
    const mutated = options?.globalConfig?.findRelatedTests ? (options.globalConfig.nonFlagArgs ?? []) : [];
    this.ownTests = new Set(mutated.map((file) => `${path.basename(file, ".ts")}.test.ts`));
  }

  sort(tests) {
    const rank = (t) =>
      this.ownTests.has(path.basename(t.path)) && t.path.includes("/tests/unit/")
        ? 0
        : t.path.includes("/tests/program/")
          ? 2
          : 1;
    const size = (t) => fs.statSync(t.path).size;
    const sorted = [...tests].sort(
      (a, b) => rank(a) - rank(b) || size(a) - size(b) || a.path.localeCompare(b.path),
    );
    if (!this.names) return sorted;
    const re = new RegExp(this.pattern, "i");
    const covering = sorted.filter((t) => {
      const known = this.names.get(path.relative(t.context.config.rootDir, t.path));
      return known === undefined || known.some((n) => re.test(n));
    });
    return covering.length > 0 ? covering : sorted;
  }
}

module.exports = UnitFirst;
