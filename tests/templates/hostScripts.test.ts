/**
 * Template tier: the three PVE-node scripts (templates/prepare-host-dirs.sh, apply-raw-lxc-config.sh,
 * wait-for-container.sh) executed for real, as root, against fresh temp directories. They are run the way
 * components/lib/remoteScript.ts runs them on the node: `bash -c '<script text>' <script-name>` with parameters in
 * the environment. `pct` is replaced by a fake on PATH that records its arguments (this tier only; the system tier
 * has its own shim). These tests need root (chown, mount --bind).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const TEMPLATES = path.join(__dirname, "..", "..", "templates");
const SCRIPTS = ["prepare-host-dirs.sh", "apply-raw-lxc-config.sh", "wait-for-container.sh"] as const;
type ScriptName = (typeof SCRIPTS)[number];

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a template as the remote command does. Async on purpose: the wait-for-container tests serve a TCP banner
 * from this process, which a blocking spawnSync would starve.
 */
function runScript(
  name: ScriptName,
  env: Record<string, string>,
  opts: { umask?: string; pathPrefix?: string } = {},
): Promise<RunResult> {
  const text = fs.readFileSync(path.join(TEMPLATES, name), "utf8");
  const basePath = process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin";
  const fullEnv: Record<string, string> = {
    PATH: opts.pathPrefix ? `${opts.pathPrefix}:${basePath}` : basePath,
    LANG: "C",
    ...env,
  };
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    // The outer bash only sets the caller's umask, so tests can show the script does not depend on it.
    const child = spawn(
      "bash",
      ["-c", 'umask "$1"; exec bash -c "$2" "$3"', "_", opts.umask ?? "022", text, name],
      // stdin is not a socket: bash would take a socket for an sshd session and source ~/.bashrc.
      { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - start) / 1e6 }),
    );
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let root: string;
const mounts: string[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-host-scripts-"));
});

afterEach(() => {
  while (mounts.length > 0) {
    spawnSync("umount", [mounts.pop()!]);
  }
  fs.rmSync(root, { recursive: true, force: true });
});

function mkdirOwned(p: string, uid: number, gid: number, mode: number): void {
  fs.mkdirSync(p, { recursive: true });
  fs.chownSync(p, uid, gid);
  fs.chmodSync(p, mode);
}

function statOf(p: string) {
  const s = fs.lstatSync(p, { bigint: true });
  return { uid: Number(s.uid), gid: Number(s.gid), mode: Number(s.mode) & 0o7777, ctimeNs: s.ctimeNs };
}

