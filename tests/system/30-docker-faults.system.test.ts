/**
 * install-docker.sh under faults: killed while dpkg works, and started while another process holds apt's locks.
 * Both start from a CT where Docker's packages were purged again (their .debs stay in apt's cache).
 */
import { readTemplate, renderRemoteCommand } from "../../components/lib/remoteScript";
import { DOCKER_ENV_DEBIAN, ensureDocker, lastLine, sleep, systemEnv } from "./harness";

const { lxc } = systemEnv();

/** Back to "Docker not installed" (holds released first, or apt would refuse). */
async function purgeDocker(): Promise<void> {
  await lxc.exec(
    "apt-mark unhold docker.io containerd runc >/dev/null; " +
      "DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 purge docker.io containerd runc >/dev/null; " +
      "rm -f /etc/apt/preferences.d/hermes-lxc-docker",
  );
  expect(await lxc.sh("dpkg-query -W -f='${db:Status-Abbrev}' docker.io 2>/dev/null || true")).not.toMatch(
    /^[ih]i/,
  );
}

const installCommand = () =>
  renderRemoteCommand("install-docker", readTemplate("install-docker.sh"), DOCKER_ENV_DEBIAN);

describe("install-docker.sh under faults", () => {
  beforeAll(async () => {
    await ensureDocker(); // so this file also works on its own
  });

  test("SIGKILL while dpkg is unpacking/configuring: the next run recovers dpkg and converges", async () => {
    await purgeDocker();
    // The SSH session's shell leads its own process group (sshd calls setsid), so its pid names the script and
    // apt-get. Killing the run's process groups is what a CT crash or an OOM kill in the middle looks like.
    const victim = lxc.exec(`echo $$ >/run/systest-victim.pgid; ${installCommand()}`, undefined, {
      allowFailure: true,
    });
    // Wait for apt's dpkg run (`dpkg --status-fd N ... --unpack|--configure`), not the script's own quick
    // `dpkg --audit`. Matched on the dpkg binary's own argv: the script's text (the bash -c argv) mentions
    // `dpkg --configure` too.
    const killScript = [
      "busy() { local p; for p in $(pgrep -x dpkg); do grep -qaE -- '--(unpack|configure)' /proc/$p/cmdline 2>/dev/null && return 0; done; return 1; }",
      "for i in $(seq 1 1200); do busy && break; sleep 0.05; done",
      "busy || { echo 'dpkg never started'; exit 1; }",
      "sleep 0.7",
      "pg=$(cat /run/systest-victim.pgid)",
      // apt-get starts dpkg in a session of its own: that group (dpkg, dpkg-deb, maintainer scripts) goes too.
      'groups="$pg $(for p in $(pgrep -x dpkg); do ps -o pgid= -p $p; done)"',
      "ps -o pid=,comm= -g \"$(echo $groups | tr ' ' ,)\" | tr -s ' ' | paste -sd, -",
      "for g in $groups; do kill -KILL -- -$g 2>/dev/null || true; done",
    ].join("\n");
    // Never leave the install running into the next test, whatever happens here.
    const killer = await lxc.sh(killScript).finally(() => victim);
    process.stderr.write(`[systest] killed mid-install: ${killer}\n`);
    const killed = await victim;
    expect(killed.code).not.toBe(0);
    expect(lastLine(killed.stdout)).not.toMatch(/^docker-ready/);
    // The fault really left dpkg with unfinished work (otherwise this test would prove nothing).
    const audit = await lxc.sh("{ dpkg --audit; ls -A /var/lib/dpkg/updates; } 2>/dev/null | head -n 5");
    expect(audit).not.toBe("");
    process.stderr.write(`[systest] dpkg state after the kill: ${audit.split("\n")[0]}\n`);

    const recovered = await lxc.run("install-docker.sh", DOCKER_ENV_DEBIAN);
    expect(recovered.stderr).toContain("dpkg was interrupted earlier; running dpkg --configure -a");
    expect(lastLine(recovered.stdout)).toMatch(/^docker-ready driver=\S+ version=\S+$/);
    expect(await lxc.sh("dpkg --audit; ls -A /var/lib/dpkg/updates")).toBe("");
    expect(
      await lxc.sh("dpkg-query -W -f='${db:Status-Abbrev}\\n' docker.io containerd runc | sort -u"),
    ).toBe("hi");

    const third = await lxc.run("install-docker.sh", DOCKER_ENV_DEBIAN);
    expect(third.stdout).toContain("unchanged");
  });

  test("apt/dpkg locks held by another process: the install waits for them, then proceeds", async () => {
    await purgeDocker();
    const holdSeconds = 15;
    // apt and dpkg take fcntl (POSIX) locks; `flock(1)` takes BSD locks, which apt never sees, so holding the
    // lock with flock(1) would test nothing. This holds the very locks apt-get update / install / dpkg use.
    const holder = `
import fcntl, os, sys, time
fds = []
for p in ("/var/lib/apt/lists/lock", "/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock"):
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o640)
    fcntl.lockf(fd, fcntl.LOCK_EX)  # blocking: an apt run still finishing is waited for
    fds.append(fd)
open("/run/systest-locks-held", "w").close()
time.sleep(${holdSeconds})
`;
    await lxc.exec(
      "rm -f /run/systest-locks-held; cat >/run/systest-holder.py; " +
        "setsid python3 /run/systest-holder.py >/run/systest-holder.log 2>&1 </dev/null & " +
        "for i in $(seq 1 600); do [ -e /run/systest-locks-held ] && exit 0; sleep 0.05; done; cat /run/systest-holder.log; exit 1",
      holder,
    );
    const started = Date.now();
    const res = await lxc.run("install-docker.sh", DOCKER_ENV_DEBIAN);
    process.stderr.write(`[systest] install-docker with locks held ${holdSeconds}s: ${res.durationMs} ms\n`);
    expect(res.stderr).toMatch(/apt\/dpkg is locked by another process; waiting|Waiting for cache lock/);
    expect(Date.now() - started).toBeGreaterThanOrEqual((holdSeconds - 2) * 1000);
    expect(lastLine(res.stdout)).toMatch(/^docker-ready driver=\S+ version=\S+$/);
    await sleep(100);
    expect(
      await lxc.sh("dpkg-query -W -f='${db:Status-Abbrev}\\n' docker.io containerd runc | sort -u"),
    ).toBe("hi");
  });

  test("a lock that is never released: it gives up after APT_LOCK_TIMEOUT with apt's own message", async () => {
    await purgeDocker();
    await lxc.exec(
      'rm -f /run/systest-locks-held; setsid python3 -c \'import fcntl,os,time; fd=os.open("/var/lib/apt/lists/lock", os.O_RDWR|os.O_CREAT); fcntl.lockf(fd, fcntl.LOCK_EX); open("/run/systest-locks-held","w").close(); time.sleep(12)\' >/dev/null 2>&1 </dev/null & ' +
        "for i in $(seq 1 100); do [ -e /run/systest-locks-held ] && exit 0; sleep 0.05; done; exit 1",
    );
    const res = await lxc.run(
      "install-docker.sh",
      { ...DOCKER_ENV_DEBIAN, APT_LOCK_TIMEOUT: "6" },
      undefined,
      {
        allowFailure: true,
      },
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("Could not get lock /var/lib/apt/lists/lock");
    expect(res.durationMs).toBeLessThan(20000);
    // Leave Docker installed for the files that follow (the holder exits after 12 s; the default APT_LOCK_TIMEOUT waits for it).
    await ensureDocker();
  });
});
