/**
 * The README's "what persists across what" table, row by row: run the program with two configs and compare the
 * inputs of every resource. A resource whose inputs are unchanged is left alone by `pulumi up`; the files step's
 * new stdin means "rewrite /opt/data and restart the same container"; a changed ForceNew input of the gateway
 * means "re-create the container" (its data lives in bind mounts); nothing may change on the LXC.
 */
import { CANARY, homelabWithSecrets } from "../helpers/stackFile";
import { MockRun, Recorded, runProgram, unwrapSecrets } from "../helpers/mockProgram";

type Mutable = any;

/** Names of resources whose inputs differ between two runs (added/removed count as differing). */
function changed(a: MockRun, b: MockRun): string[] {
  const key = (r: Recorded) => `${r.type}::${r.name}`;
  const left = new Map(a.resources.map((r) => [key(r), JSON.stringify(unwrapSecrets(r.inputs))]));
  const right = new Map(b.resources.map((r) => [key(r), JSON.stringify(unwrapSecrets(r.inputs))]));
  const names = new Set([...left.keys(), ...right.keys()]);
  return [...names]
    .filter((n) => left.get(n) !== right.get(n))
    .map((n) => n.split("::")[1])
    .sort();
}

/** The LXC layer: nothing in an agent-level change may touch these. */
const LXC_LAYER = [
  "hermes-template",
  "hermes-host-dirs",
  "hermes-ct",
  "hermes-raw-lxc-config",
  "hermes-ready",
  "hermes-docker-install-docker",
  "hermes-docker-docker",
  "proxmox",
];

let base: MockRun;
beforeAll(async () => {
  base = await runProgram(homelabWithSecrets());
});

async function variant(mutate: (raw: Mutable) => void): Promise<MockRun> {
  const raw = homelabWithSecrets() as Mutable;
  mutate(raw);
  return runProgram(raw);
}

// Rows: [event, mutation, resources whose inputs change]
const restartOnly = ["hermes-files", "hermes-health"];
const rows: Array<[string, (raw: Mutable) => void, string[]]> = [
  [
    "hermes settings change",
    (r) => (r.agents.hermes.settings = { ...r.agents.hermes.settings, streaming: { enabled: true } }),
    restartOnly,
  ],
  ["LLM model change", (r) => (r.agents.hermes.llm.model = "claude-sonnet"), restartOnly],
  [
    "secret rotation (bot token)",
    (r) => (r.agentSecrets.hermes.telegramBotToken = "654321:ROTATED-token-value"),
    restartOnly,
  ],
  ["allow-list change", (r) => (r.agents.hermes.platforms.telegram.allowedUsers = ["11111111"]), restartOnly],
  [
    "document change",
    (r) => (r.agents.hermes.documents = { "SOUL.md": { text: "You are terse." } }),
    restartOnly,
  ],
  [
    "MCP server added",
    (r) => (r.agents.hermes.mcpServers = { fs: { command: "npx", args: ["-y", "server-filesystem"] } }),
    restartOnly,
  ],
  [
    "image upgrade",
    (r) => (r.agents.hermes.imageTag = "v2026.9.24"),
    // The new image migrates config.yaml first (its id is in the migration's command).
    // A snapshot is taken first (the new image id is in its command too), and old images are pruned after.
    [
      "hermes-config-migration",
      "hermes-gateway",
      "hermes-health",
      "hermes-image",
      "hermes-pre-change-snapshot",
      "hermes-prune-images",
    ],
  ],
  [
    "API server opened (port published)",
    (r) => {
      r.agents.hermes.apiServer = { enabled: true };
      r.agentSecrets.hermes.apiServerKey = "0123456789abcdef0123";
    },
    // A published port re-creates the container: a snapshot first.
    ["hermes-files", "hermes-gateway", "hermes-health", "hermes-pre-change-snapshot"],
  ],
  // Memory is updated in place (docker update): same container, no restart, no health re-run.
  ["memory limit change", (r) => (r.agents.hermes.memoryMb = 2048), ["hermes-gateway"]],
];

describe("what persists across what", () => {
  it.each(rows)("%s", async (_event, mutate, expected) => {
    const next = await variant(mutate);
    const diff = changed(base, next);
    expect(diff).toEqual([...expected].sort());
    for (const r of LXC_LAYER) expect(diff).not.toContain(r);
  });

  it("restarts rather than re-creates on a secret rotation: the container's own inputs carry no secret", async () => {
    const next = await variant((r) => (r.agentSecrets.hermes.llmApiKey = "rotated-llm-key-0000"));
    const gateway = (run: MockRun) =>
      JSON.stringify(unwrapSecrets(run.resources.find((r) => r.name === "hermes-gateway")!.inputs));
    expect(gateway(next)).toBe(gateway(base));
    expect(gateway(base)).not.toContain(CANARY.llmApiKey);
  });

  it("adding an agent changes nothing of the LXC (its mount points stay) nor of the first agent", async () => {
    const next = await variant((r) => (r.agents.second = { lxc: "hermes" }));
    expect(changed(base, next)).toEqual(
      [
        "second",
        "second-config-migration",
        "second-files",
        "second-gateway",
        "second-health",
        "second-image",
        "second-pre-change-snapshot",
        "second-prune-images",
        "second-snapshots",
        "second-snapshots-install",
      ].sort(),
    );
  });

  it("adding a bulk disk re-creates the LXC (the provider replaces on any mount change) but loses no data", async () => {
    const next = await variant((r) =>
      r.lxcs.hermes.mounts.push({ hostPath: "/mnt/pve/ssd2/hermes", containerPath: "/scratch" }),
    );
    const diff = changed(base, next);
    expect(diff).toEqual(expect.arrayContaining(["hermes-ct", "hermes-host-dirs", "hermes-gateway"]));
    // The state mount, which holds every agent's /opt/data, is the same host directory before and after.
    const mp = (run: MockRun) =>
      (run.resources.find((r) => r.name === "hermes-ct")!.inputs as Mutable).mountPoints[0];
    expect(mp(next)).toEqual(mp(base));
    expect(mp(base)).toEqual({ volume: "/var/lib/hermes-lxc/hermes", path: "/srv/hermes", backup: false });
  });
});
