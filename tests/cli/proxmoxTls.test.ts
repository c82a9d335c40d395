/**
 * The verified TLS channel to the Proxmox API, as the README sets it up, against the Proxmox API double (its own
 * throwaway CA and node certificate, tests/pve-double/tls.ts) and a Go client that connects as the proxmoxve
 * provider does (tls-probe/main.go: the provider's NewConnection transport, Go's system roots).
 *
 * The README's every-shell block exports SSL_CERT_DIR; the node's CA is saved where the README says. Verified: the
 * login reaches the double. The wrong CA, or none: Go refuses before a byte of the password is sent (the double's
 * request log stays empty). The fingerprint route (fetch-keys block) pins the node's own certificate instead.
 * `insecure: true` reaches whoever answers: what the preview's warning is about.
 */
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RunningDouble, startDouble } from "../pve-double/double";
import { commandLines, pulumiCli, readmeBlock } from "./harness";

const PASSWORD = "canary-root-pam-password-7d1e";
let pve: RunningDouble;
let home: string;
let probe: string;

function throwawayCa(dir: string): string {
  const file = path.join(dir, "other-ca.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=Some other CA",
      "-keyout",
      path.join(dir, "other-ca.key"),
      "-out",
      file,
    ],
    { stdio: "ignore" },
  );
  return file;
}

/** bash -c, asynchronously: the double answers from this process's event loop. */
function bash(
  script: string,
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", script], { env, cwd, encoding: "utf8", timeout: 60_000 }, (_e, stdout, stderr) =>
      resolve({ stdout, stderr }),
    );
  });
}

/** Runs the README's every-shell block, then the probe, in a bash with the world's HOME. */
async function login(
  options: { insecure?: boolean; url?: string; env?: Record<string, string> } = {},
): Promise<{ out: string; logins: number }> {
  const before = fs.readFileSync(pve.requestLog, "utf8").split("\n").filter(Boolean).length;
  const shell = commandLines(readmeBlock("every-shell")).join("\n");
  const r = await bash(`${shell}\n"$PROBE" "$URL" "$INSECURE"`, {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    PROBE: probe,
    URL: options.url ?? pve.url,
    INSECURE: String(options.insecure ?? false),
    PROBE_PASSWORD: PASSWORD,
    ...options.env,
  });
  const entries = fs.readFileSync(pve.requestLog, "utf8").split("\n").filter(Boolean).slice(before);
  const logins = entries.filter(
    (e) => /"path":"\/api2\/json\/access\/ticket"/.test(e) && /"status":200/.test(e),
  );
  return { out: `${r.stdout}${r.stderr}`, logins: logins.length };
}

const caDir = () => path.join(home, ".config", "hermes-lxc", "ca");

