/**
 * The engine tier's `lxcs` stack: the homelab's shape (one LXC with the state mount, two bulk mounts and raw lxc.*
 * lines, one Telegram agent on the stand-in image) deployed by the real CLI, language host and command, docker and
 * proxmoxve plugins against the Proxmox VE API double (tests/pve-double) on the system tier's real LXC. The stack
 * file sets only what a user sets: the endpoint, `insecure`, the node's address, port and host key, paths, sizes.
 *
 * Each step is counted from the engine's events, the double's request log (API writes: every request but GET and
 * the login) and the real CT; the table is printed at the end. PVE version: ENGINE_PVE_VERSION (default 8.4.14).
 *
 * The stand-in image reaches the LXC's Docker through a real pull, from a registry (standin-registry.py) that this
 * test runs inside the LXC's network namespace on 127.0.0.1:5000 (no registry is reachable from this machine).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PveClient } from "../pve-double/contract/client";
import { RunningDouble, startDouble } from "../pve-double/double";
import { LxcBackend } from "../pve-double/lxcBackend";
import { templateFromRootfs, TemplateServer, Template } from "../pve-double/templateServer";
import { RUNTIME, systemEnv } from "../system/harness";
import { EngineWorld, StepReport } from "./engineWorld";
import { inCt, lxcStackFile, RegistryKeeper, saveStandinImages } from "./lxcWorld";
import { hashFiles, noTask, RequestLog, summarizeWrites } from "./pveWorld";

const env = systemEnv();
const NODE = env.file.pveNode;
const VMID = env.vmid * 10 + 1;
const CT_IP = `${env.file.netPrefix}.21`;
const LXC = "hermes";
const AGENT = "hermes";
const CONTAINER = `hermes-${AGENT}`;
const PVE_VERSION = process.env.ENGINE_PVE_VERSION ?? "8.4.14";
const dirs = {
  state: path.join(RUNTIME, "lxc-state"),
  hdd: path.join(RUNTIME, "lxc-hdd"),
  fast: path.join(RUNTIME, "lxc-2tb"),
  ssd: path.join(RUNTIME, "lxc-ssd"),
};
const canary = (what: string) => `canary-${what}-${randomBytes(8).toString("hex")}`;
const secrets = {
  proxmoxPassword: canary("pve"),
  llmApiKey: canary("llm"),
  telegramBotToken: `123456:${canary("telegram")}`,
  rotatedToken: `654321:${canary("rotated")}`,
};

let world: EngineWorld;
let pve: RunningDouble;
let template: Template;
const templates = new TemplateServer();
let templateBase = "";
let log: RequestLog;
/** Request-log lines written before this file's double started (other files share the runtime directory). */
let logStart = 0;

interface Row {
  step: string;
  report?: StepReport;
  apiWrites: string[];
  seconds: number;
  ctUptime?: number;
  containerId: string;
  starts: number;
}
const rows: Row[] = [];

const inCtHere = (cmd: string) => inCt(pve.layout.lxcPath, VMID, cmd);
async function ctStatus(): Promise<{ running: boolean; pid?: number; uptime?: number }> {
  return pve.backend.status({ node: NODE, vmid: VMID });
}
const containerId = () => inCtHere(`docker inspect -f '{{.Id}}' ${CONTAINER} 2>/dev/null`) || "none";
const startsBetween = (since: number, until: number) => {
  const out = inCtHere(
    `docker events --since ${since} --until ${until} --filter container=${CONTAINER} --filter event=start --format '{{.Time}}'`,
  );
  return out === "" ? 0 : out.split("\n").length;
};

// The stand-in registry, inside whatever CT currently has the vmid (a reboot or a replacement makes a new netns).
const imageDir = path.join(RUNTIME, "standin-image");
const registry = new RegistryKeeper(imageDir, () => ctStatus());

// The stack file: what a user writes (the endpoint, insecure, the node, paths, sizes).
const stackFile = (): string =>
  lxcStackFile({
    pveUrl: pve.url,
    knownHostsDir: path.join(world.root, "known_hosts"),
    lxc: LXC,
    vmid: VMID,
    ctIp: CT_IP,
    templateUrl: templates.url(templateBase, template.name),
    templateSha512: template.sha512,
    dirs,
    agents: [{ name: AGENT, imageTag: "local", memoryMb: 1536 }],
  });
