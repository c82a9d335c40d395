/**
 * templates/prepare-host-dirs.sh, as root against fresh temp directories: owners, modes, separate disks, refusals,
 * idempotency, and never walking the data below an owned directory. Needs root (chown, mount -t tmpfs).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  hostWorld,
  mkdirOwned,
  mounts,
  runScript,
  sleep,
  statOf,
  useHostScriptsWorld,
} from "./hostScriptsWorld";

useHostScriptsWorld();
let root: string;
beforeEach(() => (root = hostWorld.root));

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

  test("a second run prints ok and changes nothing (its time: npm run bench)", async () => {
    fs.mkdirSync(path.join(root, "hdd"));
    const d = path.join(root, "hdd", "hermes");
    expect((await prepare([d])).stdout).toBe(`created ${d}\n`);
    const before = statOf(d);
    await sleep(30); // so that any chown/chmod on the second run would land on a different ctime

    const r = await prepare([d]);

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`ok ${d}\n`);
    expect(statOf(d)).toEqual(before);
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
