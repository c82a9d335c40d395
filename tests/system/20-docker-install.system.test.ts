/**
 * templates/install-docker.sh inside the CT with DOCKER_SOURCE=debian (Docker's own repository is not reachable
 * from the tier; the docker-ce path is covered by review and the template tests only).
 */
import { DOCKER_ENV_DEBIAN, lastLine, RunResult, systemEnv } from "./harness";

const { lxc } = systemEnv();
const READY = /^docker-ready driver=(\S+) version=(\S+)$/;
const PINNED = ["docker.io", "containerd", "runc"];

/** Paths whose mtime would move if apt/dpkg did anything (lists fetched, .debs downloaded, packages changed). */
const APT_STATE = "/var/lib/apt /var/cache/apt /var/lib/dpkg /etc/apt /etc/docker /var/lib/hermes-lxc";
const markNow = () => lxc.exec("touch /run/systest-marker && sleep 0.05");
const changedSinceMark = () => lxc.sh(`find ${APT_STATE} -newer /run/systest-marker -print`);
const dockerdPid = () => lxc.sh("systemctl show -p MainPID --value docker.service");

describe("install-docker.sh (DOCKER_SOURCE=debian)", () => {
  let first: RunResult;

  test("first run: installs docker.io, pins + holds docker.io/containerd/runc, probes, ends with docker-ready", async () => {
    // A fresh CT from the template: no Docker, no stamp.
    expect(await lxc.sh("command -v docker || echo none")).toBe("none");
    first = await lxc.run("install-docker.sh", DOCKER_ENV_DEBIAN);
    process.stderr.write(`[systest] install-docker first run: ${first.durationMs} ms\n`);
    expect(first.stderr).toContain("full run: no stamp");
    expect(first.stdout).toContain("probe ok");
    const m = READY.exec(lastLine(first.stdout));
    expect(m).not.toBeNull();
    expect(m![2]).toBe(await lxc.sh("docker version -f '{{.Server.Version}}'"));
    expect(m![1]).toBe(await lxc.sh("docker info -f '{{.Driver}}'"));

    // Held (dpkg "hi") at exactly the versions pinned with priority 1001.
    const status = await lxc.sh(
      `dpkg-query -W -f='\${Package} \${db:Status-Abbrev}\${Version}\\n' ${PINNED.join(" ")}`,
    );
    const prefs = await lxc.sh("cat /etc/apt/preferences.d/hermes-lxc-docker");
    for (const line of status.split("\n")) {
      const [pkg, abbrev, version] = line.split(/\s+/);
      expect({ pkg, abbrev }).toEqual({ pkg, abbrev: "hi" });
      expect(prefs).toContain(`Package: ${pkg}\nPin: version ${version}\nPin-Priority: 1001`);
    }
    expect((await lxc.sh("apt-mark showhold")).split("\n").sort()).toEqual([...PINNED].sort());
    // An upgrade (what unattended-upgrades does) would leave them alone.
    const sim = await lxc.sh("apt-get -s -o Debug::NoLocking=1 dist-upgrade");
    for (const pkg of PINNED) expect(sim).not.toMatch(new RegExp(`^Inst ${pkg.replace(".", "\\.")} `, "m"));
  });

  test("daemon.json sets json-file rotation and new containers get it; nothing listens on TCP", async () => {
    expect(JSON.parse(await lxc.sh("cat /etc/docker/daemon.json"))).toEqual({
      "log-driver": "json-file",
      "log-opts": { "max-size": "10m", "max-file": "3" },
    });
    await lxc.exec(
      "docker rm -f systest-logcfg >/dev/null 2>&1; docker create --name systest-logcfg hermes-lxc-probe:1 /usr/bin/true",
    );
    expect(await lxc.sh("docker inspect -f '{{json .HostConfig.LogConfig}}' systest-logcfg")).toBe(
      '{"Type":"json-file","Config":{"max-file":"3","max-size":"10m"}}',
    );
    await lxc.exec("docker rm -f systest-logcfg");
    expect(await lxc.sh("ss -H -ltnp | grep -F '\"dockerd\"' || true")).toBe("");
    const tcp = await lxc.exec("docker -H tcp://127.0.0.1:2375 version", undefined, { allowFailure: true });
    expect(tcp.code).not.toBe(0);
  });

  test("second run on the provisioned CT: fast path, no apt-get update, nothing downloaded or changed (its time: npm run bench)", async () => {
    await markNow();
    const again = await lxc.run("install-docker.sh", DOCKER_ENV_DEBIAN);
    process.stderr.write(
      `[systest] install-docker re-run: ${again.durationMs} ms (incl. one ssh connection)\n`,
    );
    expect(again.stdout).toContain("unchanged (provisioned with the same parameters; no apt run)");
    expect(again.stderr).not.toContain("full run");
    expect(again.stderr).not.toMatch(/^(Get|Hit|Ign):/m); // apt-get update's progress lines
    expect(await changedSinceMark()).toBe("");
    expect(lastLine(again.stdout)).toBe(lastLine(first.stdout));
  });

  test("a changed parameter (DOCKER_LOG_MAX_FILE) rewrites daemon.json and restarts dockerd once, without apt", async () => {
    const pid = await dockerdPid();
    await markNow();
    const changed = await lxc.run("install-docker.sh", { ...DOCKER_ENV_DEBIAN, DOCKER_LOG_MAX_FILE: "5" });
    expect(changed.stdout).toContain("changed /etc/docker/daemon.json");
    expect(changed.stdout).toContain("restarted docker");
    expect(changed.stderr).not.toMatch(/^(Get|Hit|Ign):/m);
    expect(
      await lxc.sh(`find /var/lib/apt/lists /var/cache/apt/archives -newer /run/systest-marker -print`),
    ).toBe("");
    const restartedPid = await dockerdPid();
    expect(restartedPid).not.toBe(pid);
    expect(JSON.parse(await lxc.sh("cat /etc/docker/daemon.json"))["log-opts"]["max-file"]).toBe("5");

    // Same parameters again: fast path, the daemon is not touched.
    const same = await lxc.run("install-docker.sh", { ...DOCKER_ENV_DEBIAN, DOCKER_LOG_MAX_FILE: "5" });
    expect(same.stdout).toContain("unchanged");
    expect(await dockerdPid()).toBe(restartedPid);

    // Back to the suite's parameters for the files that follow.
    const back = await lxc.run("install-docker.sh", DOCKER_ENV_DEBIAN);
    expect(back.stdout).toContain("restarted docker");
  });

  test("storage driver vfs (as on ZFS < 2.2): a clear WARNING, and the probe is re-run for the new driver", async () => {
    // Fault injection: make dockerd come up with vfs, as it does when overlay2 cannot work on the CT's rootfs.
    await lxc.exec(
      "mkdir -p /etc/systemd/system/docker.service.d && printf '[Service]\\nExecStart=\\nExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock --storage-driver vfs\\n' >/etc/systemd/system/docker.service.d/systest-vfs.conf && systemctl daemon-reload && systemctl restart docker.service",
    );
    try {
      const res = await lxc.run("install-docker.sh", DOCKER_ENV_DEBIAN);
      expect(res.stderr).toContain("full run: docker is now vfs/");
      expect(res.stderr).toContain("WARNING: Docker uses the vfs storage driver");
      expect(res.stderr).toContain(
        "overlay2 needs the container's rootfs on ext4 or LVM-thin, or on ZFS >= 2.2",
      );
      expect(res.stdout).toContain("probe ok");
      expect(lastLine(res.stdout)).toMatch(/^docker-ready driver=vfs version=/);
    } finally {
      await lxc.exec(
        "rm -f /etc/systemd/system/docker.service.d/systest-vfs.conf && systemctl daemon-reload && systemctl restart docker.service",
      );
    }
    const res = await lxc.run("install-docker.sh", DOCKER_ENV_DEBIAN);
    expect(lastLine(res.stdout)).toBe(lastLine(first.stdout));
  });
});