// ---------------------------------------------------------------------------------------------------------------
describe("prepare-host-dirs.sh", () => {
  beforeAll(() => {
    if (process.getuid?.() !== 0)
      throw new Error("these tests chown to uid 110000 and mount a tmpfs: run them as root");
  });
  const owner = { OWNER_UID: "110000", OWNER_GID: "110000", DIR_MODE: "0750" };
  const prepare = (owned: string[], parents: string[] = [], umask?: string) =>
    runScript(
      "prepare-host-dirs.sh",
      { ...owner, OWNED_DIRS: owned.join(" "), ENSURE_PARENTS: parents.join(" ") },
      umask ? { umask } : {},
    );

  test("creates the owned dirs as 110000:110000 mode 0750 under existing parents", async () => {
    fs.mkdirSync(path.join(root, "hdd"));
    fs.mkdirSync(path.join(root, "2tb"));
    const dirs = [path.join(root, "hdd", "hermes"), path.join(root, "2tb", "hermes")];

    const r = await prepare(dirs, [], "077");

    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(dirs.map((d) => `created ${d}\n`).join(""));
    for (const d of dirs) {
      expect(statOf(d)).toMatchObject({ uid: 110000, gid: 110000, mode: 0o750 });
    }
  });

  test("refuses a bulk-disk dir that would land on the root filesystem (disk not mounted)", async () => {
    // /tmp is on the root filesystem here, like an empty /mnt/pve/hdd whose disk failed to mount.
    fs.mkdirSync(path.join(root, "hdd"));
    const d = path.join(root, "hdd", "hermes");
    const r = await runScript("prepare-host-dirs.sh", { ...owner, OWNED_DIRS: d, SEPARATE_DISK_DIRS: d });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `${d} would be on the root filesystem, not on a separate disk: is the disk mounted at ${root}/hdd?`,
    );
    expect(fs.existsSync(d)).toBe(false);
  });

  test("accepts a bulk-disk dir on a mounted filesystem", async () => {
    const disk = path.join(root, "hdd");
    fs.mkdirSync(disk);
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk]).status).toBe(0);
    mounts.push(disk);
    const d = path.join(disk, "hermes");
    const r = await runScript("prepare-host-dirs.sh", { ...owner, OWNED_DIRS: d, SEPARATE_DISK_DIRS: d });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`created ${d}\n`);
    expect(statOf(d)).toMatchObject({ uid: 110000, gid: 110000, mode: 0o750 });
  });

  test("a second run prints ok, changes nothing and is fast", async () => {
    fs.mkdirSync(path.join(root, "hdd"));
    const d = path.join(root, "hdd", "hermes");
    expect((await prepare([d])).stdout).toBe(`created ${d}\n`);
    const before = statOf(d);
    await sleep(30); // so that any chown/chmod on the second run would land on a different ctime

    const r = await prepare([d]);

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`ok ${d}\n`);
    expect(statOf(d)).toEqual(before);
    expect(r.ms).toBeLessThan(1000);
  });

  test("fixes a dir with the wrong owner and mode (including a stray setgid bit), then converges", async () => {
    const wrongOwner = path.join(root, "a");
    const setgid = path.join(root, "b");
    mkdirOwned(wrongOwner, 0, 0, 0o755);
    mkdirOwned(setgid, 110000, 110000, 0o2750);

    const r = await prepare([wrongOwner, setgid]);

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`fixed ${wrongOwner}\nfixed ${setgid}\n`);
    expect(statOf(wrongOwner)).toMatchObject({ uid: 110000, gid: 110000, mode: 0o750 });
    expect(statOf(setgid)).toMatchObject({ uid: 110000, gid: 110000, mode: 0o750 });
    expect((await prepare([wrongOwner, setgid])).stdout).toBe(`ok ${wrongOwner}\nok ${setgid}\n`);
  });

  test("never walks the tree: ~2000 files inside an owned dir keep their owner and ctime", async () => {
    const d = path.join(root, "hdd", "hermes");
    mkdirOwned(d, 0, 0, 0o755); // wrong owner on purpose, so the dir itself does get chowned
    const files: string[] = [];
    for (let i = 0; i < 40; i++) {
      const sub = path.join(d, `project-${i}`);
      fs.mkdirSync(sub);
      fs.chownSync(sub, 4242, 4242);
      files.push(sub);
      for (let j = 0; j < 50; j++) {
        const f = path.join(sub, `file-${j}.txt`);
        fs.writeFileSync(f, "data");
        fs.chownSync(f, 4242, 4242);
        files.push(f);
      }
    }
    const before = new Map(files.map((f) => [f, statOf(f)]));
    await sleep(30);

    const r = await prepare([d]);

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`fixed ${d}\n`);
    expect(statOf(d)).toMatchObject({ uid: 110000, gid: 110000, mode: 0o750 });
    expect(files.length).toBe(2040);
    // chown updates ctime even when the owner stays the same, so an unchanged ctime proves nothing touched them.
    const touched = files.filter((f) => {
      const a = before.get(f)!;
      const b = statOf(f);
      return b.uid !== 4242 || b.gid !== 4242 || b.mode !== a.mode || b.ctimeNs !== a.ctimeNs;
    });
    expect(touched).toEqual([]);
  });

  test("refuses an owned dir whose parent is missing, and creates nothing", async () => {
    const parent = path.join(root, "mnt", "pve", "hdd");
    const d = path.join(parent, "hermes");

    const r = await prepare([d]);

    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      `prepare-host-dirs.sh: parent ${parent} of ${d} does not exist: is the disk mounted?`,
    );
    expect(fs.existsSync(path.join(root, "mnt"))).toBe(false);
  });

  test("checks every dir before changing any: one refusal leaves the others untouched", async () => {
    const good = path.join(root, "good");
    const bad = path.join(root, "missing", "bad");

    const r = await prepare([good, bad]);

    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("does not exist: is the disk mounted?");
    expect(fs.existsSync(good)).toBe(false);
  });

  test("refuses a symlink and leaves its target alone", async () => {
    const target = path.join(root, "target");
    mkdirOwned(target, 0, 0, 0o755);
    const link = path.join(root, "link");
    fs.symlinkSync(target, link);

    const r = await prepare([link]);

    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`prepare-host-dirs.sh: ${link} is a symlink`);
    expect(statOf(target)).toMatchObject({ uid: 0, gid: 0, mode: 0o755 });
  });

  test("refuses a regular file", async () => {
    const f = path.join(root, "file");
    fs.writeFileSync(f, "x");

    const r = await prepare([f]);

    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`prepare-host-dirs.sh: ${f} exists but is not a directory`);
    expect(statOf(f).uid).toBe(0);
  });

  test("refuses a mount point and tells the user to bind a subdirectory", async () => {
    const m = path.join(root, "disk");
    mkdirOwned(m, 0, 0, 0o755);
    const mount = spawnSync("mount", ["--bind", m, m], { encoding: "utf8" });
    expect(mount.stderr).toBe("");
    expect(mount.status).toBe(0);
    mounts.push(m);

    const r = await prepare([m]);

    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`prepare-host-dirs.sh: ${m} is a mount point`);
    expect(r.stderr).toContain("bind a subdirectory of it instead");
    expect(statOf(m)).toMatchObject({ uid: 0, gid: 0, mode: 0o755 });
  });

  test.each([
    ["a relative path", "relative/hermes", "'P' is not an absolute path"],
    ["/", "/", "refusing '/'"],
    ["a '..' segment", "/ROOT/a/../hermes", "'P' contains a '..' segment"],
    ["a '.' segment", "/ROOT/.", "'P' contains a '.' segment"],
    ["a trailing slash", "/ROOT/hermes/", "'P' ends with '/'"],
    ["a shell metacharacter", "/ROOT/her$mes", "'P' contains characters outside [A-Za-z0-9._@+/-]"],
  ])("refuses %s", async (_what, raw, message) => {
    const p = raw.replace("/ROOT", root);
    const rootBefore = statOf("/");

    const r = await prepare([p]);

    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`prepare-host-dirs.sh: OWNED_DIRS: ${message.replace("P", p)}\n`);
    expect(statOf("/")).toEqual(rootBefore);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test.each([
    [{ OWNER_UID: "" }, "OWNER_UID is required"],
    [{ OWNER_GID: "-1" }, "OWNER_GID must be a decimal integer"],
    [{ DIR_MODE: "0758" }, "DIR_MODE must be 3 or 4 octal digits"],
    [{ DIR_MODE: "75" }, "DIR_MODE must be 3 or 4 octal digits"],
    [{ OWNED_DIRS: "" }, "OWNED_DIRS is required"],
  ])("rejects invalid parameters %o", async (override, message) => {
    const r = await runScript("prepare-host-dirs.sh", {
      ...owner,
      OWNED_DIRS: path.join(root, "hermes"),
      ENSURE_PARENTS: "",
      ...override,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`prepare-host-dirs.sh: ${message}`);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test("ENSURE_PARENTS creates missing parents root-owned 0755 and leaves existing ones alone", async () => {
    const missing = path.join(root, "media", "2tb");
    const existing = path.join(root, "mnt", "hdd");
    mkdirOwned(existing, 1234, 1234, 0o700);
    // A parent with no owned dir below it: its ctime must not move either (a new child would move it).
    const bystander = path.join(root, "mnt", "other");
    mkdirOwned(bystander, 4321, 4321, 0o711);
    const bystanderBefore = statOf(bystander);
    await sleep(30);
    const dirs = [path.join(missing, "hermes"), path.join(existing, "hermes")];

    const r = await prepare(dirs, [missing, existing, bystander], "077");

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(dirs.map((d) => `created ${d}\n`).join(""));
    expect(r.stderr).toBe(`prepare-host-dirs.sh: created parent ${missing}\n`);
    expect(statOf(path.join(root, "media"))).toMatchObject({ uid: 0, gid: 0, mode: 0o755 });
    expect(statOf(missing)).toMatchObject({ uid: 0, gid: 0, mode: 0o755 });
    expect(statOf(existing)).toMatchObject({ uid: 1234, gid: 1234, mode: 0o700 });
    expect(statOf(bystander)).toEqual(bystanderBefore);
    for (const d of dirs) expect(statOf(d)).toMatchObject({ uid: 110000, gid: 110000, mode: 0o750 });
  });
});

// ---------------------------------------------------------------------------------------------------------------
/**
 * Fake `pct` (template tier only). Records each call to $FAKE_PCT_DIR/calls.log and answers:
 * - `status <vmid>`: "status: stopped" for the first $FAKE_STOPPED_CALLS calls, then "status: running";
 *   exits 1 without output while $FAKE_PCT_DIR/fail-status exists;
 * - `exec <vmid> -- ip ...`: $FAKE_IP_LINE (exit 1 when unset); `exec <vmid> -- cat ...`: $FAKE_HOST_KEY;
 * - `reboot <vmid>`: nothing. Anything else is an error, so the scripts cannot drift from the pct contract.
 */
const FAKE_PCT = `#!/usr/bin/env bash
set -euo pipefail
d=\${FAKE_PCT_DIR:?}
printf '%s\\n' "$*" >>"$d/calls.log"
case "\${1-}" in
status)
  [[ ! -e $d/fail-status ]] || exit 1
  n=$(( $(cat "$d/status-count" 2>/dev/null || echo 0) + 1 ))
  echo "$n" >"$d/status-count"
  if (( n > \${FAKE_STOPPED_CALLS:-0} )); then echo "status: running"; else echo "status: stopped"; fi
  ;;
reboot) ;;
exec)
  [[ \${3-} == -- ]] || { echo "fake pct: exec needs --" >&2; exit 2; }
  case "\${4-}" in
  ip) [[ -n \${FAKE_IP_LINE-} ]] || exit 1; printf '%s\\n' "$FAKE_IP_LINE" ;;
  cat) [[ -n \${FAKE_HOST_KEY-} ]] || { echo "cat: $5: No such file or directory" >&2; exit 1; }
       printf '%s\\n' "$FAKE_HOST_KEY" ;;
  *) echo "fake pct: unexpected exec $*" >&2; exit 2 ;;
  esac
  ;;
*) echo "fake pct: unsupported call $*" >&2; exit 2 ;;
esac
`;

function makeFakePct(): { bin: string; dir: string; calls: () => string[] } {
  const dir = path.join(root, "fake-pct");
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, "pct"), FAKE_PCT, { mode: 0o755 });
  const log = path.join(dir, "calls.log");
  return {
    bin,
    dir,
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : []),
  };
}

