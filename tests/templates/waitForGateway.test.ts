/**
 * templates/wait-for-gateway.sh, the health gate, run for real against a fake `docker` that serves the container
 * state, hermes' gateway_state.json (in the shape gateway/status.py writes it) and /proc/<pid>/stat.
 * The same gate runs against the hermes stand-in in the system tier (60-gateway) and under the engine tier.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = fs.readFileSync(
  path.resolve(__dirname, "..", "..", "templates", "wait-for-gateway.sh"),
  "utf8",
);
const STARTED_AT = "2026-11-30T20:00:00.123456789Z";
const BEFORE = "2026-11-30T19:59:59.000000+00:00";
const AFTER = "2026-11-30T20:00:01.500000+00:00";
const START_TIME = 777;

// Serves FAKE_DIR/inspect for `inspect`, FAKE_DIR/state-<n>.json for the n-th read of the state file (the last one
// repeats), FAKE_DIR/stat for /proc/<pid>/stat (absent = no such process), and three log lines.
const FAKE_DOCKER = `#!/bin/bash
case $1 in
inspect) [[ -f $FAKE_DIR/inspect ]] || exit 1; cat "$FAKE_DIR/inspect" ;;
exec)
  shift; shift
  if [[ $1 == cat && $2 == /opt/data/gateway_state.json ]]; then
    n=$(( $(cat "$FAKE_DIR/reads" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$FAKE_DIR/reads"
    f=$FAKE_DIR/state-$n.json
    while [[ ! -f $f && $n -gt 1 ]]; do n=$((n - 1)); f=$FAKE_DIR/state-$n.json; done
    [[ -f $f ]] || exit 1
    cat "$f"
  elif [[ $1 == cat && $2 == /proc/*/stat ]]; then
    [[ -f $FAKE_DIR/stat ]] || exit 1; cat "$FAKE_DIR/stat"
  elif [[ $1 == curl ]]; then exit "\${FAKE_CURL_RC:-0}"
  else echo "fake docker: unexpected exec $*" >&2; exit 99
  fi ;;
