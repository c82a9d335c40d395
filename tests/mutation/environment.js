/**
 * The test environment of mutation runs (tests/mutation/jest.config.js): node's, plus per-test coverage for what a
 * `beforeAll` hook runs.
 *
 * Stryker's perTest coverage credits code to the test running when it executes, and code a `beforeAll` runs to no
 * test: such a mutant is "static", and Stryker then runs every related test file for it, whole. The program tier
 * runs index.ts in `beforeAll` (one run under mocks, asserted by many tests), so nearly every mutant in components/
 * was static, at 30-40 s each. A `beforeAll` runs exactly when at least one test of its describe block runs, and
 * everything it computes is there for every test of that block: so here its coverage is credited to each test of its
 * block (and of the blocks inside). Stryker then runs those tests only, with the mutant active from the start (the
 * jest runner activates it through the environment before the test files load), the hook included.
 *
 * Code that runs when a module loads (top-level constants, regex literals) stays static: it runs before any hook.
 *
 * And a bail, in mutant runs: once a test has failed under a mutant, the mutant is killed, and every test and
 * describe block that would run after it, in this file and the next ones, is skipped (a skipped block's beforeAll
 * does not run). Stryker's jest runner cannot bail itself (jest has no programmatic bail: it sets `bail: false`), so
 * without this a mutant runs every test that covers it even after the first kill: for a validator that the config
 * schema calls, hundreds of tests in twenty files.
 */
const { TestEnvironment } = require("jest-environment-node");

/** A test's id as Stryker's jest runner names it: the describe names and the test name, space-separated. */
function fullName(test) {
  const names = [];
  for (let block = test.parent; block && block.parent; block = block.parent) names.unshift(block.name);
  return [...names, test.name].join(" ").trimStart();
}

/** Every test of a describe block and of the blocks inside it that ran. */
function testsUnder(block) {
  return block.children.flatMap((child) =>
    child.type === "test" ? (child.status === "done" ? [child] : []) : testsUnder(child),
  );
}

/** The mutant a test has failed under (process-wide: jest runs a mutant's test files one after another here). */
const KILLED = Symbol.for("hermes-lxc.mutation.killed");

/** Skips what is left of a mutant's run once one of its tests has failed. */
function bail(event) {
  const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
  // A failed beforeAll is not the kill itself: jest hands its error to every test under the hook's block, and those
  // tests must run (and fail) for Stryker to see it. Marking the mutant killed at the hook skipped them all, and a
  // mutant that broke the program tier's beforeAll (the whole program run) survived.
  if (event.name === "test_done" && event.test.errors.length > 0) process[KILLED] = mutant;
  else if (process[KILLED] !== mutant) return;
  else if (event.name === "run_describe_start") event.describeBlock.mode = "skip";
  else if (event.name === "test_start") event.test.mode = "skip";
}

class HookCoverageEnvironment extends TestEnvironment {
  /** The beforeAll hooks that ran in this file: the coverage key they ran under and their describe block. */
  #hookRuns = [];

  async handleTestEvent(event) {
    // A mutant run has its mutant's id in the environment; the dry run, which measures coverage, has not.
    if (process.env.__STRYKER_ACTIVE_MUTANT__ !== undefined) return bail(event);
    // Set by Stryker's wrapper (`__stryker__`, its instrumenter context); absent in a plain jest run.
    const stryker = this.global.__stryker__;
    if (!stryker) return;
    if (event.name === "hook_start" && event.hook.type === "beforeAll") {
      const key = `\u0000beforeAll ${this.#hookRuns.length}`;
      this.#hookRuns.push({ key, block: event.hook.parent });
      stryker.currentTestId = key;
    } else if (
      (event.name === "hook_success" || event.name === "hook_failure") &&
      event.hook.type === "beforeAll"
    ) {
      stryker.currentTestId = undefined;
    } else if (event.name === "run_finish") {
      const perTest = stryker.mutantCoverage?.perTest ?? {};
      for (const { key, block } of this.#hookRuns) {
        const hits = perTest[key];
        delete perTest[key];
        if (!hits) continue;
        for (const test of testsUnder(block)) {
          const into = (perTest[fullName(test)] ??= {});
          for (const [mutant, count] of Object.entries(hits)) into[mutant] = (into[mutant] ?? 0) + count;
        }
      }
      this.#hookRuns = [];
    }
  }
}

module.exports = HookCoverageEnvironment;
