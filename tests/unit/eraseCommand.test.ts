/**
 * The stack output `agents.<agent>.snapshots.eraseAfterDestroy`: the one command that removes an agent's data and
 * snapshots for good. Run here for real on temporary directories, the way a pasted `ssh host '<script>'` runs it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  DEFAULT_SNAPSHOT_PATHS,
  eraseCommand,
  SnapshotPlacement,
} from "../../components/gateway/snapshotScripts";

function world() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "erase-"));
  const mk = (p: string, file = "f") => {
    fs.mkdirSync(path.join(root, p), { recursive: true });
    fs.writeFileSync(path.join(root, p, file), "x");
  };
  mk("state/hermes", ".env");
  mk("state/hermes.before-restore-20260101T000000Z", ".env");
  mk("state/other", ".env"); // another agent on the same LXC
  mk("snap/hermes", "hermes-20260101T000000Z-daily.tar.zst");
  mk("snap/other", "other-20260101T000000Z-daily.tar.zst");
  mk("conf");
  fs.writeFileSync(path.join(root, "conf", "hermes-hermes.conf"), "deployed");
  const placement: SnapshotPlacement = {
    id: "hermes-hermes",
    agent: "hermes",
    dataPath: path.join(root, "state/hermes"),
    directory: path.join(root, "snap"),
    containerName: "hermes-hermes",
    settings: { schedule: "daily", keep: 7, maxAgeDays: 30 },
  };
  const cmd = eraseCommand(placement, { ...DEFAULT_SNAPSHOT_PATHS, confDir: path.join(root, "conf") });
  // `ssh host <one quoted word>`: the remote login shell runs the word's content.
  const run = () => spawnSync("bash", ["-c", `bash -c ${cmd}`], { encoding: "utf8" });
  const left = () =>
    ["state", "snap"].flatMap((d) => fs.readdirSync(path.join(root, d)).map((n) => `${d}/${n}`)).sort();
  return { root, run, left };
}

describe("eraseCommand", () => {
  it("refuses while the agent is still deployed, and removes nothing", () => {
    const w = world();
    const r = w.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("still deployed");
    expect(w.left()).toEqual([
      "snap/hermes",
      "snap/other",
      "state/hermes",
      "state/hermes.before-restore-20260101T000000Z",
      "state/other",
    ]);
    fs.rmSync(w.root, { recursive: true });
  });

  it("after destroy, removes the agent's data, its set-aside copies and its snapshots, and nothing else", () => {
    const w = world();
    fs.rmSync(path.join(w.root, "conf", "hermes-hermes.conf")); // what destroy's uninstall step removes
    const r = w.run();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(w.left()).toEqual(["snap/other", "state/other"]);
    // Idempotent: a second paste finds nothing and still succeeds.
    expect(w.run().status).toBe(0);
    fs.rmSync(w.root, { recursive: true });
  });
});