logs) printf 'gateway log line %s\\n' 1 2 3 ;;
*) echo "fake docker: unexpected $1" >&2; exit 99 ;;
esac
`;

type Platform = {
  state: string;
  error_code?: string | null;
  error_message?: string | null;
  updated_at?: unknown;
  writer_pid?: number;
  writer_start_time?: number;
};
/**
 * A gateway_state.json as gateway/status.py write_runtime_status (@00067189) leaves it: the top level restamped
 * with the last writer (pid, start_time, updated_at), each platform entry stamped with the process that wrote it
 * (writer_pid, writer_start_time, updated_at). Entries without stamps here get the current writer's.
 */
const record = (
  gatewayState: string,
  platforms: Record<string, Platform>,
  extra: Record<string, unknown> = {},
) =>
  JSON.stringify({
    pid: 42,
    kind: "hermes-gateway",
    start_time: START_TIME,
    gateway_state: gatewayState,
    exit_reason: null,
    platforms: Object.fromEntries(
      Object.entries(platforms).map(([n, p]) => [
        n,
        {
          error_code: null,
          error_message: null,
          updated_at: AFTER,
          writer_pid: 42,
          writer_start_time: START_TIME,
          ...p,
        },
      ]),
    ),
    updated_at: AFTER,
    ...extra,
  });
/** An entry left by the gateway process before this one (same pid number in a new PID namespace, other start). */
const stale = (p: Platform): Platform => ({
  updated_at: BEFORE,
  writer_pid: 42,
  writer_start_time: START_TIME - 300,
  ...p,
});
const REVOKED = {
  state: "fatal",
  error_code: "telegram_unauthorized",
  error_message: "Unauthorized: the bot token was rejected",
};
const stat = (startTime: number) =>
  `42 (hermes gateway) S 1 42 42 0 -1 4194560 ${Array.from({ length: 12 }, () => "0").join(" ")} ${startTime} 0 0\n`;

let dir: string;
let bin: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "wait-gateway-"));
  bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "docker"), FAKE_DOCKER, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "inspect"), `running false ${STARTED_AT}\n`);
  fs.writeFileSync(path.join(dir, "stat"), stat(START_TIME));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function states(...records: string[]) {
  records.forEach((r, i) => fs.writeFileSync(path.join(dir, `state-${i + 1}.json`), r));
}

function gate(env: Record<string, string> = {}) {
  const started = Date.now();
  const r = spawnSync("/bin/bash", ["-c", SCRIPT, "wait-for-gateway"], {
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      // Node's pipes are sockets, so bash would read ~/.bashrc as if started by sshd.
      HOME: dir,
      FAKE_DIR: dir,
      CONTAINER_NAME: "hermes-a",
      PLATFORMS: "telegram",
      // The shortest wait the gate allows, polled eight times faster than on a deployment: a case that waits out
      // its timeout costs about a second and four readings (each reading starts two python3 processes).
      TIMEOUT_SECONDS: "1",
      POLL_SECONDS: "0.25",
      ...env,
    },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - started) / 1000 };
}

const connected = { telegram: { state: "connected" }, api_server: { state: "connected" } };

describe("wait-for-gateway.sh", () => {
  it("passes when the gateway runs and every configured platform is connected, and says which came up", () => {
    states(record("running", connected));
    const r = gate();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      "healthy hermes-a: gateway running (pid 42); platforms: api_server=connected telegram=connected\n",
    );
  });

  it("waits while the gateway starts and platforms connect", () => {
    states(
      record("starting", { telegram: { state: "connecting" } }),
      record("running", { telegram: { state: "connecting" } }),
      record("running", connected),
    );
    const r = gate({ TIMEOUT_SECONDS: "30" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("healthy hermes-a");
    // It read the state file until it said connected: once per reading, three readings.
    expect(fs.readFileSync(path.join(dir, "reads"), "utf8").trim()).toBe("3");
  });

  it("fails at once on a fatal platform, naming it and hermes' error", () => {
    states(
      record("running", {
        telegram: {
          state: "fatal",
          error_code: "telegram_unauthorized",
          error_message: "Unauthorized: the bot token was rejected",
        },
        api_server: { state: "connected" },
      }),
    );
    const r = gate({ TIMEOUT_SECONDS: "60" });
    expect(r.status).toBe(1);
    expect(r.seconds).toBeLessThan(10);
    expect(r.stderr).toContain(
      "telegram: fatal: telegram_unauthorized: Unauthorized: the bot token was rejected",
    );
    expect(r.stderr).toContain("gateway log line 3");
  });

  it("fails at once when the gateway's startup failed, with its exit reason", () => {
    states(
      record(
        "startup_failed",
        { telegram: { state: "fatal", error_code: "x", error_message: "bad" } },
        {
          exit_reason: "telegram: bad",
        },
      ),
    );
    const r = gate({ TIMEOUT_SECONDS: "60" });
    expect(r.status).toBe(1);
    expect(r.seconds).toBeLessThan(10);
    expect(r.stderr).toContain("the gateway failed to start: telegram: bad; telegram: fatal: x: bad");
  });

  it("never trusts a record from before the container started (a restart leaves the old one behind)", () => {
    states(record("running", connected, { updated_at: BEFORE }));
    const r = gate();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("gateway_state.json is from before this start of the container");
  });

  it("fails when the recorded gateway process is dead, or its pid now belongs to another process", () => {
    states(record("running", connected));
    fs.rmSync(path.join(dir, "stat"));
    let r = gate();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("the gateway process 42 is not running (state running)");
    fs.writeFileSync(path.join(dir, "stat"), stat(START_TIME + 1));
    r = gate();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("the gateway process 42 is not running");
  });

  it("requires every configured platform, not just a running gateway", () => {
    states(record("running", { api_server: { state: "connected" } }));
    const r = gate({ PLATFORMS: "telegram" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("platforms: api_server=connected");
  });

  it("fails while there is no state file, and at once when the container exited", () => {
    let r = gate();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("has not written gateway_state.json yet");
    fs.writeFileSync(path.join(dir, "inspect"), `exited false ${STARTED_AT}\n`);
    r = gate({ TIMEOUT_SECONDS: "60" });
    expect(r.status).toBe(1);
    expect(r.seconds).toBeLessThan(10);
    expect(r.stderr).toContain("the container is exited");
  });

  it("also requires API_HEALTH_URL to answer inside the container when set", () => {
    states(record("running", connected));
    const r = gate({ API_HEALTH_URL: "http://127.0.0.1:8642/health", FAKE_CURL_RC: "7" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("http://127.0.0.1:8642/health does not answer inside the container");
  });

  describe("upstream-shaped state sequences (gateway/status.py, gateway/platforms/base.py, gateway/run_startup.py)", () => {
    it("ignores a stale bare entry a revoked token left: the rotated token's gateway passes once it connects", () => {
      // write_runtime_status(clear_profile_platforms=True) drops only <profile>:<platform> keys, and
      // _mark_disconnected never overwrites fatal: the new process starts with the old `telegram: fatal`.
      states(
        record("starting", { telegram: stale(REVOKED) }),
        record("starting", { telegram: stale(REVOKED), api_server: { state: "connecting" } }),
        record("starting", { telegram: { state: "connecting" }, api_server: { state: "connected" } }),
        record("running", connected),
      );
      const r = gate({ TIMEOUT_SECONDS: "30" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(
        /^healthy hermes-a: gateway running \(pid 42\); platforms: api_server=connected telegram=connected$/m,
      );
    });

    it("waits through a transient fatal that the end of the connect round rewrites to retrying", () => {
      // base.py _set_fatal_error writes fatal even when retryable; run_startup.py
      // _start_aggregate_connect_results rewrites it to retrying once every connect of the round returned.
      const transient = {
        state: "fatal",
        error_code: "telegram_connect_error",
        error_message: "Telegram startup failed: connection reset",
      };
      states(
        record("starting", { telegram: transient, api_server: { state: "connecting" } }),
        record("starting", { telegram: transient, api_server: { state: "connected" } }),
        record("running", {
          telegram: { ...transient, state: "retrying" },
          api_server: { state: "connected" },
        }),
        record("running", connected),
      );
      const r = gate({ TIMEOUT_SECONDS: "30" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    });

    it("still fails at once on a fatal the connect round kept (a genuinely bad token), with hermes' own error", () => {
      states(
        record("starting", { telegram: { state: "connecting" }, api_server: { state: "connecting" } }),
        record("running", { telegram: REVOKED, api_server: { state: "connected" } }),
      );
      const r = gate({ TIMEOUT_SECONDS: "60" });
      expect(r.status).toBe(1);
      expect(r.seconds).toBeLessThan(10);
      expect(r.stderr).toContain(
        "telegram: fatal: telegram_unauthorized: Unauthorized: the bot token was rejected",
      );
    });

    it("does not count entries stamped by another writer, even when they say connected", () => {
      states(
        record("running", {
          telegram: { state: "connected", writer_pid: 41, writer_start_time: START_TIME },
          api_server: { state: "connected" },
        }),
      );
      const r = gate();
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("not healthy");
      expect(r.stderr).toMatch(/platforms: api_server=connected(;| |$)/);
      expect(r.stderr).not.toContain("telegram=connected");
    });

    it("ignores a stale fatal of a platform the new config no longer requires", () => {
      states(
        record("running", {
          ...connected,
          discord: stale({ state: "fatal", error_code: "x", error_message: "y" }),
        }),
      );
      const r = gate();
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("platforms: api_server=connected telegram=connected\n");
    });

    it.each([
      ["isoformat() without a fraction (microsecond 0)", "2026-11-30T20:00:01+00:00", true],
      ["isoformat() with microseconds", "2026-11-30T20:00:00.123457+00:00", true],
      ["another offset, same instant as before the start", "2026-11-30T21:00:00.1+01:00", false],
      ["another offset, after the start", "2026-11-30T21:00:00.2+01:00", true],
      ["a trailing Z", "2026-11-30T20:00:00.5Z", true],
      ["naive (read as UTC, as normalize_updated_at does)", "2026-11-30T20:00:02", true],
      ["epoch seconds (legacy writers)", Date.parse("2026-11-30T20:00:03Z") / 1000, true],
      ["epoch seconds before the start", Date.parse("2026-11-30T19:00:00Z") / 1000, false],
    ])("compares timestamps as instants: updated_at %s", (_what, updatedAt, fresh) => {
      states(record("running", connected, { updated_at: updatedAt }));
      const r = gate();
      expect(r.status).toBe(fresh ? 0 : 1);
      if (!fresh) expect(r.stderr).toContain("gateway_state.json is from before this start of the container");
    });

    it.each([
      ["nanoseconds and Z (docker inspect)", "2026-11-30T20:00:00.123456789Z"],
      ["trailing zeros trimmed (Go's RFC3339Nano)", "2026-11-30T20:00:00.5Z"],
      ["no fraction at all", "2026-11-30T20:00:00Z"],
    ])("reads Docker's StartedAt with %s", (_what, startedAt) => {
      fs.writeFileSync(path.join(dir, "inspect"), `running false ${startedAt}\n`);
      states(record("running", connected, { updated_at: "2026-11-30T20:00:01+00:00" }));
      expect(gate().status).toBe(0);
      states(record("running", connected, { updated_at: "2026-11-30T19:59:59.999999+00:00" }));
      fs.rmSync(path.join(dir, "reads"), { force: true });
      expect(gate().status).toBe(1);
    });
  });

  it("refuses hostile parameters before doing anything", () => {
    const hostile: Array<Record<string, string>> = [
      { CONTAINER_NAME: "a;rm -rf /" },
      { PLATFORMS: "telegram$(id)" },
      { TIMEOUT_SECONDS: "0" },
      { POLL_SECONDS: "0" },
      { POLL_SECONDS: "1;id" },
    ];
    for (const env of hostile) {
      const r = gate(env);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/must be/);
    }
  });
});
