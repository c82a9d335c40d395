/**
 * What each component records as its outputs in the state (registerOutputs), in a run of the homelab stack: the
 * fields the program and `pulumi stack output` read, each one the component's own field, none left out.
 */
import * as pulumi from "@pulumi/pulumi";
import { runProgram } from "../helpers/mockProgram";
import { homelabWithSecrets } from "../helpers/stackFile";

type Fields = Record<string, unknown>;

/** Per component type: the outputs it must record, each the field of the same name. */
const OUTPUTS: Record<string, string[]> = {
  HermesLxc: ["vmId", "node", "address", "hostKey", "hostKeyFingerprint", "sshCommand", "mounts"],
  HermesGateway: [
    "health",
    "containerName",
    "dataDir",
    "hostDataPath",
    "logsCommand",
    "pairingCommands",
    "shellCommand",
    "imageDigest",
  ],
};

const recorded: Array<{ component: Fields; outputs: Fields }> = [];

beforeAll(async () => {
  // registerOutputs is protected: the spy sees what each component hands the engine.
  const prototype = pulumi.ComponentResource.prototype as unknown as { registerOutputs(o: object): void };
  const spy = jest.spyOn(prototype, "registerOutputs");
  try {
    await runProgram(homelabWithSecrets());
    spy.mock.calls.forEach(([outputs], i) =>
      recorded.push({ component: spy.mock.contexts[i] as Fields, outputs: (outputs ?? {}) as Fields }),
    );
  } finally {
    spy.mockRestore();
  }
});

describe.each(Object.entries(OUTPUTS))("%s", (type, fields) => {
  it("records exactly its outputs, each one its own field", () => {
    // The first call counts: the SDK's own later call (after its async initialize) is then a no-op.
    const mine = recorded.filter((r) => r.component.constructor.name === type);
    expect(mine.length).toBeGreaterThan(0);
    const [{ component, outputs }] = mine;
    expect(Object.keys(outputs)).toEqual(fields);
    for (const f of fields) {
      expect(component[f]).toBeDefined();
      expect(outputs[f]).toBe(component[f]);
    }
  });
});
