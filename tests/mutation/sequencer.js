/**
 * Test order for mutation runs: unit tests first, smallest file first, the program tier last. Stryker stops a mutant's
 * run at its first failing test file (bail), so a mutant a unit test kills costs that unit test, not the program
 * tier's whole-program runs first (jest's own order puts the slowest files first).
 */
const Sequencer = require("@jest/test-sequencer").default;
const fs = require("node:fs");

class UnitFirst extends Sequencer {
  sort(tests) {
    const tier = (t) => (t.path.includes("/tests/program/") ? 1 : 0);
    const size = (t) => fs.statSync(t.path).size;
    return [...tests].sort((a, b) => tier(a) - tier(b) || size(a) - size(b) || a.path.localeCompare(b.path));
  }
}

module.exports = UnitFirst;
