/**
 * templates/wait-for-container.sh against a fake `pct` and real TCP listeners on 127.0.0.1: the address and host key
 * once sshd answers, bounded waits that say what they last saw, and refusals of bad parameters.
 */
import * as net from "node:net";
import { expectContractCalls, makeFakePct, runScript, useHostScriptsWorld } from "./hostScriptsWorld";

useHostScriptsWorld();

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