beforeAll(
  async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-tls-"));
    fs.mkdirSync(caDir(), { recursive: true });
    probe = path.join(home, "tls-probe");
    execFileSync("go", ["build", "-o", probe, path.join(__dirname, "tls-probe", "main.go")], {
      env: {
        ...process.env,
        GOFLAGS: "",
        GOCACHE: process.env.GOCACHE ?? path.join(os.homedir(), ".cache", "go-build"),
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    pve = await startDouble({ rootPassword: PASSWORD });
  },
  5 * 60 * 1000,
);

afterAll(async () => {
  await pve?.stop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

beforeEach(() => {
  for (const f of fs.readdirSync(caDir())) fs.rmSync(path.join(caDir(), f));
});

describe("the Proxmox API over TLS verified against the node's own CA", () => {
  it("without the node's CA saved, the provider's client refuses before sending the password", async () => {
    const r = await login();
    expect(r.out).toMatch(/^error: .*x509: certificate signed by unknown authority/m);
    expect(r.logins).toBe(0);
  });

  it("with the node's CA saved as the README says, the login reaches the node", async () => {
    // "$EDITOR ~/.config/hermes-lxc/ca/<node>.pem: paste the CA certificate" (what the console's cat printed).
    fs.copyFileSync(pve.caFile, path.join(caDir(), "pve.pem"));
    const r = await login();
    expect(r.out).toBe("login: HTTP 200\n");
    expect(r.logins).toBe(1);
  });

  it("any name the certificate carries works as the endpoint (localhost here, 127.0.0.1 above)", async () => {
    fs.copyFileSync(pve.caFile, path.join(caDir(), "pve.pem"));
    expect((await login({ url: pve.url.replace("127.0.0.1", "localhost") })).out).toBe("login: HTTP 200\n");
  });

  it("another CA in its place (an impostor's certificate) is refused", async () => {
    fs.copyFileSync(throwawayCa(home), path.join(caDir(), "pve.pem"));
    const r = await login();
    expect(r.out).toMatch(/^error: .*x509: certificate signed by unknown authority/m);
    expect(r.logins).toBe(0);
  });

  it("SSL_CERT_DIR adds to the system's CA bundle, it does not replace it", async () => {
    // A stand-in for the distribution's bundle (SSL_CERT_FILE, read before the directories): the node's CA there,
    // the README's SSL_CERT_DIR (empty) on top. Go still trusts the bundle.
    const bundle = path.join(home, "bundle.pem");
    fs.copyFileSync(pve.caFile, bundle);
    expect((await login({ env: { SSL_CERT_FILE: bundle } })).out).toBe("login: HTTP 200\n");
  });

  it("the fingerprint route: the README's fetch-keys commands pin the node's certificate, and it verifies", async () => {
    const lines = commandLines(readmeBlock("fetch-keys")).filter(
      (l) => l.startsWith("openssl") || l.startsWith("mv"),
    );
    const port = new URL(pve.url).port;
    const script = lines
      .map((l) =>
        l
          .replace("<node>:8006", `127.0.0.1:${port}`)
          .replace("<node>", "pve")
          .replaceAll("/tmp/", `${home}/`),
      )
      .join("\n");
    const r = await bash(`set -e\n${script}`, { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: home }, home);
    // What the user compares with the console's `openssl x509 -in /etc/pve/local/pve-ssl.pem -fingerprint`.
    expect(r.stdout).toContain(`sha256 Fingerprint=${pve.fingerprint256}`);
    expect(fs.existsSync(path.join(caDir(), "pve.pem"))).toBe(true);
    expect((await login()).out).toBe("login: HTTP 200\n");
  });

  it("insecure: true logs into whoever answers: the password reaches an unverified server", async () => {
    fs.copyFileSync(throwawayCa(home), path.join(caDir(), "pve.pem"));
    const r = await login({ insecure: true });
    expect(r.out).toBe("login: HTTP 200\n");
    expect(r.logins).toBe(1);
  });
});

/**
 * The real provider: the pulumi-resource-proxmoxve plugin (built outside the repository, see tests/engine/README.md)
 * previewing a program whose only work is an invoke that logs in and reads /version. It runs where the plugin is
 * found (the engine tier's toolchain directory) and is reported as skipped elsewhere.
 */
const pluginDir =
  process.env.HERMES_LXC_PULUMI_PLUGINS ??
  path.join(os.homedir(), ".cache", "hermes-lxc", "pulumi-toolchain", "bin");
const plugin = path.join(pluginDir, "pulumi-resource-proxmoxve");
const withPlugin = fs.existsSync(plugin) ? describe : describe.skip;
if (!fs.existsSync(plugin)) console.log(`proxmoxTls: no ${plugin}: the real provider's cases are skipped`);

withPlugin("the real proxmoxve provider against the double", () => {
  let cli: string;
  let work: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(
    async () => {
      cli = pulumiCli();
      work = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-tls-plugin-"));
      const manifest = JSON.parse(
        fs.readFileSync(require.resolve("@muhlba91/pulumi-proxmoxve/package.json"), "utf8"),
      ) as { pulumi: { version: string } };
      env = {
        PATH: `${path.dirname(cli)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: home,
        PULUMI_HOME: path.join(work, "pulumi-home"),
        PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "tls-tier",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        PROXMOX_PASSWORD: PASSWORD,
      };
      fs.mkdirSync(path.join(work, "state"));
      const version = manifest.pulumi.version.replace(/^v/, "");
      execFileSync(cli, ["plugin", "install", "resource", "proxmoxve", version, "--file", plugin], {
        env,
        stdio: "ignore",
      });
    },
    20 * 60 * 1000,
  );

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** The program previewed in a shell that ran the README's every-shell block. */
  async function previewLogin(
    insecure = false,
  ): Promise<{ ok: boolean; version?: string; error?: string; logins: number }> {
    const before = fs.readFileSync(pve.requestLog, "utf8").split("\n").filter(Boolean).length;
    const shell = commandLines(readmeBlock("every-shell")).join("\n");
    const script = `${shell}\nexec node ${JSON.stringify(path.join(__dirname, "proxmox-login.js"))} "$WORK" "$URL" "$INSECURE"`;
    const r = await bash(script, { ...env, WORK: work, URL: pve.url, INSECURE: String(insecure) }, work);
    const entries = fs.readFileSync(pve.requestLog, "utf8").split("\n").filter(Boolean).slice(before);
    const logins = entries.filter(
      (e) => /"path":"\/api2\/json\/access\/ticket"/.test(e) && /"status":200/.test(e),
    );
    const line = r.stdout.trim().split("\n").pop() ?? "";
    try {
      return {
        ...(JSON.parse(line) as { ok: boolean; version?: string; error?: string }),
        logins: logins.length,
      };
    } catch {
      return { ok: false, error: `${r.stdout}${r.stderr}`, logins: logins.length };
    }
  }

  it(
    "verified with the node's CA (insecure: false): the provider logs in and reads the version",
    async () => {
      fs.copyFileSync(pve.caFile, path.join(caDir(), "pve.pem"));
      const r = await previewLogin();
      expect({ ok: r.ok, error: r.error }).toEqual({ ok: true, error: undefined });
      expect(r.logins).toBeGreaterThanOrEqual(1);
    },
    5 * 60 * 1000,
  );

  it(
    "with another CA in its place, the provider refuses the node and never sends the password",
    async () => {
      fs.copyFileSync(throwawayCa(home), path.join(caDir(), "pve.pem"));
      const r = await previewLogin();
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/x509: certificate signed by unknown authority/);
      expect(r.logins).toBe(0);
    },
    5 * 60 * 1000,
  );
});
