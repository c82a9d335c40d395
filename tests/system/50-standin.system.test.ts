/**
 * The hermes-agent stand-in image (tests/system/standin, built in the CT from a local rootfs): it honours the real
 * image's contract where this project depends on it (standin/README.md names the upstream file behind each
 * behaviour), so later flows (agent files, gateway readiness, upgrades) are tested against upstream's behaviour:
 * s6-style supervision of the gateway, `hermes gateway status` exiting 0 either way, gateway_state.json with
 * per-platform states, the boot-time config migration with its backups, and managed mode.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDocker, ensureStandinImage, hostStat, RunResult, sleep, systemEnv } from "./harness";

const env = systemEnv();
const { lxc } = env;
const IMAGE = "hermes-standin:local"; // newest config schema 44
const IMAGE_V2 = "hermes-standin:v2"; // newest config schema 45
const NAME = "hermes-systest";
const STATE = "/srv/hermes/standin"; // in the CT; host: <hermes-state>/standin
const OTHER = "hermes-systest-other"; // the container of the one-scenario tests below
const DIR = "/srv/hermes/standin-other"; // its /opt/data
const REJECTED = "Unauthorized: the bot token was rejected";
const BANNER = "→ gateway is now running under s6 supervision (auto-restart on crash,";

interface PlatformStatus {
  state: string;
  error_code: string | null;
  error_message: string | null;
  updated_at: string;
  writer_pid: number;
  writer_start_time: number;
}

/** $HERMES_HOME/gateway_state.json, as gateway/status.py write_runtime_status writes it. */
interface RuntimeStatus {
  pid: number;
  kind: string;
  argv: string[];
  start_time: number;
  hermes_home: string;
  gateway_state: string;
  exit_reason: string | null;
  platforms: Record<string, PlatformStatus>;
  updated_at: string;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe()) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

const runtime = async (dir: string): Promise<RuntimeStatus | undefined> => {
  const r = await lxc.exec(`cat ${dir}/gateway_state.json`, undefined, { allowFailure: true });
  return r.code === 0 && r.stdout !== "" ? (JSON.parse(r.stdout) as RuntimeStatus) : undefined;
};

