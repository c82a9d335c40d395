/**
 * The CLI tier (npm run test:cli): the real Pulumi CLI, built from the Go module proxy on first use
 * (tests/cli/ensure-pulumi-cli.sh, cached), running the README's setup commands and a preview of each stack.
 */
const path = require("node:path");

module.exports = {
  rootDir: path.resolve(__dirname, "..", ".."),
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests/cli"],
  testMatch: ["<rootDir>/tests/cli/**/*.test.ts"],
  testTimeout: 10 * 60 * 1000,
  verbose: true,
};
