/**
 * Template tier: snapshot-agent-data.sh, restore-agent-data.sh and install-agent-snapshots.sh executed for real, as
 * root, on temp directories, the way components/lib/remoteScript.ts runs them (`bash -c '<script>' <name>`, the
 * parameters in the environment). Databases are real SQLite files (journal in WAL mode, a row left in the WAL by a
 * writer that keeps the database open); `docker`, `pct` and `systemctl` are fakes on PATH that record their calls.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderRemoteCommand, readTemplate } from "../../components/lib/remoteScript";
import { snapshotInstallEnv } from "../../components/gateway/snapshotScripts";

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let root: string;
let data: string;
let snaps: string;
let bin: string;

function run(script: string, env: Record<string, string | number>, pathPrefix = bin): RunResult {
  const command = renderRemoteCommand(script.replace(/\.sh$/, ""), readTemplate(script), env);
  const r = spawnSync("bash", ["-c", command], {
    encoding: "utf8",
    env: { PATH: `${pathPrefix}:/usr/sbin:/usr/bin:/sbin:/bin`, LANG: "C" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lastLine = (s: string) => s.trim().split("\n").pop() ?? "";
const sh = (cmd: string) => {
  const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout.trim();
};
const stat = (p: string) => sh(`stat -c '%u:%g %a' '${p}'`);

const snapEnv = (label = "manual", extra: Record<string, string | number> = {}) => ({
  AGENT: "gw",
  DATA_DIR: data,
  SNAPSHOT_ROOT: snaps,
  KEEP: 3,
  MAX_AGE_DAYS: 30,
  LABEL: label,
  ...extra,
});
const restoreEnv = (snapshot: string, extra: Record<string, string | number> = {}) => ({
  AGENT: "gw",
  DATA_DIR: data,
  SNAPSHOT_ROOT: snaps,
  SNAPSHOT: snapshot,
  CONTAINER_NAME: "hermes-gw",
  VMID: 118,
  ...extra,
});
function snapshot(label = "manual", extra: Record<string, string | number> = {}): string {
  const r = run("snapshot-agent-data.sh", snapEnv(label, extra));
  if (r.code !== 0) throw new Error(`snapshot failed: ${r.stderr}`);
  return lastLine(r.stdout);
}
/**
 * Path, owner, mode and content of every entry (the agent's view of its data), databases by their rows; not the
 * gateway's runtime state file, which a snapshot leaves out (the live gateway rewrites it; hermes never restores it).
 */
function tree(dir = data): string {
  return sh(
    `cd '${dir}' && find . ! -name gateway_state.json -printf '%p %U:%G %m %y\\n' | grep -v -- '-wal \\|-shm ' | sort && ` +
      `find . -type f ! -name '*.db*' ! -name '*.sqlite' ! -name gateway_state.json -exec sha256sum {} + | sort -k2 && ` +
      "sqlite3 state.db 'select * from m' && sqlite3 sessions.sqlite 'select * from s'",
  );
}

let writer: ChildProcess | undefined;
/** A writer that commits rows and keeps the database open: they stay in state.db-wal, not in state.db. */
async function liveWriter(rows: string[]): Promise<void> {
  writer = spawn("python3", [
    "-c",
    "import sqlite3, sys, time\n" +
      "c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=wal'); c.execute('PRAGMA wal_autocheckpoint=0')\n" +
      "c.execute('CREATE TABLE IF NOT EXISTS m (v TEXT)')\n" +
      "for v in sys.argv[2:]: c.execute('INSERT INTO m VALUES (?)', (v,))\n" +
      "c.commit(); print('ready', flush=True); time.sleep(120)",
    path.join(data, "state.db"),
    ...rows,
  ]);
  await new Promise<void>((resolve) => writer!.stdout!.once("data", () => resolve()));
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-snap-"));
  data = path.join(root, "srv", "gw");
  snaps = path.join(root, "snapshots");
  bin = path.join(root, "bin");
  fs.mkdirSync(path.join(data, "memories"), { recursive: true });
  fs.mkdirSync(path.join(data, "skills", "tea"), { recursive: true });
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(data, "memories", "MEMORY.md"), "the user likes tea\n");
  fs.writeFileSync(path.join(data, "skills", "tea", "SKILL.md"), "brew\n");
  fs.writeFileSync(path.join(data, ".env"), "TELEGRAM_BOT_TOKEN=123:abc\n", { mode: 0o600 });
  fs.writeFileSync(path.join(data, "gateway_state.json"), '{"gateway_state":"running"}');
  fs.writeFileSync(path.join(data, "notes.db"), "not a database, despite the name\n");
  sh(`sqlite3 '${data}/sessions.sqlite' "create table s(x); insert into s values('one')"`);
  sh(`chown -R 110000:110000 '${data}' && chmod 0750 '${data}'`);
  // docker and pct record their calls; `pct exec <vmid> -- docker ...` runs the fake docker.
  const log = path.join(root, "calls.log");
  fs.writeFileSync(path.join(bin, "docker"), `#!/bin/bash\necho "docker $*" >> ${log}\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, "pct"), `#!/bin/bash\necho "pct $1 $2" >> ${log}\nshift 3\nexec "$@"\n`, {
    mode: 0o755,
  });
});

