/**
 * The program's live placement check (components/placement.ts, components/lib/proxmoxApi.ts) against the Proxmox
 * API double: two nodes, a shared storage, an HA CT and a plain CT. The login is verified against the double's CA
 * as the provider's Go client verifies it (SSL_CERT_FILE/SSL_CERT_DIR); the HA manager's moves are the double's
 * (recoverCt, bringNodeBack, failback).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LxcConfig } from "../../components/config/model";
import { ApiLogin, ApiUnreachable, goSystemRoots, readCluster } from "../../components/lib/proxmoxApi";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceHookFunction } from "@pulumi/pulumi";
import {
  adoptionHook,
  checkPlacement,
  clusterReader,
  ctRunsOn,
  placementProblems,
  refuseCreateOverLiveCt,
} from "../../components/placement";
import type { StorageDef } from "../pve-double/layout";
import { createBody } from "../pve-double/contract/fixtures";
import { ROOT_PASSWORD, World, makeWorld, seedTemplate } from "../pve-double/contract/world";

const storages: StorageDef[] = [
  { id: "local", type: "dir", content: ["vztmpl", "iso", "backup", "import"] },
  { id: "ceph", type: "lvmthin", content: ["rootdir", "images"], shared: true },
];
const lxc = (name: string, vmId: number, node: string, ha: boolean) =>
  ({ name, vmId, node, ...(ha ? { ha: { state: "started" } } : {}) }) as unknown as LxcConfig;
const agent = lxc("agent", 330, "pve1", true);
const plain = lxc("plain", 331, "pve1", false);

let w: World;
let env: NodeJS.ProcessEnv;
let login: ApiLogin;

beforeAll(async () => {
  w = await makeWorld({
    nodes: [
      { name: "pve1", storages },
      { name: "pve2", storages },
    ],
    version: "9.1.1",
  });
  seedTemplate(w);
  for (const vmid of [330, 331]) {
    const body: Record<string, string> = {
      ...createBody(vmid, w.binds, true),
      rootfs: "ceph:8",
      protection: "0",
    };
    for (const k of ["mp0", "mp1", "mp2"]) body[k] = `${body[k]},shared=1`;
    const a = await w.client.call("POST", "/nodes/pve1/lxc", body);
    expect((await w.client.waitTask("pve1", a.body.data)).exitstatus).toBe("OK");
    await w.client.waitStatus("pve1", vmid, "running");
  }
  expect((await w.client.call("POST", "/cluster/ha/resources", { sid: "ct:330" })).status).toBe(200);
  const rule = { rule: "hermes-agent", type: "node-affinity", resources: "ct:330", nodes: "pve1:2,pve2:1" };
  expect((await w.client.call("POST", "/cluster/ha/rules", rule)).status).toBe(200);
  // What the README has the user do: the node's CA in SSL_CERT_DIR (here alone, with an empty bundle file).
  const caDir = path.join(w.tmp, "ca");
  fs.mkdirSync(caDir);
  fs.copyFileSync(w.pve.caFile, path.join(caDir, "pve1.pem"));
  fs.writeFileSync(path.join(w.tmp, "empty-bundle.crt"), "");
  env = { SSL_CERT_FILE: path.join(w.tmp, "empty-bundle.crt"), SSL_CERT_DIR: caDir };
  login = { endpoint: w.pve.url, insecure: false, username: "root@pam", password: ROOT_PASSWORD };
});
afterAll(async () => w?.close());

const logins = () => w.readLog().filter((e) => e.path === "/api2/json/access/ticket").length;
const check = (dryRun = false) => checkPlacement([agent, plain], login, { dryRun, env });

describe("reading the cluster as the provider would", () => {
  test("verified TLS with the node's CA: guests with their node and HA state, nodes with their status", async () => {
    const view = await readCluster(login, { env });
    expect(view.guests).toEqual([
      { vmid: 330, node: "pve1", type: "lxc", status: "running", hastate: "started" },
      { vmid: 331, node: "pve1", type: "lxc", status: "running" },
    ]);
    expect(view.nodes).toEqual({ pve1: "online", pve2: "online" });
  });

  test("without the node's CA the TLS handshake fails before the password is sent", async () => {
    const before = logins();
    const empty = { SSL_CERT_FILE: env.SSL_CERT_FILE, SSL_CERT_DIR: path.join(w.tmp, "nothing") };
    const e = await readCluster(login, { env: empty }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(ApiUnreachable);
    expect(String(e)).toMatch(/self[- ]signed|unable to (get|verify)/i);
    expect(logins()).toBe(before);
  });

  test("SSL_CERT_DIR's files and the bundle, as Go reads them", () => {
    const pem = fs.readFileSync(w.pve.caFile, "utf8").trim();
    expect(goSystemRoots(env)).toEqual([pem]);
    expect(goSystemRoots({ SSL_CERT_FILE: w.pve.caFile, SSL_CERT_DIR: path.join(w.tmp, "nothing") })).toEqual(
      [pem],
    );
  });

  test("a wrong password is refused, never repeated", async () => {
    const e = await readCluster({ ...login, password: "not-the-password-d41d" }, { env }).catch(
      (x: unknown) => x,
    );
    expect(String(e)).toMatch(/login as root@pam .* failed: HTTP 401/);
    expect(String(e)).not.toContain("not-the-password-d41d");
  });

  test("an endpoint written without the trailing slash is the same API (the refusal names it with one)", async () => {
    const bare = w.pve.url.replace(/\/$/, "");
    expect((await readCluster({ ...login, endpoint: bare }, { env })).nodes).toEqual({
      pve1: "online",
      pve2: "online",
    });
    const e = await readCluster(
      { ...login, endpoint: bare, password: "not-the-password-d41d" },
      { env },
    ).catch((x: unknown) => x);
    expect(String(e)).toBe(`Error: login as root@pam at ${bare}/ failed: HTTP 401 authentication failure`);
  });

  test("proxmox.insecure: no CA needed, as the provider skips verification too", async () => {
    const noCa = { SSL_CERT_FILE: env.SSL_CERT_FILE, SSL_CERT_DIR: path.join(w.tmp, "nothing") };
    expect((await readCluster({ ...login, insecure: true }, { env: noCa })).nodes).toEqual({
      pve1: "online",
      pve2: "online",
    });
  });
});

describe("the placement check", () => {
  test("both CTs on their configured node: go on", async () => {
    const placements = await check();
    expect(placements.get("agent")).toEqual({ onConfiguredNode: true });
    expect(placements.get("plain")).toEqual({ onConfiguredNode: true });
  });

  test("a CT that does not exist yet: go on (created)", async () => {
    const placements = await checkPlacement([lxc("new", 339, "pve2", false)], login, { dryRun: false, env });
    expect(placements.get("new")).toEqual({ onConfiguredNode: false });
  });

  test("home node down before recovery: refused, the node named offline", async () => {
    w.pve.setNodeOffline("pve1");
    const e = await check().catch((x: unknown) => x);
    expect(String(e)).toContain(
      "lxcs.agent.node: node pve1 is offline and CT 330 is still assigned to it (HA state: fence)",
    );
    w.pve.bringNodeBack("pve1");
  });

  test("after HA relocation: refused with the ha-manager command, or wait for failback", async () => {
    await w.pve.recoverCt(330, "pve2");
    let e = String(await check().catch((x: unknown) => x));
    expect(e).toContain("lxcs.agent.node: is pve1, but CT 330 is on node pve2 (HA state: started)");
    expect(e).toContain("Node pve1 is offline: wait until it is back; HA then moves ct:330 home");
    expect(e).toContain("ha-manager migrate ct:330 pve1");
    expect(e).toContain("Do not run a plain pulumi refresh now");
    w.pve.bringNodeBack("pve1");
    e = String(await check().catch((x: unknown) => x));
    expect(e).toContain(
      "To bring it back to pve1, run: ha-manager migrate ct:330 pve1 (or wait for failback)",
    );
    expect(await w.pve.failback()).toEqual([{ vmid: 330, from: "pve2", to: "pve1" }]);
    expect((await check()).get("agent")).toEqual({ onConfiguredNode: true });
  });

  test("a plain CT migrated by hand: refused with pct migrate, run on the node that holds it", async () => {
    await w.pve.recoverCt(331, "pve2");
    w.pve.bringNodeBack("pve1");
    const e = String(await check().catch((x: unknown) => x));
    expect(e).toContain("lxcs.plain.node: is pve1, but CT 331 is on node pve2.");
    expect(e).toContain("pct migrate 331 pve1 --restart   (on node pve2)");
    expect(e).not.toContain("lxcs.agent");
    // Back home (the move a `pct migrate` makes, through the double's relocation).
    await w.pve.recoverCt(331, "pve1");
    w.pve.bringNodeBack("pve2");
  });

  test("API out of reach: a preview warns and goes on, an update refuses", async () => {
    const closed = { ...login, endpoint: "https://127.0.0.1:1/" };
    const preview = await checkPlacement([agent], closed, { dryRun: true, env });
    expect(preview.get("agent")).toEqual({ onConfiguredNode: false });
    const up = await checkPlacement([agent], closed, { dryRun: false, env }).catch((x: unknown) => x);
    expect(String(up)).toContain("proxmox.endpoint: cannot read where the LXCs run");
    // A TLS failure is not "out of reach": even a preview refuses.
    const badTls = { SSL_CERT_FILE: env.SSL_CERT_FILE, SSL_CERT_DIR: path.join(w.tmp, "nothing") };
    await expect(checkPlacement([agent], login, { dryRun: true, env: badTls })).rejects.toThrow(
      /proxmox.endpoint/,
    );
  });

  test("a VMID held by a VM is refused", () => {
    const view = {
      guests: [{ vmid: 330, node: "pve2", type: "qemu", status: "running" }],
      nodes: { pve1: "online", pve2: "online" },
    };
    expect(placementProblems([agent], view).problems).toEqual([
      "lxcs.agent.vmId: 330 is taken by a qemu guest on node pve2; choose a free VMID.",
    ]);
  });
});

describe("the placement check's advice, from the cluster view alone", () => {
  const away = (hastate?: string, pve1 = "online") => ({
    guests: [{ vmid: 331, node: "pve2", type: "lxc", status: "running", ...(hastate ? { hastate } : {}) }],
    nodes: { pve1, pve2: "online" },
  });

  it("a CT made an HA resource outside the stack is brought home through HA, not with pct migrate", () => {
    const [problem] = placementProblems([plain], away("started")).problems;
    expect(problem).toContain("lxcs.plain.node: is pve1, but CT 331 is on node pve2 (HA state: started).");
    expect(problem).toContain(
      "To bring it back to pve1, run: ha-manager migrate ct:331 pve1 (or wait for failback)",
    );
    expect(problem).not.toContain("pct migrate");
  });

  it("an HA CT the cluster reports no HA state for is still brought home through HA", () => {
    const [problem] = placementProblems([lxc("agent", 331, "pve1", true)], away()).problems;
    expect(problem).toContain("lxcs.agent.node: is pve1, but CT 331 is on node pve2. Do not run");
    expect(problem).toContain("run: ha-manager migrate ct:331 pve1 (or wait for failback)");
  });

  it("a plain CT away from an offline node: wait for the node, then pct migrate from where it is", () => {
    const [problem] = placementProblems([plain], away(undefined, "offline")).problems;
    expect(problem).toContain(
      "from the stack. Node pve1 is offline: wait until it is back. To bring it back to pve1, run: " +
        "pct migrate 331 pve1 --restart   (on node pve2); then pulumi up.",
    );
  });

  it("an HA CT on its offline node with no HA state reported: the state shows as unknown, HA recovers it", () => {
    const view = {
      guests: [{ vmid: 330, node: "pve1", type: "lxc", status: "unknown" }],
      nodes: { pve1: "offline" },
    };
    expect(placementProblems([agent], view).problems).toEqual([
      "lxcs.agent.node: node pve1 is offline and CT 330 is still assigned to it (HA state: unknown). The HA " +
        "manager fences the node and recovers ct:330 on another node (about 2-3 minutes); then this check names " +
        "the command that brings it home. Meanwhile neither pulumi up nor pulumi refresh can read it (the node " +
        "answers 595).",
    ]);
  });

  // The whole text of each refusal: the user runs what it says, so every sentence of it is checked, not a fragment.
  const moved =
    "If you changed lxcs.plain.node on purpose, the stack still records the old node: after the migration run " +
    "pulumi refresh --run-program (it drops only the stale entry; the CT is untouched), then pulumi up, which " +
    "refuses with the one pulumi import command that takes the CT over.";

  it("a plain CT away from its online node: the whole refusal, with no word of an offline node", () => {
    expect(placementProblems([plain], away()).problems).toEqual([
      "lxcs.plain.node: is pve1, but CT 331 is on node pve2. Do not run a plain pulumi refresh now: it would drop " +
        "the container from the stack. To bring it back to pve1, run: pct migrate 331 pve1 --restart   (on node " +
        "pve2); then pulumi up. " +
        moved,
    ]);
  });

  it("a plain CT away from its offline node: the whole refusal", () => {
    expect(placementProblems([plain], away(undefined, "offline")).problems).toEqual([
      "lxcs.plain.node: is pve1, but CT 331 is on node pve2. Do not run a plain pulumi refresh now: it would drop " +
        "the container from the stack. Node pve1 is offline: wait until it is back. To bring it back to pve1, " +
        "run: pct migrate 331 pve1 --restart   (on node pve2); then pulumi up. " +
        moved,
    ]);
  });

  it("an HA CT away from its offline node: the whole refusal, HA's failback and no 'or wait'", () => {
    expect(placementProblems([plain], away("started", "offline")).problems).toEqual([
      "lxcs.plain.node: is pve1, but CT 331 is on node pve2 (HA state: started). Do not run a plain pulumi " +
        "refresh now: it would drop the container from the stack. Node pve1 is offline: wait until it is back; HA " +
        "then moves ct:331 home by itself if failback is on (ha-manager status shows it). To bring it back to " +
        "pve1, run: ha-manager migrate ct:331 pve1; then pulumi up. " +
        moved,
    ]);
  });

  it("a plain CT on its offline node: the whole refusal, bring the node back", () => {
    const view = {
      guests: [{ vmid: 331, node: "pve1", type: "lxc", status: "unknown" }],
      nodes: { pve1: "offline" },
    };
    expect(placementProblems([plain], view).problems).toEqual([
      "lxcs.plain.node: node pve1 is offline and CT 331 is still assigned to it. Bring the node back. Meanwhile " +
        "neither pulumi up nor pulumi refresh can read it (the node answers 595).",
    ]);
  });
});

describe("the placement check's messages, read through a given reader", () => {
  const view = {
    guests: [
      { vmid: 330, node: "pve2", type: "lxc", status: "running" },
      { vmid: 331, node: "pve1", type: "qemu", status: "running" },
    ],
    nodes: { pve1: "online", pve2: "online" },
  };

  it("names every problem, one per line under the stack's name", async () => {
    const read = async () => view;
    const e = await checkPlacement([agent, plain], login, { dryRun: false, read }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(pulumi.RunError);
    const [agentProblem, plainProblem] = placementProblems([agent, plain], view).problems;
    expect((e as Error).message).toBe(
      `stack ${pulumi.getStack()}: an LXC is not where the stack says:\n  - ${agentProblem}\n  - ${plainProblem}`,
    );
    expect(plainProblem).toBe(
      "lxcs.plain.vmId: 331 is taken by a qemu guest on node pve1; choose a free VMID.",
    );
  });

  it("with no LXC it does not read the cluster at all (a Docker-host-only stack needs no API)", async () => {
    const read = jest.fn(async (): Promise<never> => {
      throw new ApiUnreachable("connect ECONNREFUSED 127.0.0.1:1");
    });
    expect(await checkPlacement([], login, { dryRun: false, read })).toEqual(new Map());
    expect(read).not.toHaveBeenCalled();
  });

  it("an update with the API out of reach refuses with the whole message; a preview warns with it", async () => {
    const read = async (): Promise<never> => {
      throw new ApiUnreachable("connect ECONNREFUSED 127.0.0.1:1");
    };
    const up = await checkPlacement([agent], login, { dryRun: false, read }).catch((x: unknown) => x);
    expect(up).toBeInstanceOf(pulumi.RunError);
    expect((up as Error).message).toBe(
      "proxmox.endpoint: cannot read where the LXCs run (connect ECONNREFUSED 127.0.0.1:1). The program checks " +
        "every LXC's node before deploying (README, Cluster and HA); fix the connection or the login, then run it " +
        "again.",
    );
    const warn = jest.spyOn(pulumi.log, "warn").mockResolvedValue();
    try {
      const preview = await checkPlacement([agent, plain], login, { dryRun: true, read });
      expect([...preview]).toEqual([
        ["agent", { onConfiguredNode: false }],
        ["plain", { onConfiguredNode: false }],
      ]);
      expect(warn.mock.calls).toEqual([
        [
          "proxmox.endpoint: not reachable (connect ECONNREFUSED 127.0.0.1:1); where each LXC runs was not " +
            "checked. pulumi up checks it and refuses while the API is out of reach.",
        ],
      ]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("the container's create hook", () => {
  const args = {
    urn: "urn:pulumi:dev::hermes-lxc::hermes-lxc:index:HermesLxc$proxmoxve:index/containerLegacy:ContainerLegacy::agent-ct",
    name: "agent-ct",
    type: "proxmoxve:index/containerLegacy:ContainerLegacy",
  } as unknown as Parameters<ResourceHookFunction>[0];

  // The engine gives the hook no old state, so a replacement's create looks like this one; the replacement deleted
  // the old CT first (deleteBeforeReplace), and the hook, asking again, lets it through.
  it("lets the create of a replacement through: the CT is gone by then", async () => {
    const hook = refuseCreateOverLiveCt(agent, async () => false);
    await expect(Promise.resolve(hook(args))).resolves.toBeUndefined();
  });

  it("refuses a create while the CT still runs there, with the import that takes it over", async () => {
    const hook = refuseCreateOverLiveCt(agent, async () => true);
    await expect(Promise.resolve(hook(args))).rejects.toThrow(
      "pulumi import 'proxmoxve:index/containerLegacy:ContainerLegacy' 'agent-ct' 'pve1/330' " +
        "--parent 'urn:pulumi:dev::hermes-lxc::hermes-lxc:index:HermesLxc::agent'",
    );
  });

  it("names placeholders for the URNs when the resource's URN is not the HermesLxc child's", async () => {
    const hook = refuseCreateOverLiveCt(agent, async () => true);
    const top = {
      ...args,
      urn: "urn:pulumi:dev::hermes-lxc::proxmoxve:index/containerLegacy:ContainerLegacy::agent-ct",
    };
    const e = String(await Promise.resolve(hook(top)).catch((x: unknown) => x));
    expect(e).toContain("--parent '<the HermesLxc URN>' --provider 'proxmox=<provider URN>' --protect");
  });

  it("the whole refusal: what happened, why nothing was changed, and the one import command to run", async () => {
    const hook = refuseCreateOverLiveCt(agent, async () => true);
    const e = await Promise.resolve(hook(args)).catch((x: unknown) => x);
    expect((e as Error).message).toBe(
      "lxcs.agent: CT 330 already runs on node pve1, but this stack's state does not hold it (a plain pulumi " +
        "refresh dropped it, or the node was changed after a migration). Creating it can never succeed (the VMID " +
        "is taken cluster-wide) and nothing was changed. Take it over, then run pulumi up again:\n" +
        "  pulumi import 'proxmoxve:index/containerLegacy:ContainerLegacy' 'agent-ct' 'pve1/330' " +
        "--parent 'urn:pulumi:dev::hermes-lxc::hermes-lxc:index:HermesLxc::agent' " +
        "--provider 'proxmox=urn:pulumi:dev::hermes-lxc::pulumi:providers:proxmoxve::proxmox' " +
        "--protect --generate-code=false --yes --stack 'dev'",
    );
  });

  it("takes apart only a whole URN: text around one gets the placeholders and the current stack", async () => {
    const hook = refuseCreateOverLiveCt(agent, async () => true);
    for (const urn of [`see ${String(args.urn)}`, `${String(args.urn)}::extra:part`]) {
      const e = String(await Promise.resolve(hook({ ...args, urn })).catch((x: unknown) => x));
      expect(e).toContain(
        `--parent '<the HermesLxc URN>' --provider 'proxmox=<provider URN>' --protect --generate-code=false ` +
          `--yes --stack '${pulumi.getStack()}'`,
      );
    }
  });

  it("is made only for a CT already on its configured node: named for the LXC, off in previews, refusing", async () => {
    expect(adoptionHook(agent, undefined, async () => true)).toBeUndefined();
    expect(adoptionHook(agent, { onConfiguredNode: false }, async () => true)).toBeUndefined();
    const hook = adoptionHook(agent, { onConfiguredNode: true }, async () => true);
    // Outside a Pulumi run the SDK cannot register it; only what the program made is checked here.
    (hook as unknown as { __registered?: Promise<unknown> } | undefined)?.__registered?.catch(
      () => undefined,
    );
    expect(hook).toBeInstanceOf(pulumi.ResourceHook);
    expect(hook!.name).toBe("agent-ct-exists");
    // The SDK sends `opts?.onDryRun ?? false`: a preview must not run it (nothing is deleted there).
    expect(hook!.opts?.onDryRun ?? false).toBe(false);
    await expect(Promise.resolve(hook!.callback(args))).rejects.toThrow(
      "lxcs.agent: CT 330 already runs on node pve1",
    );
  });

  it("counts only an LXC guest with that VMID on that node as the CT still running there", async () => {
    const read = clusterReader.read;
    const view = (type: string) => ({
      guests: [{ vmid: 330, node: "pve1", type, status: "running" }],
      nodes: { pve1: "online" },
    });
    try {
      clusterReader.read = async () => view("qemu");
      expect(await ctRunsOn(login, 330, "pve1")()).toBe(false);
      clusterReader.read = async () => view("lxc");
      expect(await ctRunsOn(login, 330, "pve1")()).toBe(true);
    } finally {
      clusterReader.read = read;
    }
  });

  it("asks the cluster where the CT runs now", async () => {
    expect(await ctRunsOn(login, 330, "pve1", env)()).toBe(true);
    expect(await ctRunsOn(login, 330, "pve2", env)()).toBe(false);
    expect(await ctRunsOn(login, 339, "pve1", env)()).toBe(false);
  });
});
