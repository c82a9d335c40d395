/**
 * Runs the system tier's files in file-name order (00-harness first, then host scripts, Docker, the stand-in):
 * they share one CT, and a later file may rely on what an earlier one proved. Each file still brings what it needs
 * (ensureDocker() etc. take the fast path when already done), so `-t`/single-file runs work too.
 * Self-contained on purpose: @jest/test-sequencer is only a transitive dependency of jest.
 */
class ByName {
  sort(tests) {
    // tests/engine (the engine tier) after every tests/system file: it deploys onto the CT they have proven; the
    // chaos trials last, after the engine tier has shown the plain flows work.
    const tier = (p) => (p.includes("/tests/chaos/") ? 2 : p.includes("/tests/engine/") ? 1 : 0);
    const key = (t) => `${tier(t.path)} ${t.path}`;
    return [...tests].sort((a, b) => key(a).localeCompare(key(b)));
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