const lxcConfig = (c: Record<string, unknown>) =>
  (c["hermes-lxc:lxcs"] as Record<string, Record<string, unknown>>)[LXC];

// ---------------------------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------------------------
const requestCount = () => log.count();
const writesSince = (n: number) => log.writesSince(n);

async function step(name: string, run: () => Promise<StepReport | undefined>): Promise<Row> {
  const since = Math.floor(Date.now() / 1000);
  const n = requestCount();
  const started = Date.now();
  let report: StepReport | undefined;
  try {
    report = await run();
  } finally {
    const seconds = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1100));
    const st = await ctStatus();
    rows.push({
      step: name,
      report,
      apiWrites: writesSince(n),
      seconds,
      ctUptime: st.uptime,
      containerId: containerId().slice(0, 12),
      starts: st.running ? startsBetween(since, Math.floor(Date.now() / 1000) + 1) : 0,
    });
  }
  return rows[rows.length - 1];
}

/** Hashes of the user's files (the agent's memories and database, a bulk file). */
const userData = () =>
  hashFiles(RUNTIME, [
    path.join(dirs.state, AGENT, "memories", "MEMORY.md"),
    path.join(dirs.state, AGENT, "state.db"),
    path.join(dirs.hdd, "notes.txt"),
    path.join(dirs.fast, "media.bin"),
  ]);

const healthy = /healthy hermes-hermes: gateway running \(pid \d+\); platforms: .*telegram=connected/;

beforeAll(
  async () => {
    await saveStandinImages(imageDir);
    template = templateFromRootfs(env.file.rootfsTarball);
    templates.add(template.name, template.file);
    templateBase = await templates.start();
    pve = await startDouble({
      rootPassword: secrets.proxmoxPassword,
      stateDir: RUNTIME,
      nodes: [{ name: NODE }],
      backend: new LxcBackend(),
      version: PVE_VERSION,
    });
    log = new RequestLog(pve.requestLog);
    logStart = requestCount();
    registry.start();
    world = new EngineWorld("lxc", "");
    fs.writeFileSync(path.join(world.project, "Pulumi.lxc.yaml"), stackFile());
    world.cli(["stack", "init", "lxc", "--secrets-provider", "passphrase"]);
    world.setSecret("proxmoxPassword", secrets.proxmoxPassword);
    world.setSecret(`agentSecrets.${AGENT}.llmApiKey`, secrets.llmApiKey);
    world.setSecret(`agentSecrets.${AGENT}.telegramBotToken`, secrets.telegramBotToken);
  },
  20 * 60 * 1000,
);

afterAll(async () => {
  process.stderr.write(
    `\nengine tier, lxcs stack (PVE double ${PVE_VERSION}, real LXC):\n` +
      "| step | resources changed | remote commands run | API writes | LXC uptime | gateway container | starts | wall time |\n" +
      "|---|---|---|---|---|---|---|---|\n" +
      rows
        .map(
          (r) =>
            `| ${r.step} | ${r.report ? `${r.report.changed.length} ${JSON.stringify(r.report.ops)}` : "failed"} | ${r.report?.commandRuns ?? "-"} | ${r.apiWrites.length}${r.apiWrites.length ? ` (${summarizeWrites(r.apiWrites)})` : ""} | ${r.ctUptime ?? "-"} s | ${r.containerId} | ${r.starts} | ${r.seconds.toFixed(1)} s |`,
        )
        .join("\n") +
      "\n",
  );
  registry.stop();
  if (process.env.ENGINE_TIER_KEEP !== "1") {
    // Whatever a failed run left: the CT goes (protection off first), the host directories are the test's own.
    if (
      (await ctStatus().catch(() => ({ running: false }))).running ||
      fs.existsSync(path.join(RUNTIME, "lxc", String(VMID)))
    ) {
      const conf = pve.layout.confPath(NODE, VMID);
      if (fs.existsSync(conf))
        fs.writeFileSync(conf, fs.readFileSync(conf, "utf8").replace(/^protection: 1\n/m, ""));
      await pve.backend.stop({ node: NODE, vmid: VMID }, noTask()).catch(() => undefined);
      await pve.backend.destroy({ node: NODE, vmid: VMID }, [], noTask()).catch(() => undefined);
      fs.rmSync(conf, { force: true });
    }
    for (const d of Object.values(dirs)) fs.rmSync(d, { recursive: true, force: true });
    world?.remove();
  }
  await pve?.stop();
  await templates.close();
});

