/**
 * The hermes-agent stand-in image (tests/system/standin, built in the CT from a local rootfs): it behaves like the
 * real image where this project depends on it (see standin/README.md), so later flows (agent files, gateway
 * readiness) can be tested against it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDocker, ensureStandinImage, hostStat, sleep, systemEnv } from "./harness";

const env = systemEnv();
const { lxc } = env;
const IMAGE = "hermes-standin:local";
const NAME = "hermes-systest";
const STATE = "/srv/hermes/standin"; // in the CT; host: <hermes-state>/standin

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe()) return;
    await sleep(500);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

const status = (extraEnv = "") =>
  lxc.exec(`docker exec ${extraEnv} ${NAME} hermes gateway status`, undefined, { allowFailure: true });

describe("hermes-agent stand-in image", () => {
  beforeAll(async () => {
    await ensureDocker();
    await ensureStandinImage();
    await lxc.exec(
      `docker rm -f ${NAME} >/dev/null 2>&1; rm -rf ${STATE} && install -d -o 10000 -g 10000 -m 0750 ${STATE} && ` +
        "rm -f /data/.hermes-standin-marker /fast/.hermes-standin-marker",
    );
    await lxc.exec(
      `docker run -d --name ${NAME} -e HERMES_UID=10000 -e HERMES_GID=10000 -e HERMES_STANDIN_HEARTBEAT_MAX_AGE=3 ` +
        `-v ${STATE}:/opt/data -v /data:/opt/data/workspace/data -v /fast:/opt/data/workspace/fast ${IMAGE} gateway run`,
    );
    await until("gateway status 0", async () => (await status()).code === 0);
  });

  afterAll(async () => {
    await lxc.exec(`docker rm -f ${NAME} >/dev/null 2>&1 || true`);
  });

  test("starts as root, drops to the hermes uid, seeds /opt/data as 10000 (host 110000)", async () => {
    expect(
      await lxc.sh(
        `docker exec -e HERMES_DOCKER_EXEC_AS_ROOT=1 ${NAME} cat /proc/1/status | grep -E '^(Uid|Gid):'`,
      ),
    ).toBe("Uid:\t10000\t10000\t10000\t10000\nGid:\t10000\t10000\t10000\t10000");
    expect(await lxc.sh(`stat -c '%n %u:%g %a' ${STATE}/.env ${STATE}/config.yaml ${STATE}/logs`)).toBe(
      [
        `${STATE}/.env 10000:10000 600`,
        `${STATE}/config.yaml 10000:10000 640`,
        `${STATE}/logs 10000:10000 755`,
      ].join("\n"),
    );
    expect(hostStat(path.join(env.file.hostDirs.state, "standin", ".env"))).toBe("110000:110000 600");
  });

  test("gateway run writes a marker into every directory mounted under /opt/data/workspace/, owned 110000 on the host", async () => {
    await until("markers", async () =>
      ["data", "fast"].every((k) =>
        fs.existsSync(path.join(env.file.hostDirs[k as "data" | "fast"], ".hermes-standin-marker")),
      ),
    );
    for (const k of ["data", "fast"] as const) {
      const marker = path.join(env.file.hostDirs[k], ".hermes-standin-marker");
      expect(hostStat(marker)).toBe("110000:110000 644");
      expect(fs.readFileSync(marker, "utf8")).toMatch(/^uid=10000 gid=10000 time=\d+\n$/);
    }
  });

  test("`hermes gateway status` exits 0 only while the heartbeat is fresh", async () => {
    expect((await status()).stdout).toMatch(/^Gateway: running/);
    const pid = await lxc.sh(`docker inspect -f '{{.State.Pid}}' ${NAME}`);
    await lxc.exec(`kill -STOP ${pid}`); // freeze the gateway (from the CT, outside the container's pid namespace)
    try {
      await until("stale heartbeat", async () => (await status()).code === 1, 10000);
      expect((await status()).stdout).toMatch(/^Gateway: not running \(last heartbeat \d+s ago\)/);
    } finally {
      await lxc.exec(`kill -CONT ${pid}`);
    }
    await until("fresh heartbeat again", async () => (await status()).code === 0, 5000);
  });

  test("`docker exec ... hermes` as root re-execs as the hermes uid (HERMES_DOCKER_EXEC_AS_ROOT=1 opts out)", async () => {
    expect(await lxc.sh(`docker exec ${NAME} hermes pairing approve telegram ABC123`)).toBe(
      "Approved pairing code ABC123 for telegram",
    );
    expect(await lxc.sh(`stat -c '%u:%g' ${STATE}/pairing/telegram-approved`)).toBe("10000:10000");
    expect(await lxc.sh(`cat ${STATE}/pairing/telegram-approved`)).toMatch(/ ABC123 approved_by_uid=10000$/);
    await lxc.exec(`docker exec -e HERMES_DOCKER_EXEC_AS_ROOT=1 ${NAME} hermes pairing approve discord XYZ`);
    expect(await lxc.sh(`tail -n1 ${STATE}/pairing/discord-approved`)).toMatch(/ XYZ approved_by_uid=0$/);
  });

  test("each start records the sha256 of /opt/data/.env in logs/starts.log", async () => {
    const sha = () => lxc.sh(`sha256sum ${STATE}/.env | cut -d' ' -f1`);
    const starts = async () => (await lxc.sh(`cat ${STATE}/logs/starts.log`)).split("\n");
    const first = await starts();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(
      new RegExp(`start uid=10000 gid=10000 env_sha256=${await sha()} args=gateway run$`),
    );
    // The image appends a loopback API_SERVER_KEY on first boot, like the real one.
    expect(await lxc.sh(`grep -c '^API_SERVER_KEY=[0-9a-f]\\{64\\}$' ${STATE}/.env`)).toBe("1");

    await lxc.exec(
      `echo 'TELEGRAM_BOT_TOKEN=systest-token' >>${STATE}/.env && docker restart -t 5 ${NAME} >/dev/null`,
    );
    await until("gateway status 0 after restart", async () => (await status()).code === 0);
    const second = await starts();
    expect(second).toHaveLength(2);
    expect(second[1]).toContain(`env_sha256=${await sha()}`);
    expect(second[1]).not.toContain(first[0].split("env_sha256=")[1].split(" ")[0]);
  });

  test("refuses `--user` other than root or hermes, like the real image; `--user hermes` runs", async () => {
    const other = await lxc.exec(`docker run --rm --user 1234 ${IMAGE} gateway run`, undefined, {
      allowFailure: true,
    });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("refusing to run as uid 1234");
    const hermes = await lxc.exec(`docker run --rm --user hermes ${IMAGE} --version`);
    expect(hermes.stdout.trim()).toBe("Hermes Agent stand-in 0.0.0 (hermes-lxc system tier)");
  });

  test("HERMES_UID/HERMES_GID remap the hermes user (1..65534); out-of-range values are ignored", async () => {
    const dir = "/srv/hermes/standin-remap";
    await lxc.exec(`rm -rf ${dir} && mkdir -p ${dir}`);
    await lxc.exec(
      `docker run --rm -e HERMES_UID=12345 -e HERMES_GID=12346 -v ${dir}:/opt/data ${IMAGE} pairing list`,
    );
    expect(await lxc.sh(`stat -c '%u:%g' ${dir} ${dir}/.env ${dir}/logs`)).toBe(
      "12345:12346\n12345:12346\n12345:12346",
    );
    await lxc.exec(`rm -rf ${dir} && mkdir -p ${dir}`);
    const bad = await lxc.exec(
      `docker run --rm -e HERMES_UID=0 -e HERMES_GID=70000 -v ${dir}:/opt/data ${IMAGE} pairing list`,
    );
    expect(bad.stderr).toContain("ignoring HERMES_UID='0'");
    expect(bad.stderr).toContain("ignoring HERMES_GID='70000'");
    expect(await lxc.sh(`stat -c '%u:%g' ${dir}/.env`)).toBe("10000:10000");
    await lxc.exec(`rm -rf ${dir}`);
  });

  test("the gateway refuses to run as root unless HERMES_ALLOW_ROOT_GATEWAY is set", async () => {
    const r = await lxc.exec(
      `docker run --rm -e HERMES_DOCKER_EXEC_AS_ROOT=1 --entrypoint /opt/hermes/bin/hermes ${IMAGE} gateway run`,
      undefined,
      { allowFailure: true },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Refusing to run the Hermes gateway as root inside the official Docker image");
  });

  test("docker stop ends the gateway promptly (SIGTERM handled by the long-lived loop)", async () => {
    const r = await lxc.exec(`docker stop -t 10 ${NAME}`);
    expect(r.durationMs).toBeLessThan(5000);
    expect(await lxc.sh(`docker inspect -f '{{.State.ExitCode}}' ${NAME}`)).toBe("0");
  });
});
