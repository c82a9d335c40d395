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

type Platform = { state: string; error_code?: string; error_message?: string };
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
    platforms,
    updated_at: AFTER,
    ...extra,
  });
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
