/**
 * The uid chain the whole design rests on: Docker container uid 10000 == CT uid 10000 == host uid 110000.
 * A container started from a locally imported image writes into the bind-mounted bulk directories, and the host
 * sees the files owned by 110000.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDocker, ensureStandinImage, hostStat, systemEnv } from "./harness";

const env = systemEnv();
const { lxc } = env;
const BASE = "hermes-standin-base:1"; // `docker import` of a rootfs assembled in the CT (tests/system/standin)

describe("Docker in the CT writing into the bulk bind mounts", () => {
  beforeAll(async () => {
    await ensureDocker();
    await ensureStandinImage();
    expect(await lxc.sh(`docker image inspect -f '{{.Id}}' ${BASE}`)).toMatch(/^sha256:/);
  });

  test.each([
    ["data", "/data"],
    ["fast", "/fast"],
  ] as const)(
    "a file written by container uid 10000 into %s is owned by 110000 on the host",
    async (key, ctPath) => {
      const name = `written-by-10000-${Date.now()}.txt`;
      await lxc.exec(
        `docker run --rm --user 10000:10000 -v ${ctPath}:/mnt ${BASE} /usr/bin/bash -c 'echo hello >/mnt/${name}'`,
      );
      const onHost = path.join(env.file.hostDirs[key], name);
      expect(fs.readFileSync(onHost, "utf8")).toBe("hello\n");
      expect(hostStat(onHost)).toBe("110000:110000 644");
      expect(await lxc.sh(`stat -c '%u:%g' ${ctPath}/${name}`)).toBe("10000:10000");
      fs.rmSync(onHost);
    },
  );

  test("container root is the CT's root, i.e. host uid 100000, not host root", async () => {
    await lxc.exec(`docker run --rm -v /fast:/mnt ${BASE} /usr/bin/touch /mnt/written-by-root`);
    const onHost = path.join(env.file.hostDirs.fast, "written-by-root");
    expect(hostStat(onHost).split(" ")[0]).toBe("100000:100000");
    fs.rmSync(onHost);
  });

  test("a uid the host directory does not belong to cannot write there (mode 0750)", async () => {
    const r = await lxc.exec(
      `docker run --rm --user 10001:10001 -v /data:/mnt ${BASE} /usr/bin/touch /mnt/should-not-exist`,
      undefined,
      { allowFailure: true },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Permission denied");
    expect(fs.existsSync(path.join(env.file.hostDirs.data, "should-not-exist"))).toBe(false);
  });
});