afterEach(() => {
  writer?.kill("SIGKILL");
  writer = undefined;
  fs.rmSync(root, { recursive: true, force: true });
});

describe("snapshot-agent-data.sh", () => {
  it("copies a live database with the online backup API (rows still in the WAL included), verified, root only", async () => {
    await liveWriter(["first", "second"]);
    sh(`chown 110000:110000 '${data}'/state.db*`);
    expect(fs.statSync(path.join(data, "state.db-wal")).size).toBeGreaterThan(0);
    const out = snapshot();
    const file = out.replace(/^snapshot /, "");
    expect(path.basename(file)).toMatch(/^gw-\d{8}T\d{6}Z-manual\.tar\.zst$/);
    expect(stat(file)).toBe("0:0 600");
    expect(stat(path.dirname(file))).toBe("0:0 700");
    expect(stat(snaps)).toBe("0:0 700");
    const x = path.join(root, "x");
    fs.mkdirSync(x);
    sh(`tar -C '${x}' --numeric-owner -xf '${file}'`);
    expect(sh(`sqlite3 '${x}/state.db' 'select * from m'`)).toBe("first\nsecond");
    expect(sh(`sqlite3 '${x}/sessions.sqlite' 'select * from s'`)).toBe("one");
    expect(fs.existsSync(path.join(x, "state.db-wal"))).toBe(false);
    expect(fs.existsSync(path.join(x, "gateway_state.json"))).toBe(false); // runtime, never restored
    expect(fs.readFileSync(path.join(x, "notes.db"), "utf8")).toBe("not a database, despite the name\n");
    expect(stat(path.join(x, ".env"))).toBe("110000:110000 600");
    expect(stat(path.join(x, "state.db"))).toBe("110000:110000 644");
    expect(stat(x)).toBe("110000:110000 750");
    // Plain `cp` of the live file would have lost both rows: they are only in the WAL.
    fs.copyFileSync(path.join(data, "state.db"), path.join(root, "naive.db"));
    expect(sh(`sqlite3 '${root}/naive.db' "select count(*) from sqlite_master where name='m'"`)).toBe("0");
  });

  it("falls back to python3's sqlite3 where the sqlite3 shell is missing (a Docker host), and gzip without zstd", () => {
    // A PATH with bash, coreutils, tar, gzip, python3 but no sqlite3 and no zstd.
    const limited = path.join(root, "limited");
    fs.mkdirSync(limited);
    for (const tool of [
      "bash",
      "tar",
      "gzip",
      "python3",
      "find",
      "sort",
      "sha256sum",
      "cut",
      "head",
      "mktemp",
      "mkdir",
      "chmod",
      "chown",
      "touch",
      "mv",
      "rm",
      "date",
      "stat",
      "awk",
      "flock",
      "dirname",
      "wc",
      "cat",
      "sleep",
    ]) {
      const p = sh(`PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v ${tool}`);
      fs.symlinkSync(p, path.join(limited, tool));
    }
    const r = spawnSync(
      "bash",
      ["-c", renderRemoteCommand("snapshot-agent-data", readTemplate("snapshot-agent-data.sh"), snapEnv())],
      {
        encoding: "utf8",
        env: { PATH: limited, LANG: "C" },
      },
    );
    expect(r.stderr).toMatch(/1 databases \(sqlite via python\)/);
    expect(r.status).toBe(0);
    const file = lastLine(r.stdout).replace(/^snapshot /, "");
    expect(file).toMatch(/\.tar\.gz$/);
    const x = path.join(root, "x");
    fs.mkdirSync(x);
    sh(`tar -C '${x}' -xzf '${file}'`);
    expect(sh(`sqlite3 '${x}/sessions.sqlite' 'select * from s'`)).toBe("one");
  });

  it("a scheduled run with nothing changed writes nothing; a change, or a manual run, writes a new one", () => {
    const first = snapshot("scheduled");
    const unchanged = run("snapshot-agent-data.sh", snapEnv("scheduled"));
    expect(lastLine(unchanged.stdout)).toBe(first.replace(/^snapshot /, "unchanged "));
    // The gateway rewriting its runtime state (a temp file renamed into place) is not a change.
    fs.writeFileSync(path.join(data, ".gateway_state_x.tmp"), '{"gateway_state":"stopped"}');
    fs.renameSync(path.join(data, ".gateway_state_x.tmp"), path.join(data, "gateway_state.json"));
    // Nor a lock file that came and went in a subdirectory (its directory's mtime moved, nothing else).
    fs.writeFileSync(path.join(data, "memories", ".lock"), "");
    fs.rmSync(path.join(data, "memories", ".lock"));
    expect(lastLine(run("snapshot-agent-data.sh", snapEnv("scheduled")).stdout)).toMatch(/^unchanged /);
    fs.appendFileSync(path.join(data, "memories", "MEMORY.md"), "and biscuits\n");
    expect(lastLine(run("snapshot-agent-data.sh", snapEnv("scheduled")).stdout)).toMatch(
      /^snapshot .*-scheduled\.tar\.zst$/,
    );
    expect(fs.readdirSync(path.join(snaps, "gw")).filter((f) => f.endsWith(".tar.zst"))).toHaveLength(2);
  });

  it("retention: at most KEEP, none older than MAX_AGE_DAYS, and never the newest", () => {
    for (let i = 0; i < 4; i++) {
      fs.writeFileSync(path.join(data, "memories", `m${i}.md`), `${i}\n`);
      snapshot();
    }
    const list = () =>
      fs
        .readdirSync(path.join(snaps, "gw"))
        .filter((f) => f.endsWith(".tar.zst"))
        .sort();
    expect(list()).toHaveLength(3);
    // Everything 40 days old: all but the newest go.
    for (const f of fs.readdirSync(path.join(snaps, "gw"))) {
      sh(`touch -d '40 days ago' '${path.join(snaps, "gw", f)}'`);
    }
    const newest = list()[2];
    const r = run("snapshot-agent-data.sh", snapEnv("scheduled"));
    expect(lastLine(r.stdout)).toBe(`unchanged ${path.join(snaps, "gw", newest)}`);
    expect(list()).toEqual([newest]);
  });

  it("never changes the agent's data, and leaves no staging behind when it fails", () => {
    const listing = () => sh(`cd '${data}' && find . -printf '%p %U:%G %m %s %T@\\n' | sort`);
    const before = listing();
    snapshot();
    expect(listing()).toBe(before);
    // A corrupt database: the snapshot fails (it never ships a copy that does not pass integrity_check).
    fs.writeFileSync(
      path.join(data, "broken.db"),
      Buffer.concat([Buffer.from("SQLite format 3\0"), Buffer.alloc(600, 7)]),
    );
    const r = run("snapshot-agent-data.sh", snapEnv());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/broken\.db/);
    expect(fs.readdirSync(path.join(snaps, "gw")).filter((f) => f.startsWith(".staging"))).toEqual([]);
  });

  it.each([
    [{ DATA_DIR: "relative" }, /DATA_DIR must be an absolute path/],
    [{ SNAPSHOT_ROOT: "/" }, /SNAPSHOT_ROOT must be an absolute path/],
    [{ KEEP: "1; reboot" }, /KEEP must be 1\.\.1000/],
    [{ LABEL: "../x" }, /LABEL must be/],
    [{ AGENT: "GW" }, /AGENT must be a DNS label/],
  ])("refuses %j", (extra, message) => {
    const r = run("snapshot-agent-data.sh", { ...snapEnv(), ...extra });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it("refuses a snapshot directory inside the data", () => {
    const r = run("snapshot-agent-data.sh", snapEnv("manual", { SNAPSHOT_ROOT: path.join(data, "snaps") }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/must not contain one another/);
  });
});

describe("restore-agent-data.sh", () => {
  it("stops the gateway, restores content, owners and modes exactly, keeps the current data aside, starts it", () => {
    sh(
      `sqlite3 '${data}/state.db' "create table m(v); insert into m values('kept')" && chown 110000:110000 '${data}/state.db'`,
    );
    const want = tree();
    const file = snapshot().replace(/^snapshot /, "");
    // Damage: content, an owner, a deleted directory, a database overwritten.
    fs.writeFileSync(path.join(data, "memories", "MEMORY.md"), "forgot\n");
    fs.chownSync(path.join(data, "memories", "MEMORY.md"), 0, 0);
    fs.rmSync(path.join(data, "skills"), { recursive: true });
    fs.writeFileSync(path.join(data, "state.db"), "garbage");
    fs.writeFileSync(path.join(root, "calls.log"), "");
    fs.writeFileSync(path.join(bin, "docker"), `#!/bin/bash\necho "docker $*" >> ${root}/calls.log\n`, {
      mode: 0o755,
    });
    const r = run("restore-agent-data.sh", restoreEnv(path.basename(file)));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = /^restored (\S+) into (\S+); previous data kept at (\S+); started hermes-gw: yes$/.exec(
      lastLine(r.stdout),
    );
    expect(m).not.toBeNull();
    expect(tree()).toBe(want);
    expect(fs.readFileSync(path.join(m![3], "memories", "MEMORY.md"), "utf8")).toBe("forgot\n");
    // Through `pct exec <vmid> --`: inspect, stop, start, in that order (the swap happens while it is stopped).
    expect(fs.readFileSync(path.join(root, "calls.log"), "utf8").trim().split("\n")).toEqual([
      "pct exec 118",
      "docker container inspect hermes-gw",
      "pct exec 118",
      "docker stop -t 30 hermes-gw",
      "pct exec 118",
      "docker start hermes-gw",
    ]);
  });

  it("latest picks the newest; list prints them; a corrupt snapshot leaves the data and the gateway untouched", () => {
    snapshot();
    fs.writeFileSync(path.join(data, "memories", "MEMORY.md"), "second version\n");
    const second = snapshot().replace(/^snapshot /, "");
    const listed = run("restore-agent-data.sh", restoreEnv("list"));
    expect(listed.stdout.split("\n")[0]).toMatch(new RegExp(`^${path.basename(second)}\\t\\d+ bytes$`));
    fs.writeFileSync(path.join(data, "memories", "MEMORY.md"), "third\n");
    expect(run("restore-agent-data.sh", restoreEnv("latest", { VMID: "" })).code).toBe(0);
    expect(fs.readFileSync(path.join(data, "memories", "MEMORY.md"), "utf8")).toBe("second version\n");

    fs.writeFileSync(second, "not an archive");
    fs.writeFileSync(path.join(root, "calls.log"), "");
    const r = run("restore-agent-data.sh", restoreEnv("latest", { VMID: "" }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot be read/);
    expect(fs.readFileSync(path.join(data, "memories", "MEMORY.md"), "utf8")).toBe("second version\n");
    expect(fs.readFileSync(path.join(root, "calls.log"), "utf8")).toBe("");
  });

  it.each([
    ["../../etc/passwd", /SNAPSHOT must be 'latest', 'list' or a file name/],
    ["gw-20260101T000000Z-manual.tar.zst", /no snapshot gw-20260101T000000Z-manual\.tar\.zst/],
  ])("refuses SNAPSHOT=%s", (name, message) => {
    const r = run("restore-agent-data.sh", restoreEnv(name));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});

describe("install-agent-snapshots.sh", () => {
  const installEnv = (schedule = "daily", vmId: number | null = 118) => {
    const paths = {
      binDir: path.join(root, "sbin"),
      libDir: path.join(root, "lib"),
      confDir: path.join(root, "conf"),
      unitDir: path.join(root, "units"),
      systemctl: path.join(bin, "systemctl"),
    };
    fs.writeFileSync(
      paths.systemctl,
      `#!/bin/bash\necho "systemctl $*" >> ${root}/calls.log\ncase $1 in is-enabled|is-active) [[ -f ${root}/enabled ]];; enable) touch ${root}/enabled;; esac\n`,
      { mode: 0o755 },
    );
    return snapshotInstallEnv(
      {
        id: "ct-gw",
        agent: "gw",
        dataPath: data,
        directory: snaps,
        containerName: "hermes-gw",
        vmId: vmId ?? undefined,
        settings: { schedule, keep: 3, maxAgeDays: 30 },
      },
      paths,
    );
  };
  const calls = () =>
    fs.existsSync(`${root}/calls.log`) ? fs.readFileSync(`${root}/calls.log`, "utf8") : "";

  it("installs the commands and a timer systemd accepts; the installed commands snapshot and restore", () => {
    const r = run("install-agent-snapshots.sh", installEnv());
    expect(r.code).toBe(0);
    expect(lastLine(r.stdout)).toBe(`snapshots ct-gw: schedule=daily keep=3 max-age=30d dir=${snaps}/gw`);
    sh(
      `systemd-analyze verify '${root}/units/hermes-lxc-snapshot-ct-gw.service' '${root}/units/hermes-lxc-snapshot-ct-gw.timer'`,
    );
    expect(fs.readFileSync(`${root}/units/hermes-lxc-snapshot-ct-gw.service`, "utf8")).toContain(
      `ExecStart=${root}/sbin/hermes-lxc-snapshot ct-gw scheduled`,
    );
    expect(calls()).toContain("systemctl enable hermes-lxc-snapshot-ct-gw.timer");
    // Only the node that holds CT 118 (its conf under this node's /etc/pve/lxc) takes the scheduled snapshot.
    expect(fs.readFileSync(`${root}/units/hermes-lxc-snapshot-ct-gw.service`, "utf8")).toContain(
      `ConditionPathIsDirectory=${data}\nConditionPathExists=/etc/pve/lxc/118.conf\n\n[Service]`,
    );
    expect(stat(`${root}/conf/ct-gw.conf`)).toBe("0:0 600");
    // The installed commands, as an operator types them.
    const snap = sh(`PATH='${bin}':$PATH '${root}/sbin/hermes-lxc-snapshot' ct-gw`);
    expect(lastLine(snap)).toMatch(/^snapshot .*-manual\.tar\.zst$/);
    expect(sh(`PATH='${bin}':$PATH '${root}/sbin/hermes-lxc-restore' ct-gw latest`)).toMatch(/^restored /);
    const usage = spawnSync(`${root}/sbin/hermes-lxc-restore`, ["nope"], { encoding: "utf8" });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("(ids: ct-gw )");
  });

  it("on a Docker host (no VMID) the timer has no node condition", () => {
    expect(run("install-agent-snapshots.sh", installEnv("daily", null)).code).toBe(0);
    const unit = fs.readFileSync(`${root}/units/hermes-lxc-snapshot-ct-gw.service`, "utf8");
    expect(unit).toContain(`ConditionPathIsDirectory=${data}\n\n[Service]`);
    expect(unit).not.toContain("/etc/pve");
    run("install-agent-snapshots.sh", installEnv("off"));
  });

  it("a re-run changes nothing and reloads nothing (its time: npm run bench:snapshots); schedule off removes the timer and keeps snapshots", () => {
    run("install-agent-snapshots.sh", installEnv());
    snapshot();
    fs.writeFileSync(`${root}/calls.log`, "");
    const again = run("install-agent-snapshots.sh", installEnv());
    expect(again.stdout.trim().split("\n")).toEqual([
      `snapshots ct-gw: schedule=daily keep=3 max-age=30d dir=${snaps}/gw`,
    ]);
    expect(calls()).not.toMatch(/daemon-reload|restart|systemctl enable/);
    const off = run("install-agent-snapshots.sh", installEnv("off"));
    expect(off.stdout).toContain("(removed: schedule off)");
    expect(calls()).toContain("systemctl disable --now hermes-lxc-snapshot-ct-gw.timer");
    expect(fs.existsSync(`${root}/units/hermes-lxc-snapshot-ct-gw.timer`)).toBe(false);
    expect(fs.readdirSync(path.join(snaps, "gw")).filter((f) => f.endsWith(".tar.zst"))).toHaveLength(1);
  });

  it("refuses a schedule outside the accepted subset (it goes into a unit file)", () => {
    const r = run("install-agent-snapshots.sh", { ...installEnv(), SCHEDULE: "daily\nExecStartPre=/bin/sh" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SCHEDULE is not an accepted OnCalendar value/);
  });
});
