/**
 * Numbers the README states, read from the README and measured here: a number no test reads goes stale.
 *
 * `<!-- readme-number: <id> -->N<!-- /readme-number -->` marks each one. The example's resource count is what
 * `pulumi preview` plans for Pulumi.example.yaml once its placeholders are replaced: every resource the program
 * registers (counted under mocks, which see each registration, providers included) plus the stack itself.
 */
import { runProgram } from "../helpers/mockProgram";
import { README } from "../helpers/readme";
import { KEY } from "../helpers/sampleKey";
import { clone, loadStackFile } from "../helpers/stackFile";

function readmeNumber(id: string): number {
  const m = new RegExp(`<!-- readme-number: ${id} -->(\\d+)<!-- /readme-number -->`).exec(README);
  if (!m) throw new Error(`README.md marks no number ${id}`);
  return Number(m[1]);
}

describe("numbers the README states", () => {
  it("every marked number is one this file measures", () => {
    const ids = [...README.matchAll(/<!-- readme-number: ([\w-]+) -->/g)].map((m) => m[1]);
    expect(ids).toEqual(["example-resources"]);
  });

  it("example-resources: what a preview of the example plans, the stack included", async () => {
    const raw = clone(loadStackFile("example")) as any;
    // What the user's edit of the CHANGE lines does.
    raw.proxmox.endpoint = "https://pve.lan:8006/";
    raw.proxmox.nodes.pve.address = "pve.lan";
    raw.proxmox.nodes.pve.hostKey = KEY;
    raw.lxcs.hermes.rootSshKeys = [];
    raw.agents.hermes.llm.baseUrl = "https://openrouter.ai/api/v1";
    raw.proxmoxPassword = "pw";
    raw.agentSecrets = { hermes: { llmApiKey: "k", telegramBotToken: "123456:token-abcdef" } };
    const run = await runProgram(raw, { preview: true, resolveOutputs: false });
    expect(run.resources.length + 1).toBe(readmeNumber("example-resources"));
  });
});
