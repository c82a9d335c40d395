/**
 * The jest config Stryker runs (stryker.config.json): the tests that import components/, the unit and program
 * tiers. The template tests run shell scripts for real and import components only to render their inputs, so a
 * mutant in components/ is theirs to catch only through what the unit tests of the same module already check; they
 * would cost minutes per mutant on two cores and stay out.
 */
const base = require("../../jest.config.js");

module.exports = {
  ...base,
  rootDir: "../..",
  // The whole project, not only tests/: Stryker asks jest for the tests related to a mutated file, and jest follows
  // imports only through files under its roots. With tests/ alone, a test that reaches components/lib through
  // components/config (or through index.ts) does not count as related, and its kills are never tried.
  roots: ["<rootDir>"],
  // MUTATION_TIERS=unit leaves the program tier out: a cheaper run, in which what only the program tier covers
  // counts as not covered.
  testMatch: (process.env.MUTATION_TIERS ?? "unit,program")
    .split(",")
    .map((tier) => `<rootDir>/tests/${tier}/**/*.test.ts`),
  // Node's environment, with what a beforeAll runs credited to the tests of its block (environment.js says why).
  testEnvironment: require.resolve("./environment.js"),
  testSequencer: "<rootDir>/tests/mutation/sequencer.js",
  // renovate.test.ts reads components/config/*.ts as text (renovate's regexes), which the sandbox's instrumented
  // copies are not.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/unit/renovate\\.test\\.ts$"],
};