/** Waits until gateway_state.json says `state`, written by a gateway process other than `not`'s; returns it. */
async function untilState(dir: string, state: string, not?: RuntimeStatus): Promise<RuntimeStatus> {
  let last: RuntimeStatus | undefined;
  const same = (a: RuntimeStatus) =>
    not !== undefined && a.pid === not.pid && a.start_time === not.start_time;
  try {
    await until(`gateway_state ${state} in ${dir}`, async () => {
      last = await runtime(dir);
      return last?.gateway_state === state && !same(last);
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}; last record: ${JSON.stringify(last)}`);
  }
  return last!;
}

const status = (name = NAME) =>
  lxc.exec(`docker exec ${name} hermes gateway status`, undefined, { allowFailure: true });
/** The stand-in supervisor's one-line slot status (`up pid=N starts=N` / `down exitcode=N starts=N parked|restarting`). */
const slot = (name = NAME) => lxc.sh(`docker exec ${name} cat /run/service/gateway-default/supervise/status`);
const startsLog = async (dir: string) => (await lxc.sh(`cat ${dir}/logs/starts.log`)).split("\n");
const identity = (name: string) =>
  lxc.sh(`docker inspect -f '{{.State.StartedAt}} {{.RestartCount}} {{.State.Running}}' ${name}`);
const backups = async (dir: string) =>
  (await lxc.sh(`cd ${dir} && ls -A`))
    .split("\n")
    .filter((l) => l.includes(".bak-"))
    .sort();
const fileText = async (p: string) => (await lxc.exec(`cat ${p}`)).stdout;

/** An empty /opt/data owned by hermes (10000), with files written into it before the first boot. */
async function freshDir(dir: string, files: Record<string, string> = {}): Promise<void> {
  await lxc.exec(`rm -rf ${dir} && install -d -o 10000 -g 10000 -m 0750 ${dir}`);
  for (const [name, text] of Object.entries(files)) {
    await lxc.exec(
      `cat >${dir}/${name} && chown 10000:10000 ${dir}/${name} && chmod 600 ${dir}/${name}`,
      text,
    );
  }
}

/** One boot whose CMD ends at once: stage 2 (and its config migration) runs, then `hermes <cmd>`. */
const boot = (dir: string, opts = "", cmd = "--version", image = IMAGE): Promise<RunResult> =>
  lxc.exec(`docker run --rm --network none ${opts} -v ${dir}:/opt/data ${image} ${cmd}`, undefined, {
    allowFailure: true,
  });

const startOther = (opts = "", image = IMAGE, cmd = "gateway run") =>
  lxc.exec(
    `docker rm -f ${OTHER} >/dev/null 2>&1; docker run -d --name ${OTHER} --network none ${opts} ` +
      `-v ${DIR}:/opt/data ${image} ${cmd}`,
  );

const CONFIG = "model:\n  provider: custom\nagent_added:\n  note: kept\n";
/**
 * config.yaml after the migration's save (hermes_cli/config.py save_config, tests/system/standin/README.md): the
 * YAML with `_config_version` and `agent: {}`, then the two comment blocks (security, fallback model).
 */
const migratedConfig = (version: number) =>
  new RegExp(
    `^${CONFIG.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}_config_version: ${version}\nagent: \\{\\}\n` +
      "\\n# -- Security[^\\n]*\\n(#[^\\n]*\\n)+\\n# -- Fallback model[^\\n]*\\n(#[^\\n]*\\n)+",
  );
const DOTENV = "TELEGRAM_BOT_TOKEN=123456:systest-token\n";

describe("hermes-agent stand-in image", () => {
  beforeAll(async () => {
    await ensureDocker();
    await ensureStandinImage();
    await lxc.exec(
      `docker rm -f ${NAME} ${OTHER} >/dev/null 2>&1; rm -rf ${STATE} && ` +
        `install -d -o 10000 -g 10000 -m 0750 ${STATE} && ` +
        "rm -f /data/.hermes-standin-marker /fast/.hermes-standin-marker",
    );
    await lxc.exec(
      `docker run -d --name ${NAME} -e HERMES_UID=10000 -e HERMES_GID=10000 ` +
        `-v ${STATE}:/opt/data -v /data:/opt/data/workspace/data -v /fast:/opt/data/workspace/fast ${IMAGE} gateway run`,
    );
    await untilState(STATE, "running");
  });

  afterAll(async () => {
    await lxc.exec(`docker rm -f ${NAME} ${OTHER} >/dev/null 2>&1 || true`);
  });

  test("PID 1 is a root init; the CMD becomes `sleep infinity` and the gateway runs supervised, both as hermes", async () => {
    const pidStatus = (pid: number | string) =>
      lxc.sh(`docker exec ${NAME} grep -E '^(Uid|Gid):' /proc/${pid}/status`);
    expect(await pidStatus(1)).toBe("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0");
    const state = (await runtime(STATE))!;
    expect(await pidStatus(state.pid)).toBe(
      "Uid:\t10000\t10000\t10000\t10000\nGid:\t10000\t10000\t10000\t10000",
    );
    // Every process's uid and command line, read inside the container.
    const ps = await lxc.sh(
      `docker exec -i ${NAME} bash -s`,
      'for p in /proc/[0-9]*; do echo "$(stat -c %u $p) $(tr "\\0" " " <$p/cmdline)"; done',
    );
    expect(ps).toContain("0 /bin/bash /opt/hermes/docker/entrypoint.sh --supervise gateway-default");
    expect(ps).toContain("10000 sleep infinity");
    expect(ps).toContain("10000 /bin/bash /opt/hermes/bin/hermes gateway run --replace");
    expect(await slot()).toBe(`up pid=${state.pid} starts=1`);
    const logs = await lxc.exec(`docker logs ${NAME}`);
    expect(logs.stdout + logs.stderr).toContain(BANNER);
    expect(logs.stdout).toContain("[stage2] Setup complete; starting user services");

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

  test("gateway_state.json: compact JSON, the gateway's PID record, running, api_server connected", async () => {
    const raw = await lxc.sh(`cat ${STATE}/gateway_state.json`);
    const state = JSON.parse(raw) as RuntimeStatus;
    expect(JSON.stringify(state)).toBe(raw); // compact separators, one line
    expect(state).toMatchObject({
      kind: "hermes-gateway",
      argv: ["/opt/hermes/bin/hermes", "gateway", "run", "--replace"],
      hermes_home: "/opt/data",
      gateway_state: "running",
      exit_reason: null,
    });
    // start_time is field 22 of /proc/<pid>/stat: the PID-reuse guard.
    const stat = await lxc.sh(`docker exec ${NAME} cat /proc/${state.pid}/stat`);
    expect(state.start_time).toBe(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]));
    // isoformat(): no fraction at all when the microsecond is 0 (gateway/status.py _utc_now_iso).
    expect(state.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    expect(Object.keys(state.platforms)).toEqual(["api_server"]); // the API key stage 2 generated
    expect(state.platforms.api_server).toMatchObject({
      state: "connected",
      error_code: null,
      error_message: null,
      writer_pid: state.pid,
      writer_start_time: state.start_time,
    });
    const pidRecord = JSON.parse(await lxc.sh(`cat ${STATE}/gateway.pid`));
    expect(pidRecord).toEqual({
      pid: state.pid,
      kind: "hermes-gateway",
      argv: state.argv,
      start_time: state.start_time,
      hermes_home: "/opt/data",
    });
    expect(await lxc.sh(`ls ${STATE}`)).not.toContain("gateway.heartbeat");
  });

  test("`hermes gateway status` exits 0 and names the gateway's PID", async () => {
    const state = (await runtime(STATE))!;
    const r = await status();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^✓ Gateway is running \\(PID: ${state.pid}\\)\n`));
  });

  test("a killed gateway is restarted by its supervisor; the container is not restarted", async () => {
    const container = await identity(NAME);
    const before = (await runtime(STATE))!;
    const starts = (await startsLog(STATE)).length;
    await lxc.exec(`docker exec ${NAME} bash -c 'kill -KILL ${before.pid}'`);
    const after = await untilState(STATE, "running", before);
    expect(await slot()).toBe(`up pid=${after.pid} starts=2`);
    expect(await startsLog(STATE)).toHaveLength(starts + 1);
    expect(await identity(NAME)).toBe(container);
    expect((await status()).stdout).toContain(`✓ Gateway is running (PID: ${after.pid})`);
  });

  test("a gateway that exits 0 (SIGTERM) parks its slot: not restarted, container up, `gateway status` still exits 0", async () => {
    const container = await identity(NAME);
    const before = (await runtime(STATE))!;
    const starts = (await startsLog(STATE)).length;
    await lxc.exec(`docker exec ${NAME} bash -c 'kill -TERM ${before.pid}'`);
    await untilState(STATE, "stopped");
    await until("slot parked", async () => (await slot()) === "down exitcode=0 starts=2 parked");
    await sleep(2500); // a restart would have happened by now (at most one start a second)
    expect(await slot()).toBe("down exitcode=0 starts=2 parked");
    expect(await startsLog(STATE)).toHaveLength(starts);
    expect(await identity(NAME)).toBe(container);
    expect(await lxc.sh(`test -e ${STATE}/gateway.pid && echo present || echo absent`)).toBe("absent");
    const r = await status();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✗ Gateway is not running\n/);
  });

  test("each gateway start records the sha256 of /opt/data/.env in logs/starts.log", async () => {
    const sha = () => lxc.sh(`sha256sum ${STATE}/.env | cut -d' ' -f1`);
    const first = await startsLog(STATE);
    expect(first[0]).toMatch(
      /^\S+ start uid=10000 gid=10000 env_sha256=[0-9a-f]{64} args=gateway run --replace$/,
    );
    // The image appends a loopback API_SERVER_KEY on first boot, like the real one.
    expect(await lxc.sh(`grep -c '^API_SERVER_KEY=[0-9a-f]\\{64\\}$' ${STATE}/.env`)).toBe("1");

    const previous = /env_sha256=(\S+)/.exec(first[first.length - 1])![1];
    const old = (await runtime(STATE))!;
    await lxc.exec(
      `echo 'TELEGRAM_BOT_TOKEN=123456:systest-token' >>${STATE}/.env && docker restart -t 5 ${NAME} >/dev/null`,
    );
    const state = await untilState(STATE, "running", old);
    const second = await startsLog(STATE);
    expect(second).toHaveLength(first.length + 1);
    expect(second[second.length - 1]).toContain(`env_sha256=${await sha()}`);
    expect(second[second.length - 1]).not.toContain(previous);
    expect(state.platforms.telegram.state).toBe("connected");
  });

  test("per-platform states: a good token connects, a `revoked` one is fatal with its error; .env beats docker -e", async () => {
    await freshDir(DIR, {
      ".env": "TELEGRAM_BOT_TOKEN='123456:systest-good'\nDISCORD_BOT_TOKEN=\"systest-revoked-token\"\n",
    });
    // TELEGRAM_BOT_TOKEN from the environment is overridden by .env's (upstream loads .env with override=True).
    await startOther("-e TELEGRAM_BOT_TOKEN=123456:revoked -e SLACK_BOT_TOKEN=xoxb-revoked");
    const state = await untilState(DIR, "running");
    const brief = Object.fromEntries(
      Object.entries(state.platforms).map(([k, v]) => [k, [v.state, v.error_code, v.error_message]]),
    );
    expect(brief).toEqual({
      telegram: ["connected", null, null],
      discord: ["fatal", "discord_unauthorized", REJECTED],
      slack: ["fatal", "slack_unauthorized", REJECTED],
      api_server: ["connected", null, null],
    });
    expect(state.exit_reason).toBeNull();
    expect(await slot(OTHER)).toBe(`up pid=${state.pid} starts=1`);
  });

  test("no platform connects (all fatal): startup_failed, exit 78, the slot is parked and the container stays up", async () => {
    // A key shorter than 16 characters enables no API server (and stage 2 keeps a non-empty one).
    await freshDir(DIR, { ".env": "API_SERVER_KEY=short\nTELEGRAM_BOT_TOKEN=123456:revoked\n" });
    await startOther();
    const state = await untilState(DIR, "startup_failed");
    expect(state.exit_reason).toBe(`telegram: ${REJECTED}`);
    expect(state.platforms).toEqual({
      telegram: expect.objectContaining({
        state: "fatal",
        error_code: "telegram_unauthorized",
        error_message: REJECTED,
      }),
    });
    await until("slot parked", async () => (await slot(OTHER)) === "down exitcode=78 starts=1 parked");
    await sleep(2500);
    expect(await slot(OTHER)).toBe("down exitcode=78 starts=1 parked");
    expect(await startsLog(DIR)).toHaveLength(1);
    expect(await lxc.sh(`docker inspect -f '{{.State.Running}}' ${OTHER}`)).toBe("true");
    const r = await status(OTHER);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✗ Gateway is not running\n/);
    const stop = await lxc.exec(`docker stop -t 10 ${OTHER}`);
    expect(stop.durationMs).toBeLessThan(5000);
    expect(await lxc.sh(`docker inspect -f '{{.State.ExitCode}}' ${OTHER}`)).toBe("0");
  });

  test("`--no-supervise` or HERMES_GATEWAY_NO_SUPERVISE=1: the gateway is the CMD again, so its 78 ends the container", async () => {
    await freshDir(DIR, { ".env": "API_SERVER_KEY=short\nTELEGRAM_BOT_TOKEN=123456:revoked\n" });
    const a = await boot(DIR, "", "gateway run --no-supervise");
    expect(a.code).toBe(78);
    expect(a.stderr).not.toContain(BANNER);
    const b = await boot(DIR, "-e HERMES_GATEWAY_NO_SUPERVISE=1", "gateway run");
    expect(b.code).toBe(78);
    expect((await runtime(DIR))!.gateway_state).toBe("startup_failed");
  });

  test("crash switch HERMES_STANDIN_CRASH_AT_START=1 (in .env): exit 1 after `starting`, restarted about once a second", async () => {
    await freshDir(DIR, { ".env": "HERMES_STANDIN_CRASH_AT_START=1\nTELEGRAM_BOT_TOKEN=123456:systest\n" });
    await startOther();
    const seen = new Set<string>();
    await until(
      "three gateway starts",
      async () => {
        const s = await runtime(DIR);
        if (s) seen.add(s.gateway_state);
        return Number(await lxc.sh(`cat ${DIR}/logs/starts.log 2>/dev/null | wc -l`)) >= 3;
      },
      15000,
    );
    expect([...seen]).toEqual(["starting"]);
    const state = (await runtime(DIR))!;
    expect(state.platforms.telegram.state).toBe("connecting");
    expect(await slot(OTHER)).toMatch(/^(up pid=\d+|down exitcode=1) starts=\d+( restarting)?$/);
    expect(await lxc.sh(`docker inspect -f '{{.State.Running}} {{.RestartCount}}' ${OTHER}`)).toBe("true 0");
    const stop = await lxc.exec(`docker stop -t 10 ${OTHER}`);
    expect(stop.durationMs).toBeLessThan(5000);
  });

  test("boot-time config migration: backups of config.yaml and .env, then `_config_version: 44`; once only", async () => {
    await freshDir(DIR, { "config.yaml": CONFIG, ".env": DOTENV });
    const r = await boot(DIR);
    expect(r.code).toBe(0);
    const m = /^\[config-migrate\] Migrating config schema 0 -> 44; backups: (\S+), (\S+)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    const stamp = /\.bak-(\d{8}T\d{6}Z)$/.exec(m![1])![1];
    expect([m![1], m![2]]).toEqual([`/opt/data/config.yaml.bak-${stamp}`, `/opt/data/.env.bak-${stamp}`]);
    expect(await backups(DIR)).toEqual([`.env.bak-${stamp}`, `config.yaml.bak-${stamp}`]);
    expect(await fileText(`${DIR}/config.yaml.bak-${stamp}`)).toBe(CONFIG);
    expect(await fileText(`${DIR}/config.yaml`)).toMatch(new RegExp(`${migratedConfig(44).source}$`));
    // .env as stage 2 left it (with the generated API key), mode kept.
    expect(await fileText(`${DIR}/.env.bak-${stamp}`)).toBe(await fileText(`${DIR}/.env`));
    expect(await lxc.sh(`stat -c '%u:%g %a' ${DIR}/.env.bak-${stamp} ${DIR}/config.yaml.bak-${stamp}`)).toBe(
      "10000:10000 600\n10000:10000 640",
    );
    expect(r.stdout).toContain("Config schema version: 44");

    const again = await boot(DIR);
    expect(again.stdout).not.toContain("[config-migrate]");
    expect(await backups(DIR)).toHaveLength(2);
  });

  test("HERMES_SKIP_CONFIG_MIGRATION=1 skips it: no backups, config.yaml untouched", async () => {
    await freshDir(DIR, { "config.yaml": CONFIG, ".env": DOTENV });
    const r = await boot(DIR, "-e HERMES_SKIP_CONFIG_MIGRATION=1");
    expect(r.stdout).toContain(
      "[config-migrate] HERMES_SKIP_CONFIG_MIGRATION is set; skipping config migration",
    );
    expect(await backups(DIR)).toEqual([]);
    expect(await fileText(`${DIR}/config.yaml`)).toBe(CONFIG);
  });

  test("managed (HERMES_MANAGED=true): the save is refused, both files restored, the boot goes on; backups pile up", async () => {
    await freshDir(DIR, { "config.yaml": CONFIG, ".env": DOTENV });
    const r = await boot(DIR, "-e HERMES_MANAGED=true");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[config-migrate\] Migrating config schema 0 -> 44; backups: /m);
    expect(r.stderr).toContain("Cannot save configuration: this Hermes installation is managed by nixos.");
    expect(r.stderr).toContain(
      "[config-migrate] ERROR: migration did not advance config version to 44 (still 0); " +
        "restored: /opt/data/config.yaml, /opt/data/.env",
    );
    expect(r.stdout).toContain("[stage2] Warning: docker_config_migrate.py failed; continuing");
    expect(r.stdout).toContain("[stage2] Setup complete; starting user services");
    expect(r.stdout).toContain("Hermes Agent stand-in");
    expect(await fileText(`${DIR}/config.yaml`)).toBe(CONFIG);
    const first = await backups(DIR);
    expect(first).toHaveLength(2);
    const envBak = first.find((f) => f.startsWith(".env.bak-"))!;
    expect(await fileText(`${DIR}/.env`)).toBe(await fileText(`${DIR}/${envBak}`));

    await boot(DIR, "-e HERMES_MANAGED=true");
    expect(await backups(DIR)).toHaveLength(4); // every boot makes two more (same second: `.bak-<stamp>.1`)
    expect(await fileText(`${DIR}/config.yaml`)).toBe(CONFIG);
  });

  test("managed by the .managed marker: `hermes config set` refuses (exit 0, message on stderr); HERMES_MANAGED=false wins", async () => {
    await freshDir(DIR, { "config.yaml": CONFIG, ".env": DOTENV, ".managed": "hermes-lxc\n" });
    const refused = await boot(DIR, "", "config set streaming true");
    expect(refused.code).toBe(0);
    expect(refused.stderr).toContain(
      "Cannot save configuration: this Hermes installation is managed by hermes-lxc.",
    );
    expect(refused.stderr).toContain(
      "Cannot set configuration values: this Hermes installation is managed by hermes-lxc.\n" +
        "Use your package manager to upgrade or reinstall Hermes.",
    );
    expect(await fileText(`${DIR}/config.yaml`)).toBe(CONFIG);

    const allowed = await boot(DIR, "-e HERMES_MANAGED=false", "config set streaming true");
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain("✓ Set streaming = true in /opt/data/config.yaml");
    // `config set` appends the key after what the boot's migration saved (the stand-in's set is line based).
    expect(await fileText(`${DIR}/config.yaml`)).toMatch(
      new RegExp(`${migratedConfig(44).source}streaming: true\n$`),
    );
  });

  test("upgrade hermes-standin:local (schema 44) -> :v2 (45) on the same /opt/data: migrated once, ends at 45", async () => {
    await freshDir(DIR);
    await startOther();
    const local = await untilState(DIR, "running");
    // The seeded config.yaml carries no _config_version: the first boot stamps it.
    expect(await lxc.sh(`grep '^_config_version:' ${DIR}/config.yaml`)).toBe("_config_version: 44");
    const before = await backups(DIR);

    await startOther("", IMAGE_V2); // `docker rm -f` first: the :local gateway's record still says running
    await untilState(DIR, "running", local);
    const logs = await lxc.sh(`docker logs ${OTHER}`);
    const m = /^\[config-migrate\] Migrating config schema 44 -> 45; backups: (\S+), (\S+)$/m.exec(logs);
    expect(m).not.toBeNull();
    expect(await lxc.sh(`grep '^_config_version:' ${DIR}/config.yaml`)).toBe("_config_version: 45");
    const added = (await backups(DIR)).filter((f) => !before.includes(f));
    expect(added.map((f) => `/opt/data/${f}`).sort()).toEqual([m![1], m![2]].sort());
    const configBak = added.find((f) => f.startsWith("config.yaml.bak-"))!;
    expect(await lxc.sh(`grep '^_config_version:' ${DIR}/${configBak}`)).toBe("_config_version: 44");
    expect(await lxc.sh(`docker exec ${OTHER} hermes --version`)).toBe(
      "Hermes Agent stand-in 0.0.0 (hermes-lxc system tier)\nConfig schema version: 45",
    );

    await lxc.exec(`docker restart -t 5 ${OTHER} >/dev/null`);
    await until("second v2 gateway start", async () => (await startsLog(DIR)).length === 3);
    expect(await backups(DIR)).toHaveLength(before.length + 2);
    await lxc.exec(`docker rm -f ${OTHER} >/dev/null`);
  });

  test("`docker exec ... hermes` as root re-execs as the hermes uid (HERMES_DOCKER_EXEC_AS_ROOT=1 opts out)", async () => {
    expect(await lxc.sh(`docker exec ${NAME} hermes pairing approve telegram ABC123`)).toBe(
      "Approved pairing code ABC123 for telegram",
    );
    expect(await lxc.sh(`stat -c '%u:%g' ${STATE}/pairing/telegram-approved`)).toBe("10000:10000");
    expect(await lxc.sh(`cat ${STATE}/pairing/telegram-approved`)).toMatch(/ ABC123 approved_by_uid=10000$/);
    await lxc.exec(`docker exec -e HERMES_DOCKER_EXEC_AS_ROOT=1 ${NAME} hermes pairing approve discord XYZ`);
    expect(await lxc.sh(`tail -n1 ${STATE}/pairing/discord-approved`)).toMatch(/ XYZ approved_by_uid=0$/);
    // Like upstream, an unknown code is reported and the exit status is still 0.
    const bad = await lxc.exec(`docker exec ${NAME} hermes pairing approve telegram 'no such code'`);
    expect(bad.stdout.trim()).toBe("Code 'NO SUCH CODE' not found or expired for platform 'telegram'.");
  });

  test("refuses `--user` other than root or hermes, like the real image; `--user hermes` runs", async () => {
    const other = await lxc.exec(`docker run --rm --user 1234 ${IMAGE} gateway run`, undefined, {
      allowFailure: true,
    });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(
      "[stage2] ERROR: container started with --user 1234 (an arbitrary, non-hermes UID).",
    );
    const hermes = await lxc.exec(`docker run --rm --user hermes ${IMAGE} --version`);
    expect(hermes.stdout.trim()).toBe(
      "Hermes Agent stand-in 0.0.0 (hermes-lxc system tier)\nConfig schema version: 44",
    );
  });

  test("HERMES_UID/HERMES_GID remap the hermes user (1..65534); out-of-range values are ignored silently", async () => {
    const dir = "/srv/hermes/standin-remap";
    await lxc.exec(`rm -rf ${dir} && mkdir -p ${dir}`);
    const good = await lxc.exec(
      `docker run --rm -e HERMES_UID=12345 -e HERMES_GID=12346 -v ${dir}:/opt/data ${IMAGE} pairing list`,
    );
    expect(good.stdout).toContain("[stage2] Changing hermes UID to 12345");
    expect(good.stdout).toContain("[stage2] Changing hermes GID to 12346");
    expect(await lxc.sh(`stat -c '%u:%g' ${dir} ${dir}/.env ${dir}/logs`)).toBe(
      "12345:12346\n12345:12346\n12345:12346",
    );
    await lxc.exec(`rm -rf ${dir} && mkdir -p ${dir}`);
    const bad = await lxc.exec(
      `docker run --rm -e HERMES_UID=0 -e HERMES_GID=70000 -v ${dir}:/opt/data ${IMAGE} pairing list`,
    );
    expect(bad.stdout + bad.stderr).not.toMatch(/HERMES_UID|HERMES_GID|Changing hermes/);
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

  test("docker stop ends the init, its supervisor and the gateway promptly (exit 0, gateway_state stopped)", async () => {
    await untilState(STATE, "running");
    const r = await lxc.exec(`docker stop -t 10 ${NAME}`);
    expect(r.durationMs).toBeLessThan(5000);
    expect(await lxc.sh(`docker inspect -f '{{.State.ExitCode}}' ${NAME}`)).toBe("0");
    expect((await runtime(STATE))!.gateway_state).toBe("stopped");
  });
});