/** Only the three pct calls of docs/CONTRACTS.md may appear. */
function expectContractCalls(calls: string[]): void {
  for (const c of calls) expect(c).toMatch(/^(status \d+|reboot \d+|exec \d+ -- \S.*)$/);
}

describe("apply-raw-lxc-config.sh", () => {
  const MAIN = [
    "#hermes gateway",
    "#managed by Pulumi: lxc.apparmor.profile: in a comment stays",
    "arch: amd64",
    "cores: 2",
    "features: keyctl=1,nesting=1",
    "hostname: hermes",
    "mp0: /mnt/pve/hdd/hermes,mp=/data",
    "unprivileged: 1",
    "lxc.cgroup2.devices.allow: c 10:200 rwm",
  ];
  const SNAPSHOTS = [
    "",
    "[before-upgrade]",
    "arch: amd64",
    "hostname: hermes",
    "lxc.apparmor.profile: generated",
    "snaptime: 1750000000",
    "",
    "[pve:pending]",
    "lxc.apparmor.profile: unconfined",
    "",
  ].join("\n");
  const UNCONFINED = "lxc.apparmor.profile: unconfined";

  let fake: ReturnType<typeof makeFakePct>;
  let confDir: string;
  let stateDir: string;
  let conf: string;

  beforeEach(() => {
    fake = makeFakePct();
    confDir = path.join(root, "etc-pve-lxc");
    stateDir = path.join(root, "state");
    fs.mkdirSync(confDir);
    conf = path.join(confDir, "118.conf");
  });

  const writeConf = (main: string[]) => fs.writeFileSync(conf, main.join("\n") + "\n" + SNAPSHOTS);
  const mainOf = (text: string) => text.slice(0, text.indexOf("\n[before-upgrade]\n"));
  const snapshotsOf = (text: string) => text.slice(text.indexOf("\n[before-upgrade]\n"));
  const apply = (rawLines: string, extra: Record<string, string> = {}) =>
    runScript(
      "apply-raw-lxc-config.sh",
      {
        VMID: "118",
        RAW_LINES: rawLines,
        CONF_DIR: confDir,
        STATE_DIR: stateDir,
        FAKE_PCT_DIR: fake.dir,
        ...extra,
      },
      { pathPrefix: fake.bin },
    );

  test("adds the line once to the main section and reboots the running container once", async () => {
    writeConf(MAIN);

    const r = await apply(UNCONFINED);

    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("applied\nrebooted 118\n");
    const text = fs.readFileSync(conf, "utf8");
    // Appended after the existing main lines, before the blank line that separates the first snapshot.
    expect(mainOf(text)).toBe([...MAIN, UNCONFINED, ""].join("\n"));
    expect(snapshotsOf(text)).toBe(SNAPSHOTS);
    expect(text.split("\n").filter((l) => l === UNCONFINED)).toHaveLength(2); // ours + the pending section's
    expect(fake.calls()).toEqual(["status 118", "reboot 118"]);
    expect(fs.readFileSync(path.join(stateDir, "118.keys"), "utf8")).toBe("lxc.apparmor.profile\n");
  });

  test("a second run prints unchanged, does not rewrite the file and does not reboot", async () => {
    writeConf(MAIN);
    expect((await apply(UNCONFINED)).stdout).toBe("applied\nrebooted 118\n");
    const before = fs.statSync(conf, { bigint: true });
    const bytes = fs.readFileSync(conf);
    await sleep(30);

    const r = await apply(UNCONFINED);

    expect(r.code).toBe(0);
    expect(r.stdout).toBe("unchanged\n");
    expect(fs.readFileSync(conf).equals(bytes)).toBe(true);
    expect(fs.statSync(conf, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    expect(fake.calls()).toEqual(["status 118", "reboot 118"]); // nothing new
    expect(r.ms).toBeLessThan(1000);
  });

  test("keeps the description, other lxc lines and every snapshot section byte for byte", async () => {
    writeConf(MAIN);

    await apply(`${UNCONFINED}\nlxc.mount.entry: /dev/net dev/net none bind,create=dir`);

    const text = fs.readFileSync(conf, "utf8");
    expect(text.startsWith(MAIN.slice(0, 2).join("\n") + "\n")).toBe(true);
    expect(mainOf(text)).toContain("lxc.cgroup2.devices.allow: c 10:200 rwm\n");
    expect(snapshotsOf(text)).toBe(SNAPSHOTS);
    expect(fs.readFileSync(path.join(stateDir, "118.keys"), "utf8")).toBe(
      "lxc.apparmor.profile\nlxc.mount.entry\n",
    );
  });

  test("turning it off (empty RAW_LINES) removes the line again and reboots once", async () => {
    writeConf(MAIN);
    await apply(UNCONFINED);
    fs.rmSync(path.join(fake.dir, "calls.log"));

    const r = await apply("");

    expect(r.code).toBe(0);
    expect(r.stdout).toBe("applied\nrebooted 118\n");
    const text = fs.readFileSync(conf, "utf8");
    expect(text).toBe(MAIN.join("\n") + "\n" + SNAPSHOTS); // back to the original bytes
    expect(fake.calls()).toEqual(["status 118", "reboot 118"]);
    expect(fs.existsSync(path.join(stateDir, "118.keys"))).toBe(false);

    const again = await apply("");
    expect(again.stdout).toBe("unchanged\n");
    expect(fake.calls()).toEqual(["status 118", "reboot 118"]);
  });

  test("replaces an existing conflicting line of the same key (in any PVE syntax)", async () => {
    writeConf([
      ...MAIN.slice(0, 4),
      "lxc.apparmor.profile: generated",
      ...MAIN.slice(4),
      "lxc.apparmor.profile = lxc-container-default",
    ]);

    const r = await apply(UNCONFINED);

    expect(r.stdout).toBe("applied\nrebooted 118\n");
    const text = fs.readFileSync(conf, "utf8");
    expect(mainOf(text)).toBe([...MAIN, UNCONFINED, ""].join("\n"));
    expect(snapshotsOf(text)).toContain("lxc.apparmor.profile: generated"); // the snapshot's copy stays
  });

  test("does not reboot a stopped container", async () => {
    writeConf(MAIN);

    const r = await apply(UNCONFINED, { FAKE_STOPPED_CALLS: "1" });

    expect(r.code).toBe(0);
    expect(r.stdout).toBe("applied\n");
    expect(r.stderr).toContain("container 118 is not running");
    expect(fake.calls()).toEqual(["status 118"]);
  });

  test("a run that dies after writing the conf is completed by the next run (reboot not lost)", async () => {
    writeConf(MAIN);
    fs.writeFileSync(path.join(fake.dir, "fail-status"), "");

    const broken = await apply(UNCONFINED);
    expect(broken.code).not.toBe(0);
    expect(mainOf(fs.readFileSync(conf, "utf8"))).toContain(UNCONFINED);

    fs.rmSync(path.join(fake.dir, "fail-status"));
    const r = await apply(UNCONFINED);

    expect(r.code).toBe(0);
    expect(r.stdout).toBe("unchanged\nrebooted 118\n");
    expect(fake.calls()).toEqual(["status 118", "status 118", "reboot 118"]);
    expect((await apply(UNCONFINED)).stdout).toBe("unchanged\n");
    expect(fake.calls()).toHaveLength(3);
  });

  test.each([
    ["no colon", "lxc.apparmor.profile unconfined"],
    ["not an lxc key", "apparmor.profile: unconfined"],
    ["upper-case key", "lxc.AppArmor.profile: unconfined"],
    ["empty value", "lxc.apparmor.profile: "],
    ["no space after the colon", "lxc.apparmor.profile:unconfined"],
    ["a carriage return", "lxc.apparmor.profile: unconfined\r"],
    ["a bad second line", `${UNCONFINED}\nrootfs: local-lvm:vm-118-disk-0`],
  ])("rejects an invalid line (%s) and changes nothing", async (_what, rawLines) => {
    writeConf(MAIN);
    const bytes = fs.readFileSync(conf);

    const r = await apply(rawLines);

    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("apply-raw-lxc-config.sh: invalid RAW_LINES line");
    expect(fs.readFileSync(conf).equals(bytes)).toBe(true);
    expect(fake.calls()).toEqual([]);
  });

  test.each([
    [{ VMID: "" }, "VMID is required"],
    [{ VMID: "99" }, "VMID must be an integer between 100 and 999999999"],
    [{ VMID: "118; reboot" }, "VMID must be an integer between 100 and 999999999"],
    [{ VMID: "119" }, "<CONF_DIR>/119.conf does not exist: is container 119 on this node?"],
    [{ CONF_DIR: "etc/pve/lxc" }, "CONF_DIR: 'etc/pve/lxc' is not an absolute path"],
    [{ STATE_DIR: "/var/lib/../tmp" }, "STATE_DIR: '/var/lib/../tmp' contains a '..' segment"],
  ])("rejects invalid parameters %o", async (override, message) => {
    writeConf(MAIN);
    const r = await apply(UNCONFINED, override);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`apply-raw-lxc-config.sh: ${message.replace("<CONF_DIR>", confDir)}`);
    expect(fake.calls()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe("wait-for-container.sh", () => {
  const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGCebiq0iqIKQHHREFymO6xgGx5zZMNc5QApu6ZZ1VGu";
  const IP_LINE =
    "2: eth0    inet 127.0.0.1/8 brd 127.255.255.255 scope global dynamic eth0\\       valid_lft 7000sec preferred_lft 7000sec";

  let fake: ReturnType<typeof makeFakePct>;
  const servers: net.Server[] = [];

  beforeEach(() => {
    fake = makeFakePct();
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  /** A TCP listener on 127.0.0.1 that sends `banner` (or nothing) on each connection. */
  async function listen(banner: string | null): Promise<number> {
    const server = net.createServer((socket) => {
      socket.on("error", () => undefined);
      if (banner !== null) socket.end(banner);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return (server.address() as net.AddressInfo).port;
  }

  /** A port nobody listens on (bound, then released). */
  async function closedPort(): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    return port;
  }

  const wait = (env: Record<string, string>) =>
    runScript(
      "wait-for-container.sh",
      {
        VMID: "118",
        POLL_SECONDS: "0.2",
        FAKE_PCT_DIR: fake.dir,
        FAKE_HOST_KEY: `${HOST_KEY} root@hermes`,
        FAKE_IP_LINE: IP_LINE,
        ...env,
      },
      { pathPrefix: fake.bin },
    );

  test("prints the address read from the interface and the host key once sshd answers", async () => {
    const port = await listen("SSH-2.0-OpenSSH_9.2p1 Debian\r\n");

    const r = await wait({ SSH_PORT: String(port), TIMEOUT_SECONDS: "20" });

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`address=127.0.0.1\nhost_key=${HOST_KEY}\n`);
    expect(fake.calls()).toEqual([
      "status 118",
      "exec 118 -- ip -4 -o addr show dev eth0 scope global",
      "exec 118 -- cat /etc/ssh/ssh_host_ed25519_key.pub",
    ]);
  });

  test("waits while the container is stopped, then proceeds", async () => {
    const port = await listen("SSH-2.0-OpenSSH_9.2p1 Debian\r\n");

    const r = await wait({ SSH_PORT: String(port), TIMEOUT_SECONDS: "20", FAKE_STOPPED_CALLS: "3" });

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`address=127.0.0.1\nhost_key=${HOST_KEY}\n`);
    expect(r.stderr).toContain("wait-for-container.sh: container 118: status=stopped");
    const calls = fake.calls();
    expect(calls.filter((c) => c === "status 118")).toHaveLength(4);
    // Nothing is asked of the container before it runs.
    expect(calls.slice(0, 3)).toEqual(["status 118", "status 118", "status 118"]);
    expectContractCalls(calls);
  });

  test("a static address skips `ip addr`", async () => {
    const port = await listen("SSH-2.0-OpenSSH_9.2p1 Debian\r\n");

    const r = await wait({
      SSH_PORT: String(port),
      TIMEOUT_SECONDS: "20",
      STATIC_IPV4: "127.0.0.1",
      FAKE_IP_LINE: "",
    });

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`address=127.0.0.1\nhost_key=${HOST_KEY}\n`);
    expect(fake.calls().some((c) => c.includes(" ip "))).toBe(false);
  });

  test("times out with the VMID, the timeout and the last state when sshd never answers", async () => {
    const port = await closedPort();

    const r = await wait({ SSH_PORT: String(port), TIMEOUT_SECONDS: "1" });

    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      `wait-for-container.sh: container 118 not ready after 1s; last state: status=running address=127.0.0.1 ` +
        `host_key=present sshd=not answering on port ${port}`,
    );
    expect(r.ms).toBeLessThan(8000);
    expectContractCalls(fake.calls());
  });

  test("a port that accepts but never sends a banner is bounded by the timeout too", async () => {
    const port = await listen(null);

    const r = await wait({ SSH_PORT: String(port), TIMEOUT_SECONDS: "1" });

    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`sshd=not answering on port ${port}`);
    expect(r.ms).toBeLessThan(9000);
  });

  test("rejects a banner that is not SSH-2.0", async () => {
    const port = await listen("HTTP/1.1 400 Bad Request\r\n");

    const r = await wait({ SSH_PORT: String(port), TIMEOUT_SECONDS: "1" });

    expect(r.code).toBe(1);
    expect(r.stderr).toContain("sshd=unexpected banner 'HTTP/1.1 400 Bad Request'");
  });

  test("without a DHCP lease the timeout message says so", async () => {
    const r = await wait({ TIMEOUT_SECONDS: "1", FAKE_IP_LINE: "" });

    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "container 118 not ready after 1s; last state: status=running address=none (no DHCP lease yet?)",
    );
  });

  test.each([
    ["missing", "", "host_key=missing"],
    ["not ed25519", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC root@hermes", "host_key=invalid"],
    ["truncated", HOST_KEY.slice(0, 40), "host_key=invalid"],
  ])("does not accept a host key that is %s", async (_what, key, state) => {
    const port = await listen("SSH-2.0-OpenSSH_9.2p1 Debian\r\n");

    const r = await wait({ SSH_PORT: String(port), TIMEOUT_SECONDS: "1", FAKE_HOST_KEY: key });

    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(state);
  });

  test.each([
    [{ VMID: "abc" }, "VMID must be an integer between 100 and 999999999"],
    [{ STATIC_IPV4: "10.1.10.300" }, "STATIC_IPV4 must be a bare IPv4 address without prefix"],
    [{ STATIC_IPV4: "10.1.10.23/24" }, "STATIC_IPV4 must be a bare IPv4 address without prefix"],
    [{ IFACE: "eth0; reboot" }, "IFACE must be an interface name"],
    [{ SSH_PORT: "70000" }, "SSH_PORT must be 1..65535"],
    [{ TIMEOUT_SECONDS: "0" }, "TIMEOUT_SECONDS must be a positive integer"],
    [{ POLL_SECONDS: "0" }, "POLL_SECONDS must be a positive number of seconds"],
  ])("rejects invalid parameters %o", async (override, message) => {
    const r = await wait(override);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`wait-for-container.sh: ${message}`);
    expect(fake.calls()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
test("shellcheck passes on the three host scripts", () => {
  const r = spawnSync(
    "shellcheck",
    SCRIPTS.map((s) => path.join(TEMPLATES, s)),
    { encoding: "utf8" },
  );
  expect(r.error).toBeUndefined();
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});
