/**
 * The system tier: a real unprivileged LXC with Docker inside, reached over real SSH with pinned host keys.
 * Run with `npx jest -c tests/system/jest.config.js` (or `npm run test:system`). Needs root, lxc, user namespaces
 * and Debian's mirrors; on a machine without them globalSetup fails with the reason: this tier is never skipped.
 */
const path = require("node:path");
const { findToolchain } = require("../engine/toolchain.js");

// The engine tier (tests/engine) shares this world; it runs whenever its toolchain is found, after the system files.
const toolchain = findToolchain();
if (!toolchain.ok) {
  process.stderr.write(
    `engine tier: did not run: no Pulumi language host and provider plugins (${toolchain.why})\n`,
  );
}

module.exports = {
  // The repo root, so ts-jest uses the project's tsconfig.json and the tests import components/ as the program does.
  rootDir: path.resolve(__dirname, "..", ".."),
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests/system", "<rootDir>/tests/engine", "<rootDir>/tests/chaos"],
  testMatch: [
    "<rootDir>/tests/system/**/*.system.test.ts",
    // With the engine tier: the chaos tier's reduced set, 3 interrupted trials (one SIGKILL per flow) on each path:
    // about 6 minutes on dockerHosts, about 10 on lxcs; `npm run test:chaos` runs the full set and the crowd.
    ...(toolchain.ok
      ? [
          "<rootDir>/tests/engine/**/*.engine.test.ts",
          "<rootDir>/tests/chaos/interrupted.chaos.test.ts",
          "<rootDir>/tests/chaos/interrupted-lxc.chaos.test.ts",
        ]
      : []),
  ],
  modulePathIgnorePatterns: ["<rootDir>/tests/system/.cache/"],
  globalSetup: "<rootDir>/tests/system/globalSetup.ts",
  globalTeardown: "<rootDir>/tests/system/globalTeardown.ts",
  // One CT shared by every file: files run one after another (runInBand), in file-name order (00-, 10-, ...).
  maxWorkers: 1,
  testSequencer: "<rootDir>/tests/system/sequencer.js",
  testTimeout: 10 * 60 * 1000,
  slowTestThreshold: 120,
  verbose: true,
};
