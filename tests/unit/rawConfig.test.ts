/** components/config/rawConfig.ts: from the engine's flat config to raw values, unknown keys, plain-text secrets. */
import { readRawConfig } from "../../components/config/rawConfig";

const secretKeys = new Set(["hermes-lxc:agentSecrets", "hermes-lxc:proxmoxPassword"]);
const engine = (all: Record<string, string>, stackFile?: unknown) => ({
  project: "hermes-lxc",
  all,
  isSecret: (k: string) => secretKeys.has(k),
  stackFile: stackFile === undefined ? undefined : { name: "Pulumi.s.yaml", doc: stackFile },
});

describe("readRawConfig", () => {
  it("parses objects, keeps the password a string, and treats Pulumi.yaml's {} defaults as absent", () => {
    const { raw, problems } = readRawConfig(
      engine({
        "hermes-lxc:proxmox": "{}",
        "hermes-lxc:lxcs": '{"a":{"vmId":118}}',
        "hermes-lxc:proxmoxPassword": "{not json",
        "proxmoxve:insecure": "true",
      }),
    );
    expect(problems).toEqual([]);
    expect(raw).toEqual({ lxcs: { a: { vmId: 118 } }, proxmoxPassword: "{not json" });
  });

  it("refuses an unknown key of the namespace, suggesting the closest one", () => {
    const { problems } = readRawConfig(engine({ "hermes-lxc:lxcSecret": '{"a":{"rootPassword":"x"}}' }));
    expect(problems).toEqual([
      expect.stringMatching(/^lxcSecret: is not a key of this program; did you mean "lxcSecrets"\?/),
    ]);
    expect(problems.join()).not.toContain('"x"');
    expect(readRawConfig(engine({ "hermes-lxc:zzzzzz": "1" })).problems[0]).not.toMatch(/did you mean/);
  });

  it("refuses a secret key the engine does not report encrypted, without echoing it", () => {
    const { problems } = readRawConfig(
      engine({ "hermes-lxc:lxcSecrets": '{"a":{"rootPassword":"hunter2"}}' }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^lxcSecrets: is not encrypted .*pulumi config set --secret/),
    ]);
    expect(problems.join()).not.toContain("hunter2");
  });

  it("names each plain-text leaf of a secret object that holds an encrypted one too", () => {
    // The engine calls the whole object secret as soon as one leaf is; only the stack file can tell.
    const file = {
      config: {
        "hermes-lxc:agentSecrets": { h: { llmApiKey: { secure: "v1:abc" }, telegramBotToken: "123:plain" } },
      },
    };
    const { problems } = readRawConfig(
      engine({ "hermes-lxc:agentSecrets": '{"h":{"llmApiKey":"k","telegramBotToken":"123:plain"}}' }, file),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^agentSecrets\.h\.telegramBotToken: is not encrypted .*--path 'agentSecrets\.h\.telegramBotToken'/,
      ),
    ]);
    expect(problems.join()).not.toContain("123:plain");
  });
});
