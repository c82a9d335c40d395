// Mutation testing of components/ with StrykerJS: `npm run test:mutation`. Not part of `npm test`: a full run takes
// hours on two cores (README, Benchmarks); incremental mode re-tests only mutants whose code or tests changed since
// the last run (reports/mutation/<part>/stryker-incremental.json, kept locally).
//
// MUTATE=components/lib (a folder under components/, or `components/*.ts` for the components themselves) runs one
// part, with its own report and incremental file under reports/mutation/<part>/: a full run is too long to wait for in
// one go on two cores.
// MUTATE may also list files or globs, comma-separated, for a group inside a folder; MUTATION_PART then names the
// group's report directory (reports/mutation/<MUTATION_PART>/). tests/mutation/merge-incremental.js joins the groups'
// incremental files into the folder's, so that a last run over the whole folder reuses every result and gives one
// score (README, Benchmarks, shows the sequence used for components/config).
const part = process.env.MUTATE || "components";
const globs = part.split(",").map((p) => p.trim());
const mutate = globs.flatMap((p) => (p.endsWith(".ts") ? [p] : [`${p}/**/*.ts`]));
const name =
  process.env.MUTATION_PART ??
  (part === "components/*.ts" ? "components" : part.replace(/^components\/?/, "").replace(/\.ts$/, ""));
const reports = `reports/mutation/${name || "all"}`;

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "jest",
  // Unit and program tiers only: the template tests run shell scripts (tests/mutation/jest.config.js says why).
  jest: { configFile: "tests/mutation/jest.config.js", enableFindRelatedTests: true },
  // A mutant that does not compile is not a test gap: the type checker drops it before any test runs.
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  mutate,
  // Each mutant runs only the tests that executed it (program tests load the program in beforeAll, so theirs run
  // whole: Stryker calls that coverage "static").
  coverageAnalysis: "perTest",
  // Two cores, shared: one test runner unless MUTATION_CONCURRENCY says otherwise.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  incremental: true,
  incrementalFile: `${reports}/stryker-incremental.json`,
  // The sandbox needs index.ts, components/, templates/, the stack files, the unit/program tests and .ci/run (the
  // README test checks that CI runs the README's test command) only.
  ignorePatterns: [
    "docs",
    "reports",
    "tests/system",
    "tests/engine",
    "tests/cli",
    "tests/templates",
    "bin",
    "coverage",
  ],
  // survivor-log (tests/mutation/survivorLog.mjs): survivors as they come, in <report dir>/survivors.txt.
  plugins: ["@stryker-mutator/*", "./tests/mutation/survivorLog.mjs"],
  reporters: ["clear-text", "progress-append-only", "html", "json", "survivor-log"],
  htmlReporter: { fileName: `${reports}/mutation.html` },
  jsonReporter: { fileName: `${reports}/mutation.json` },
  // Room before a mutant counts as a timeout. Stryker expects a mutant's run to take its covering tests' durations
  // (x1.5) plus this, but a test's duration leaves out its beforeAll, where the program tier runs the whole program,
  // and the cores are shared: with 10 s, 44 of gateway/'s 204 mutants "timed out" on runs that were only slow. An
  // infinite loop in instrumented code is caught sooner anyway, by Stryker's hit limit.
  timeoutMS: 60000,
};
