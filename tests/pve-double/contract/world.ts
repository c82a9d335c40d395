/**
 * Test world for the contract tests: a double with the simulated backend, a loopback HTTP server serving a
 * template (HEAD and GET, as download.proxmox.com does), host directories for bind mounts, and a logged-in client.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { DoubleOptions, RunningDouble, startDouble } from "../double";
import type { SimulatedBackend } from "../simulatedBackend";
import { PveClient } from "./client";

export const ROOT_PASSWORD = "correct horse battery staple";
export const TEMPLATE = "debian-12-standard_12.12-1_amd64.tar.zst";

export interface World {
  pve: RunningDouble;
  client: PveClient;
  sim: SimulatedBackend;
  node: string;
  /** http://127.0.0.1:<port>/images/system/<TEMPLATE> */
  templateUrl: string;
  templateSha512: string;
  /** Base URL of the template server (paths other than the template answer 404). */
  templateBase: string;
  /** Host directories for mp0..mp2 (exist). */
  binds: string[];
  tmp: string;
  newClient(): PveClient;
  readLog(): Array<Record<string, any>>;
  close(): Promise<void>;
}

export async function makeWorld(opts: Partial<DoubleOptions> = {}): Promise<World> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pve-contract-"));
  const body = Buffer.from(`not really a tarball ${Date.now()}\n`.repeat(100));
  const server = http.createServer((req, res) => {
    if (req.url === `/images/system/${TEMPLATE}`) {
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length });
      res.end(req.method === "HEAD" ? undefined : body);
    } else {
      res.writeHead(404, "Not Found");
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const templateBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pve = await startDouble({
    rootPassword: ROOT_PASSWORD,
    unauthorizedDelayMs: 200,
    ...opts,
    stateDir: path.join(tmp, "state"),
  });
  const ca = fs.readFileSync(pve.caFile);
  const node = (opts.nodes ?? [{ name: "pve" }])[0].name;
  const client = new PveClient(pve.url, ca);
  const stopAll = async () => {
    await pve.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const login = await client.login("root@pam", ROOT_PASSWORD);
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.reason}`);
  } catch (e) {
    await stopAll(); // a world that cannot log in must not keep jest alive
    throw e;
  }
  const binds = ["hermes", "hdd", "2tb"].map((d) => {
    const p = path.join(tmp, "host", d);
    fs.mkdirSync(p, { recursive: true });
    return p;
  });
  return {
    pve,
    client,
    sim: pve.backend as SimulatedBackend,
    node,
    templateUrl: `${templateBase}/images/system/${TEMPLATE}`,
    templateSha512: createHash("sha512").update(body).digest("hex"),
    templateBase,
    binds,
    tmp,
    newClient: () => new PveClient(pve.url, ca),
    readLog: () =>
      fs
        .readFileSync(pve.requestLog, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    close: stopAll,
  };
}

/** Put the template into `local` as a finished download would. */
export function seedTemplate(w: World): void {
  const dir = w.pve.layout.templateDir(w.node, "local");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, TEMPLATE), "seeded template\n");
}
