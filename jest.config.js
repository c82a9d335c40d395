/** Unit, program (Pulumi mocks) and template tests. The system tier has its own config in tests/system. */
module.exports = {
  // ts-jest transpiles only (tsconfig.json sets isolatedModules, which ts-jest 29 takes as "no type check"): the
  // type check is `tsc --noEmit` in `npm run lint`, once for the whole project instead of once per test file.
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: [
    "<rootDir>/tests/{unit,program,templates}/**/*.test.ts",
    "<rootDir>/tests/pve-double/**/*.test.ts",
  ],
  // Pulumi keeps process-wide globals; jest 30 would otherwise warn that it "soft deleted" them.
  testEnvironmentOptions: { globalsCleanup: "off" },
  testTimeout: 60000,
  // Most of the time goes to waiting on real subprocesses (scripts, ssh-keygen, python), not CPU: four workers on
  // two cores halve the wall time against jest's default of cores - 1.
  maxWorkers: 4,
};
