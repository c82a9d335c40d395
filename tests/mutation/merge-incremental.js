#!/usr/bin/env node
/**
 * Joins the incremental files of several Stryker runs (file groups of one folder) into one, so that a last run over
 * the whole folder reuses every group's results: `node tests/mutation/merge-incremental.js OUT IN...`. Each input is a
 * mutation-testing-report-schema report; a file's mutants come from the last input that has the file (the groups do
 * not overlap), the test files from every input.
 */
const fs = require("node:fs");
const path = require("node:path");

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) {
  console.error("usage: merge-incremental.js OUT IN...");
  process.exit(2);
}
let merged;
for (const input of inputs) {
  if (!fs.existsSync(input)) {
    console.error(`merge-incremental: ${input} is missing (that group has not run): skipped`);
    continue;
  }
  const report = JSON.parse(fs.readFileSync(input, "utf8"));
  if (!merged) merged = { ...report, files: {}, testFiles: {} };
  Object.assign(merged.files, report.files);
  Object.assign(merged.testFiles, report.testFiles ?? {});
}
if (!merged) process.exit(1);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(merged));
const mutants = Object.values(merged.files).reduce((n, f) => n + f.mutants.length, 0);
console.log(`merge-incremental: ${Object.keys(merged.files).length} files, ${mutants} mutants -> ${out}`);
