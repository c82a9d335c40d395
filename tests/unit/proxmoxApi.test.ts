/**
 * The program's own API client (components/lib/proxmoxApi.ts) on what the Proxmox double does not do: the CA files Go
 * reads when SSL_CERT_FILE/SSL_CERT_DIR are unset, every kind of /cluster/resources entry, and the network failing
 * (no answer, a refused read, a connection cut mid-answer). Logging in and reading a real-shaped cluster through the
 * double is tests/unit/placement.test.ts's.
 */
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  ApiLogin,
  ApiUnreachable,
  clusterView,
  goSystemRoots,
  readCluster,
  requestError,
} from "../../components/lib/proxmoxApi";
import { makeNodeCerts } from "../pve-double/tls";

const pem = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`;

describe("the CA files Go trusts (crypto/x509 root_linux.go:10-23)", () => {
  afterEach(() => jest.restoreAllMocks());

  /** node:fs itself, whose functions the module's namespace import reads at each call (spyOn needs the real object). */
  const nodeFs = jest.requireActual<typeof fs>("node:fs");

  /** Every file and directory goSystemRoots tries to read, with only `exists` there. */
  function tried(env: NodeJS.ProcessEnv, exists: Record<string, string>) {
    const files: string[] = [];
    const dirs: string[] = [];
    const missing = (p: string) => Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
    jest.spyOn(nodeFs, "readFileSync").mockImplementation(((p: string) => {
      files.push(p);
      if (p in exists) return exists[p];
      throw missing(p);
    }) as typeof fs.readFileSync);
    jest.spyOn(nodeFs, "readdirSync").mockImplementation(((p: string) => {
      dirs.push(p);
      throw missing(p);
    }) as typeof fs.readdirSync);
    return { roots: goSystemRoots(env), files, dirs };
  }

  test("without SSL_CERT_FILE: the distributions' bundles in Go's order, up to the first that exists", () => {
    const alpine = pem("alpine");
    const { roots, files } = tried({ SSL_CERT_DIR: "/nowhere" }, { "/etc/ssl/cert.pem": alpine });
    expect(files).toEqual([
      "/etc/ssl/certs/ca-certificates.crt",
      "/etc/pki/tls/certs/ca-bundle.crt",
      "/etc/ssl/ca-bundle.pem",
      "/etc/pki/tls/cacert.pem",
      "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
      "/etc/ssl/cert.pem",
    ]);
    expect(roots).toEqual([alpine]);
  });

  test("the first bundle found ends the search: Debian's, not also Alpine's", () => {
    const debian = pem("debian");
    const { roots, files } = tried(
      { SSL_CERT_DIR: "/nowhere" },
      { "/etc/ssl/certs/ca-certificates.crt": debian, "/etc/ssl/cert.pem": pem("alpine") },
    );
    expect(files).toEqual(["/etc/ssl/certs/ca-certificates.crt"]);
    expect(roots).toEqual([debian]);
  });

  test("without SSL_CERT_DIR: Go's two default directories", () => {
    expect(tried({ SSL_CERT_FILE: "/none.crt" }, {}).dirs).toEqual(["/etc/ssl/certs", "/etc/pki/tls/certs"]);
  });

  test("SSL_CERT_DIR: every file of every listed directory, hash links and duplicates counted once", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "roots-"));
    try {
      const [a, b, c] = ["a", "b", "c"].map((d) => path.join(tmp, d));
      [a, b, c].forEach((d) => fs.mkdirSync(d));
      fs.writeFileSync(path.join(a, "node.pem"), pem("node"));
      fs.symlinkSync("node.pem", path.join(a, "1a2b3c4d.0")); // c_rehash's link, inside the directory
      fs.writeFileSync(path.join(tmp, "elsewhere.pem"), pem("elsewhere"));
      fs.symlinkSync(path.join(tmp, "elsewhere.pem"), path.join(b, "elsewhere.pem")); // a link out of it is read
      fs.writeFileSync(path.join(c, "node-again.pem"), pem("node"));
      fs.mkdirSync(path.join(c, "sub")); // not a file: skipped
      expect(
        goSystemRoots({ SSL_CERT_FILE: path.join(tmp, "none.crt"), SSL_CERT_DIR: `${a}:${b}:${c}` }),
      ).toEqual([pem("node"), pem("elsewhere")]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe("what /cluster/resources lists (pve-manager PVE/API2/Cluster.pm:534-726)", () => {
  test("guests of both types and nodes are kept; pools, storages and SDN entries, which name a node too, are not", () => {
    // One entry of each type, in Cluster.pm's order (pool, vm, node, storage, sdn, network), shaped as
    // extract_vm_stats/extract_node_stats/extract_storage_stats and the sdn code write them.
    const view = clusterView([
      { id: "/pool/homelab", pool: "homelab", type: "pool" },
      { id: "qemu/120", vmid: 120, node: "pve2", type: "qemu", status: "stopped", name: "win" },
      { id: "lxc/330", vmid: 330, node: "pve1", type: "lxc", status: "running", hastate: "started" },
      { id: "lxc/331", vmid: 331, node: "pve3", type: "lxc", status: "unknown" },
      { id: "node/pve1", node: "pve1", type: "node", status: "online" },
      { id: "node/pve3", node: "pve3", type: "node", status: "offline" },
      { id: "storage/pve1/local", storage: "local", node: "pve1", type: "storage", status: "available" },
      { id: "sdn/pve1/localnetwork", sdn: "localnetwork", node: "pve1", type: "sdn", status: "ok" },
      {
        id: "network/pve1/localnetwork/vmbr0",
        network: "vmbr0",
        node: "pve1",
        type: "network",
        status: "ok",
      },
    ]);
    expect(view).toEqual({
      guests: [
        { vmid: 120, node: "pve2", type: "qemu", status: "stopped" },
        { vmid: 330, node: "pve1", type: "lxc", status: "running", hastate: "started" },
        { vmid: 331, node: "pve3", type: "lxc", status: "unknown" },
      ],
      nodes: { pve1: "online", pve3: "offline" },
    });
  });
});

describe("a failed request's error", () => {
  const origin = "https://pve1.lan:8006";
  const err = (code: string | undefined, message: string) => Object.assign(new Error(message), { code });

  test.each([
    ["ECONNREFUSED", "nothing listens on the port (pveproxy stopped)"],
    ["EHOSTUNREACH", "the node is off or fenced, on the LAN"],
    ["ENETUNREACH", "no route to its network"],
    ["ENOTFOUND", "its name does not resolve"],
    ["EAI_AGAIN", "no DNS server answered"],
    ["ETIMEDOUT", "no answer in time"],
  ])("%s (%s): the API is out of reach, named with the code", (code) => {
    const e = requestError(origin, err(code, "connect failed"));
    expect(e).toBeInstanceOf(ApiUnreachable);
    expect(e.message).toBe(`${origin}: ${code} connect failed`);
  });

  test("a TLS refusal is an error, not 'out of reach': a preview must not go on past it", () => {
    const e = requestError(
      origin,
      err("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain"),
    );
    expect(e).not.toBeInstanceOf(ApiUnreachable);
    expect(e.message).toBe(
      `${origin}: SELF_SIGNED_CERT_IN_CHAIN self-signed certificate in certificate chain`,
    );
  });

  test("an error without a code: the endpoint and the message alone", () => {
    const e = requestError(origin, err(undefined, "socket hang up"));
    expect(e).not.toBeInstanceOf(ApiUnreachable);
    expect(e.message).toBe(`${origin}: socket hang up`);
  });
});

describe("the network failing under the client", () => {
  const login = (port: number): ApiLogin => ({
    endpoint: `https://127.0.0.1:${port}`,
    insecure: true,
    username: "root@pam",
    password: "pw-9c1e",
  });
  const listen = async (server: net.Server) => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  };

  test("a node that takes the connection and never answers: out of reach after the timeout", async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s)); // no TLS handshake, no answer
    try {
      const e = await readCluster(login(await listen(server)), { timeoutMs: 200 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ApiUnreachable);
      expect(String(e)).toMatch(/^Error: https:\/\/127\.0\.0\.1:\d+: ETIMEDOUT timed out$/);
    } finally {
      sockets.forEach((s) => s.destroy());
      server.close();
    }
  });

  describe("an API that answers the login and then fails the read", () => {
    let tmp: string;
    let server: https.Server;
    let port: number;
    let read: (res: import("node:http").ServerResponse) => void;

    beforeAll(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "api-"));
      const certs = makeNodeCerts(tmp);
      server = https.createServer(
        { key: fs.readFileSync(certs.keyFile), cert: fs.readFileSync(certs.certFile) },
        (req, res) => {
          if (req.method === "POST" && req.url === "/api2/json/access/ticket") {
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ data: { ticket: "PVE:root@pam:0::sig", username: "root@pam" } }));
          } else if (req.url === "/api2/json/cluster/resources") read(res);
          else res.writeHead(404).end();
        },
      );
      port = await listen(server);
    });
    afterAll(() => {
      server.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("an answer other than 200: refused, the status and reason named", async () => {
      read = (res) => res.writeHead(500, "pmxcfs not mounted").end();
      const e = await readCluster(login(port)).catch((x: unknown) => x);
      expect(e).not.toBeInstanceOf(ApiUnreachable);
      expect(String(e)).toBe(
        `Error: GET /cluster/resources at https://127.0.0.1:${port}/ failed: HTTP 500 pmxcfs not mounted`,
      );
    });

    test("the connection cut in the middle of the answer: an error naming the endpoint, not a hang", async () => {
      read = (res) => {
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "1000" });
        res.write('{"data":[');
        setTimeout(() => res.socket?.destroy(), 20);
      };
      const e = await readCluster(login(port)).catch((x: unknown) => x);
      expect(e).not.toBeInstanceOf(ApiUnreachable);
      expect(String(e)).toBe(`Error: https://127.0.0.1:${port}: ECONNRESET aborted`);
    });
  });
});
