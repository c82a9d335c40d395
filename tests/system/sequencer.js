/**
 * Runs the system tier's files in file-name order (00-harness first, then host scripts, Docker, the stand-in):
 * they share one CT, and a later file may rely on what an earlier one proved. Each file still brings what it needs
 * (ensureDocker() etc. take the fast path when already done), so `-t`/single-file runs work too.
 * Self-contained on purpose: @jest/test-sequencer is only a transitive dependency of jest.
 */
class ByName {
  sort(tests) {
    return [...tests].sort((a, b) => a.path.localeCompare(b.path));
  }
  shard(tests) {
    return tests;
  }
  allFailedTests(tests) {
    return tests;
  }
  cacheResults() {}
}

module.exports = ByName;
