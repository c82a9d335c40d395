/**
 * The node's certificates (tls.ts) and the standalone launcher: a throwaway CA signs the node certificate with SANs
 * 127.0.0.1 and localhost; clients verify against the CA file or pin the SHA-256 fingerprint; TLS 1.3 only.
 */
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import * as tls from "node:tls";
import { PveClient } from "./client";
import { makeWorld, ROOT_PASSWORD, World } from "./world";

let w: World;
beforeAll(async () => {
  w = await makeWorld();
});
afterAll(async () => w?.close());

function handshake(
  opts: tls.ConnectionOptions,
): Promise<{ ok: boolean; error?: string; peer?: tls.PeerCertificate; protocol?: string | null }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: "127.0.0.1", port: w.pve.port, ...opts }, () => {
      const res = { ok: true, peer: s.getPeerCertificate(), protocol: s.getProtocol() };
      s.end();
      resolve(res);
    });
    s.on("error", (e) => resolve({ ok: false, error: e.message }));
  });
}

test("the node certificate: signed by the throwaway CA, SANs 127.0.0.1 and localhost, fingerprint as exposed", async () => {
  const ca = new X509Certificate(fs.readFileSync(w.pve.caFile));
  const cert = new X509Certificate(fs.readFileSync(w.pve.certFile));
  expect(ca.ca).toBe(true);
  expect(cert.ca).toBe(false);
  expect(cert.checkIssued(ca)).toBe(true);
  expect(cert.verify(ca.publicKey)).toBe(true);
  expect(cert.subjectAltName).toBe("IP Address:127.0.0.1, DNS:localhost");
  expect(w.pve.fingerprint256).toBe(cert.fingerprint256);
  expect(path.basename(w.pve.caFile)).toBe("pve-root-ca.pem");
});

test("verification: with the CA it succeeds for 127.0.0.1 and localhost; without it, it fails; TLS 1.2 is refused", async () => {
  const ca = fs.readFileSync(w.pve.caFile);
  const good = await handshake({ ca });
  expect(good).toMatchObject({ ok: true, protocol: "TLSv1.3" });
  expect(good.peer?.fingerprint256).toBe(w.pve.fingerprint256);
  expect((await handshake({ ca, servername: "localhost" })).ok).toBe(true);
  const unknown = await handshake({});
  expect(unknown.ok).toBe(false);
  expect(unknown.error).toMatch(/unable to (get local issuer|verify the first) certificate/);
  expect((await handshake({ ca, servername: "pve.example" })).error).toMatch(/Hostname\/IP does not match/);
  expect((await handshake({ ca, maxVersion: "TLSv1.2" })).ok).toBe(false);
});

test("the standalone launcher prints its URL, CA and fingerprint, answers, and stops on SIGTERM", async () => {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, "..", "run.js"), "--node", "pve1", "--version", "9.1.1"],
    {
      env: { ...process.env, PVE_DOUBLE_ROOT_PASSWORD: ROOT_PASSWORD },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out.split("\n")[0]);
      });
      child.on("exit", (code) => reject(new Error(`run.js exited ${code}`)));
    });
    const info = JSON.parse(line);
    expect(info).toMatchObject({
      url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/$/),
      fingerprint256: expect.any(String),
    });
    const c = new PveClient(info.url, fs.readFileSync(info.caFile));
    expect((await c.login("root@pam", ROOT_PASSWORD)).status).toBe(200);
    expect((await c.call("GET", "/version")).body.data.version).toBe("9.1.1");
    expect((await c.call("GET", "/nodes")).body.data.map((n: any) => n.node)).toEqual(["pve1"]);
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(fs.existsSync(info.stateDir)).toBe(false);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}, 30000);

test("an https client without the CA cannot talk to the double (no silent insecure default)", async () => {
  const err = await new Promise<string>((resolve) => {
    https
      .get(`${w.pve.url}api2/json/version`, { agent: false }, () => resolve("connected"))
      .on("error", (e) => resolve(e.message));
  });
  expect(err).not.toBe("connected");
});
