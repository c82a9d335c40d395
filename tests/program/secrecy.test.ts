/**
 * No secret in plaintext, on every path a secret can take: every key of `agentSecrets` (every platform's
 * credentials, the LLM key, the API server key, the dashboard password, auth.json, further env), on an LXC agent and
 * on a Docker-host agent, plus `lxcSecrets` and `proxmoxPassword`. homelab.test.ts scans the homelab stack's few
 * secrets; this stack sets all of them at once, each a distinct canary, and scans every resource's non-secret
 * inputs and the stack outputs.
 */
import { PLATFORMS } from "../../components/config/platforms";
import { FULL } from "../helpers/platformBlocks";
import {
  MockRun,
  isSecretEnvelope,
  named,
  runProgram,
  unwrapSecrets,
  withoutSecrets,
} from "../helpers/mockProgram";
import { homelabWithSecrets } from "../helpers/stackFile";

type Mutable = any;

/** The stack, and every secret value in it (each unique, so a find means that secret leaked). */
function everySecretStack(): { raw: Mutable; canaries: string[] } {
  const raw = homelabWithSecrets() as Mutable;
  const canaries: string[] = [];
  const canary = (base: string) => {
    const value = `${base}-CANARY${canaries.length}x`;
    canaries.push(value);
    return value;
  };
  // A secret whose format is checked keeps its shape: same length and alphabet (hex, letters and digits), or the
  // same JSON with a canary field; the distinct part is what the scans look for.
  const shapedCanary = (sample: string) => {
    if (sample.startsWith("{")) {
      const marker = canary("json");
      return JSON.stringify({ ...JSON.parse(sample), private_key_id: marker });
    }
    const alphabet = /^[0-9a-f]+$/.test(sample)
      ? "0123456789abcdef"
      : /^[A-Za-z0-9]+$/.test(sample)
        ? "x"
        : "";
    if (alphabet === "") return canary(sample);
    const n = canaries.length;
    const tag = alphabet === "x" ? `CANARY${n}x` : `cafe${n.toString(16).padStart(4, "0")}`;
    const value = sample.slice(0, sample.length - tag.length) + tag;
    canaries.push(value);
    return value;
  };
  raw.proxmoxPassword = canary("pw");
  raw.lxcSecrets = { hermes: { rootPassword: canary("root-pw") } };
  raw.dockerHosts = { box: { address: "10.1.10.50", hostKey: raw.proxmox.nodes.gihyeon.hostKey } };
  raw.agents.other = { dockerHost: "box", llm: { ...raw.agents.hermes.llm } };
  for (const agent of ["hermes", "other"]) {
    const a = raw.agents[agent];
    a.platforms = {};
    const secrets: Record<string, unknown> = {};
    for (const p of PLATFORMS) {
      a.platforms[p.key] = structuredClone(FULL[p.key].block);
      for (const [key, value] of Object.entries(FULL[p.key].secrets)) secrets[key] = shapedCanary(value);
    }
    // Every platform at once, the ones whose SDK the default image lacks included: an image that has them.
    a.image = "registry.example.org/hermes-agent-full";
    // The inbound platforms of each host: their published ports apart per agent.
    if (agent === "other") {
      let port = 8700;
      for (const p of PLATFORMS) {
        const publish = (a.platforms[p.key] as { publish?: { port: number } }).publish;
        if (publish) publish.port = port++;
      }
    }
    a.apiServer = { enabled: true, port: agent === "hermes" ? 8642 : 8643 };
    a.dashboard = {
      enabled: true,
      bind: "127.0.0.1",
      port: agent === "hermes" ? 9119 : 9120,
      basicAuthUser: "admin",
    };
    secrets.llmApiKey = canary("llm-key");
    secrets.apiServerKey = canary("0123456789abcdef");
    secrets.dashboardPassword = canary("dash-pw");
    secrets.authJson = JSON.stringify({ token: canary("oauth") });
    secrets.env = { GH_PAT: canary("gh") };
    raw.agentSecrets[agent] = secrets;
  }
  return { raw, canaries };
}

describe("secrets on every path", () => {
  let run: MockRun;
  let canaries: string[];
  beforeAll(async () => {
    const stack = everySecretStack();
    canaries = stack.canaries;
    run = await runProgram(stack.raw);
  });

  it("sets many distinct secrets", () => {
    expect(canaries.length).toBeGreaterThan(2 * PLATFORMS.length);
  });

  it("no secret is in any non-secret input", () => {
    const plaintext = JSON.stringify(
      run.resources.map((r) => ({ name: r.name, inputs: withoutSecrets(r.inputs) })),
    );
    expect(canaries.filter((c) => plaintext.includes(c))).toEqual([]);
    expect(plaintext).not.toContain(run.privateKey.trim().split("\n")[1]);
  });

  it("what is derived from the payload is secret too: the files step's stdin and the health step's digest", () => {
    for (const agent of ["hermes", "other"]) {
      expect(isSecretEnvelope(named(run, `${agent}-files`).inputs.stdin)).toBe(true);
      expect(isSecretEnvelope(named(run, `${agent}-health`).inputs.stdin)).toBe(true);
    }
  });

  it("no secret is in a stack output", () => {
    const outputs = JSON.stringify(run.outputs);
    expect(canaries.filter((c) => outputs.includes(c))).toEqual([]);
  });

  it("every secret reaches a resource, as a secret (so the scans above are meaningful)", () => {
    const inSecrets = run.resources.map((r) => JSON.stringify(unwrapSecrets(r.inputs))).join("\n");
    // A payload travels base64-encoded: decode every base64 field of the files steps' stdin too.
    const payloads = run.resources
      .filter((r) => r.name.endsWith("-files"))
      .map((r) => String(unwrapSecrets(r.inputs.stdin)))
      .flatMap((p) => p.split("\n").map((l) => Buffer.from(l.split(" ")[4] ?? "", "base64").toString("utf8")))
      .join("\n");
    const missing = canaries.filter((c) => !inSecrets.includes(c) && !payloads.includes(c));
    expect(missing).toEqual([]);
  });

  it("the containers' own inputs carry no secret (a rotation restarts them, never re-creates them)", () => {
    const gateways = JSON.stringify(
      run.resources
        .filter((r) => r.type === "docker:index/container:Container")
        .map((r) => unwrapSecrets(r.inputs)),
    );
    expect(canaries.filter((c) => gateways.includes(c))).toEqual([]);
  });
});