describe(`an lxcs stack under the real engine, against the PVE double ${PVE_VERSION} on real LXC`, () => {
  it("first up: template, container, host dirs owned by 110000, Docker inside, gateway healthy", async () => {
    const row = await step("first up", () => world.up());
    const r = row.report!;
    expect(Object.keys(r.ops).filter((op) => op !== "create")).toEqual([]);
    expect(r.changed).toContain(`proxmoxve:download/file:File ${LXC}-template create`);
    expect(r.changed).toContain(`proxmoxve:index/containerLegacy:ContainerLegacy ${LXC}-ct create`);
    expect(fs.existsSync(path.join(pve.layout.templateDir(NODE, "local"), template.name))).toBe(true);
    expect((await ctStatus()).running).toBe(true);
    for (const d of [dirs.state, dirs.hdd, dirs.fast]) {
      const st = fs.statSync(d);
      expect([st.uid, st.gid, (st.mode & 0o777).toString(8)]).toEqual([110000, 110000, "750"]);
    }
    // The create body as the provider sent it, and the raw line applied by the node-side script at start.
    const create = JSON.parse(
      fs
        .readFileSync(pve.requestLog, "utf8")
        .split("\n")
        .filter(Boolean)
        .slice(logStart)
        .find((l) => /"POST","path":"\/api2\/json\/nodes\/[^/]+\/lxc"/.test(l))!,
    ) as { params: Record<string, string> };
    // §6 finding 6: against PVE >= 9.1 the provider adds host-managed=0 to net0 (capabilities.go:30-32); older
    // releases refuse that key, so the same stack must send it only there.
    const wantsHostManaged = Number(PVE_VERSION.split(".")[0]) > 9 || /^9\.([1-9]|\d\d)/.test(PVE_VERSION);
    expect(create.params.net0.includes("host-managed=0")).toBe(wantsHostManaged);
    expect(create.params.net0).toMatch(
      new RegExp(`^bridge=${env.file.bridge},.*ip=${CT_IP.replace(/\./g, "\\.")}/24,gw=`),
    );
    expect(fs.readFileSync(path.join(pve.layout.lxcPath, String(VMID), "config"), "utf8")).toContain(
      "lxc.environment = HERMES_TIER=engine",
    );
    expect(inCtHere("docker info --format '{{.ServerVersion}}'")).toMatch(/^\d+\./);
    expect(r.output).toMatch(healthy);
    expect(inCtHere(`docker inspect -f '{{.State.Running}}' ${CONTAINER}`)).toBe("true");
    // The user's data, as the agent and the user would write it (uid 10000 in the CT = 110000 here).
    const owned = (p: string, content: string | Buffer) => {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
      fs.chownSync(p, env.ownerId, env.ownerId);
    };
    owned(path.join(dirs.state, AGENT, "memories", "MEMORY.md"), "the user likes tea\n");
    owned(path.join(dirs.state, AGENT, "state.db"), randomBytes(4096));
    owned(path.join(dirs.hdd, "notes.txt"), "bulk data\n");
    owned(path.join(dirs.fast, "media.bin"), randomBytes(8192));
  });

  it("a no-op up: 0 changed, 0 remote commands, 0 API writes", async () => {
    const before = containerId();
    const row = await step("no-op up", () => world.up());
    expect(row.report!.changed).toEqual([]);
    expect(row.report!.commandRuns).toBe(0);
    expect(row.apiWrites).toEqual([]);
    expect(containerId()).toBe(before);
    expect(row.starts).toBe(0);
  });

  it("refresh, then up: 0 changed, 0 remote commands, 0 API writes", async () => {
    const refresh = await step("refresh", () => world.refresh());
    expect(refresh.apiWrites).toEqual([]);
    const row = await step("up after refresh", () => world.up());
    expect(row.report!.changed).toEqual([]);
    expect(row.report!.commandRuns).toBe(0);
    expect(row.apiWrites).toEqual([]);
  });

  it("a bot-token rotation: no replacement, one gateway restart, no API write", async () => {
    const before = containerId();
    const data = userData();
    world.setSecret(`agentSecrets.${AGENT}.telegramBotToken`, secrets.rotatedToken);
    const row = await step("token rotation", () => world.up());
    expect(row.report!.ops.replace ?? 0).toBe(0);
    expect(containerId()).toBe(before);
    expect(row.starts).toBe(1);
    expect(row.apiWrites).toEqual([]);
    expect(fs.readFileSync(path.join(dirs.state, AGENT, ".env"), "utf8")).toContain(secrets.rotatedToken);
    expect(userData()).toEqual(data);
  });

  it("a cores change: one PUT, in place, no reboot", async () => {
    const uptime = (await ctStatus()).uptime!;
    world.editStackFile((c) => (lxcConfig(c).cores = 3));
    const row = await step("cores 2 -> 3", () => world.up());
    expect(row.report!.changed).toEqual([`proxmoxve:index/containerLegacy:ContainerLegacy ${LXC}-ct update`]);
    expect(row.report!.commandRuns).toBe(0);
    expect(row.apiWrites.map((w) => w.replace(/\/nodes\/[^/]+/, ""))).toEqual([`PUT /lxc/${VMID}/config`]);
    expect(row.ctUptime!).toBeGreaterThanOrEqual(uptime);
    expect(row.starts).toBe(0);
  });

  it("a memoryMb change: the provider reboots the LXC (Proxmox would hot-plug it); the gateway comes back", async () => {
    const uptime = (await ctStatus()).uptime!;
    world.editStackFile((c) => (lxcConfig(c).memoryMb = 2560));
    const row = await step("memoryMb 2048 -> 2560", () => world.up());
    expect(row.report!.changed).toEqual([`proxmoxve:index/containerLegacy:ContainerLegacy ${LXC}-ct update`]);
    expect(row.apiWrites.map((w) => w.replace(/\/nodes\/[^/]+/, ""))).toEqual([
      `PUT /lxc/${VMID}/config`,
      `POST /lxc/${VMID}/status/reboot`,
    ]);
    expect(row.ctUptime!).toBeLessThan(uptime);
    // Docker's restart policy brings the gateway back after the LXC's boot.
    let running = "";
    for (let i = 0; i < 90 && running !== "true"; i++) {
      running = inCtHere(`docker inspect -f '{{.State.Running}}' ${CONTAINER} 2>/dev/null`);
      if (running !== "true") await new Promise((r) => setTimeout(r, 1000));
    }
    expect(running).toBe("true");
  });

  it("§6.1/§6.2: growing the rootfs with protection on fails half-way and stores the planned size; refresh, then up, is clean", async () => {
    world.editStackFile((c) => ((lxcConfig(c).rootfs as Record<string, unknown>).sizeGb = 10));
    let failure: Error | undefined;
    const row = await step("rootfs 8 -> 10 GB, protect on", () =>
      world.up().catch((e: Error) => {
        failure = e;
        return undefined;
      }),
    );
    expect(failure?.message).toContain(`can't update CT ${VMID} drive 'rootfs' - protection mode enabled`);
    // Half-way: the resize went through (it does not check protection), the config update did not.
    expect(row.apiWrites.map((w) => w.replace(/\/nodes\/[^/]+/, ""))).toEqual([
      `PUT /lxc/${VMID}/resize`,
      `PUT /lxc/${VMID}/config`,
    ]);
    expect(fs.readFileSync(pve.layout.confPath(NODE, VMID), "utf8")).toMatch(/^rootfs: .*size=10G/m);
    // §6.2: the failed update still wrote the planned values into the state.
    const state = JSON.parse(world.cli(["stack", "export", "--stack", "lxc"])) as {
      deployment: { resources: Array<{ type: string; outputs?: { disk?: { size?: number } } }> };
    };
    const ctState = state.deployment.resources.find(
      (r) => r.type === "proxmoxve:index/containerLegacy:ContainerLegacy",
    );
    expect(ctState?.outputs?.disk?.size).toBe(10);
    // What the README tells the user to run then: `pulumi refresh` (reads what the node really has), then `pulumi up`.
    await step("refresh after the failed grow", () => world.refresh());
    const after = await step("up after that refresh", () => world.up());
    expect(after.report!.changed).toEqual([]);
    expect(after.apiWrites).toEqual([]);
  });

  it("§6.3: a storage-listing error during refresh drops the template from state; the preview plans its create only (the CT ignores its template once made); up with the checksum re-adopts it", async () => {
    const dir = pve.layout.templateDir(NODE, "local");
    const aside = `${dir}.offline`;
    // The storage goes away under the node (a NAS that is down): listing its content fails.
    fs.renameSync(dir, aside);
    fs.writeFileSync(dir, "not a directory\n");
    let refresh: Row;
    try {
      refresh = await step("refresh, storage listing failing", () => world.refresh());
    } finally {
      fs.rmSync(dir, { force: true });
      fs.renameSync(aside, dir);
    }
    expect(refresh.apiWrites).toEqual([]);
    const exported = JSON.parse(world.cli(["stack", "export", "--stack", "lxc"])) as {
      deployment: { resources: Array<{ type: string }> };
    };
    expect(exported.deployment.resources.map((r) => r.type)).not.toContain("proxmoxve:download/file:File");
    expect(refresh.report!.output).toContain(
      "The file does not exist in datastore and resource must be recreated.",
    );
    // Before the container ignored its template input (CT_INPUTS_NOT_READ_BACK, components/placement.ts: Proxmox
    // cannot report it), this preview planned a replacement of the CT, which protect refused; now the dropped template
    // plans its own create and nothing else.
    const preview = await world.preview();
    expect(Object.entries(preview.changeSummary).filter(([op]) => op !== "same")).toEqual([["create", 1]]);
    const pid = (await ctStatus()).pid;
    const row = await step("up: template re-adopted", () => world.up());
    expect(row.report!.changed).toEqual([`proxmoxve:download/file:File ${LXC}-template create`]);
    expect(
      row.apiWrites.map((w) => w.replace(/\/nodes\/[^/]+/, "").replace(/\/tasks\/.*/, "/tasks")),
    ).toEqual(["POST /storage/local/download-url"]);
    expect((await ctStatus()).pid).toBe(pid);
  });

  it("protect off, then a new bulk mount: the LXC is replaced, the host data untouched, the gateway healthy again", async () => {
    const data = userData();
    world.editStackFile((c) => (lxcConfig(c).protect = false));
    const off = await step("protect: false", () => world.up());
    expect(off.apiWrites.map((w) => w.replace(/\/nodes\/[^/]+/, ""))).toEqual([`PUT /lxc/${VMID}/config`]);
    fs.mkdirSync(dirs.ssd, { recursive: true });
    world.editStackFile((c) =>
      (lxcConfig(c).mounts as unknown[]).push({
        hostPath: dirs.ssd,
        containerPath: "/ssd",
        onSeparateDisk: false,
      }),
    );
    const before = (await ctStatus()).pid;
    const row = await step("new bulk mount", () => world.up());
    expect(row.report!.changed).toContain(
      `proxmoxve:index/containerLegacy:ContainerLegacy ${LXC}-ct replace`,
    );
    expect((await ctStatus()).pid).not.toBe(before);
    expect(row.report!.output).toMatch(healthy);
    expect(userData()).toEqual(data);
    expect(inCtHere("cat /srv/hermes/hermes/memories/MEMORY.md")).toBe("the user likes tea");
    expect(inCtHere("cat /data/notes.txt")).toBe("bulk data");
  });

  it("§6.4: protection set on the node outside Pulumi: destroy stops the LXC, then fails, leaving it stopped", async () => {
    // A click in the web UI (PUT protection=1), not through the stack.
    const ui = new PveClient(pve.url, fs.readFileSync(pve.caFile));
    expect((await ui.login("root@pam", secrets.proxmoxPassword)).status).toBe(200);
    expect((await ui.call("PUT", `/nodes/${NODE}/lxc/${VMID}/config`, { protection: 1 })).status).toBe(200);
    let failure: Error | undefined;
    const row = await step("destroy, node protection on", () =>
      world.destroy().catch((e: Error) => {
        failure = e;
        return undefined;
      }),
    );
    expect(failure?.message).toContain(`can't remove CT ${VMID} - protection mode enabled`);
    expect(row.apiWrites.map((w) => w.replace(/\/nodes\/[^/]+/, ""))).toEqual([
      `POST /lxc/${VMID}/status/shutdown`,
      `DELETE /lxc/${VMID}`,
      `DELETE /lxc/${VMID}`,
      `DELETE /lxc/${VMID}`,
    ]);
    expect((await ctStatus()).running).toBe(false);
    expect(fs.existsSync(pve.layout.confPath(NODE, VMID))).toBe(true);
    // What the README says to run: refresh (reads protection=1 and stopped), up (turns it off, starts the LXC).
    await step("refresh after the failed destroy", () => world.refresh());
    const fixed = await step("up: protection off again", () => world.up());
    expect(fixed.apiWrites.map((w) => w.replace(/\/nodes\/[^/]+/, ""))).toContain(`PUT /lxc/${VMID}/config`);
  });

  it("destroy: the container is gone; the template and every host directory are kept", async () => {
    const data = userData();
    const row = await step("destroy", () => world.destroy());
    expect(row.apiWrites.map((w) => w.replace(/\/nodes\/[^/]+/, ""))).toEqual([
      `POST /lxc/${VMID}/status/shutdown`,
      `DELETE /lxc/${VMID}`,
    ]);
    expect((await ctStatus()).running).toBe(false);
    expect(fs.existsSync(pve.layout.confPath(NODE, VMID))).toBe(false);
    expect(fs.existsSync(path.join(pve.layout.templateDir(NODE, "local"), template.name))).toBe(true);
    for (const d of Object.values(dirs)) expect(fs.existsSync(d)).toBe(true);
    expect(userData()).toEqual(data);
  });

  it("§6.6: the same stack against the other PVE version: host-managed=0 in net0 against 9.1 only, and a no-op up stays a no-op", async () => {
    const other = PVE_VERSION.startsWith("8.") ? "9.1.2" : "8.4.14";
    const port = pve.port;
    await pve.stop();
    pve = await startDouble({
      rootPassword: secrets.proxmoxPassword,
      stateDir: RUNTIME,
      nodes: [{ name: NODE }],
      backend: new LxcBackend(),
      version: other,
      port,
    });
    const n = requestCount();
    const first = await step(`first up, PVE ${other}`, () => world.up());
    expect(first.report!.output).toMatch(healthy);
    const creates = fs
      .readFileSync(pve.requestLog, "utf8")
      .split("\n")
      .filter(Boolean)
      .slice(n)
      .map((l) => JSON.parse(l) as { method: string; path: string; params: Record<string, string> })
      .filter((e) => e.method === "POST" && /\/nodes\/[^/]+\/lxc$/.test(e.path));
    expect(creates).toHaveLength(1);
    expect(creates[0].params.net0.includes("host-managed=0")).toBe(other.startsWith("9."));
    expect((await ctStatus()).running).toBe(true);
    const noop = await step(`no-op up, PVE ${other}`, () => world.up());
    expect(noop.report!.changed).toEqual([]);
    expect(noop.apiWrites).toEqual([]);
    await step(`destroy, PVE ${other}`, () => world.destroy());
    expect(fs.existsSync(pve.layout.confPath(NODE, VMID))).toBe(false);
  });

  it("no secret in the request log, the state or anything the CLI printed", () => {
    const exported = world.cli(["stack", "export", "--stack", "lxc"]);
    const everything = [
      exported,
      fs.readFileSync(pve.requestLog, "utf8"),
      world.transcript.join("\n"),
      ...rows.map((r) => r.report?.output ?? ""),
    ].join("\n");
    const leaked = Object.entries(secrets).filter(([, v]) => everything.includes(v.split(":").pop()!));
    expect(leaked.map(([k]) => k)).toEqual([]);
  });
});
