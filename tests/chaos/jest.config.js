/**
 * The chaos tier (npm run test:chaos, through tests/chaos/run.sh): interrupted and crowded deploys under the real
 * engine on the system tier's world (its globalSetup brings the CT up, its globalTeardown takes it down). Not part
 * of `npm test`: the full run takes about an hour (see tests/chaos/README.md).
 */
const path = require("node:path");

module.exports = {
  rootDir: path.resolve(__dirname, "..", ".."),
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests/chaos"],
  testMatch: ["<rootDir>/tests/chaos/**/*.chaos.test.ts"],
  globalSetup: "<rootDir>/tests/system/globalSetup.ts",
  globalTeardown: "<rootDir>/tests/system/globalTeardown.ts",
  // One CT, one Docker host: the files run one after another, in file-name order.
  maxWorkers: 1,
  testSequencer: "<rootDir>/tests/system/sequencer.js",
  testTimeout: 60 * 60 * 1000,
  slowTestThreshold: 600,
  verbose: true,
};
