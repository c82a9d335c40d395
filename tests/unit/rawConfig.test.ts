/** components/config/rawConfig.ts: from the engine's flat config to raw values, unknown keys, plain-text secrets. */
import { readRawConfig } from "../../components/config/rawConfig";
import { SECRET_TOP_LEVEL_KEYS } from "../../components/config/stack";
import { suggestion } from "../../components/config/suggest";

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

  // A password is whatever was typed: text that happens to be JSON is not read as JSON (digits stay a string, `{}` is
  // not Pulumi.yaml's "unset" default, quotes stay quotes).
  it.each(["12345678", '"quoted"', "{}", "[]", "true", "null", "1e3"])(
    "keeps the password %j as typed",
    (pw) => {
      const { raw, problems } = readRawConfig(engine({ "hermes-lxc:proxmoxPassword": pw }));
      expect(problems).toEqual([]);
      expect(raw).toEqual({ proxmoxPassword: pw });
    },
  );

  it("lists the allowed keys comma-separated after an unknown one", () => {
    const [problem] = readRawConfig(engine({ "hermes-lxc:zzzzzz": "1" })).problems;
    expect(problem).toMatch(/^zzzzzz: is not a key of this program\. Allowed: [a-zA-Z]+(, [a-zA-Z]+)+\.$/);
    expect(problem).toContain(" proxmox, ");
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

  // The secrecy rule on each of its paths: every secret top-level key, set whole or leaf by leaf.
  const VALUES: Record<string, string> = {
    proxmoxPassword: "hunter2-pw",
    agentSecrets: '{"h":{"llmApiKey":"hunter2-key"}}',
    lxcSecrets: '{"a":{"rootPassword":"hunter2-root"}}',
  };

  it.each(SECRET_TOP_LEVEL_KEYS.map((k) => [k]))(
    "%s: refused unless the engine reports it encrypted, never echoed",
    (key) => {
      const all = { [`hermes-lxc:${key}`]: VALUES[key] };
      const plain = readRawConfig({ project: "hermes-lxc", all, isSecret: () => false });
      expect(plain.problems).toEqual([expect.stringMatching(new RegExp(`^${key}: is not encrypted`))]);
      expect(plain.problems.join()).not.toMatch(/hunter2/);
      const secret = readRawConfig({
        project: "hermes-lxc",
        all,
        isSecret: (k) => k === `hermes-lxc:${key}`,
      });
      expect(secret.problems).toEqual([]);
    },
  );

  it("says how to set each one again: the password by its key, an object by its path", () => {
    const problems = (key: string) =>
      readRawConfig({
        project: "hermes-lxc",
        all: { [`hermes-lxc:${key}`]: VALUES[key] },
        isSecret: () => false,
      }).problems[0];
    expect(problems("proxmoxPassword")).toMatch(
      /remove it \(pulumi config rm proxmoxPassword\) and set it again with: pulumi config set --secret proxmoxPassword$/,
    );
    expect(problems("lxcSecrets")).toMatch(
      /remove it \(pulumi config rm --path 'lxcSecrets'\) and set it again with: pulumi config set --secret --path 'lxcSecrets\.<name>\.<key>'$/,
    );
  });

  it("counts a leaf as encrypted only when it is exactly {secure: <string>}, and names list entries by index", () => {
    const file = {
      config: {
        "hermes-lxc:agentSecrets": {
          h: {
            llmApiKey: { secure: "v1:abc" },
            apiServerKey: { secure: "v1:abc", extra: "plain" },
            env: { LIST: [{ secure: "v1:abc" }, "plain-entry"] },
          },
        },
      },
    };
    const { problems } = readRawConfig({
      project: "hermes-lxc",
      all: { "hermes-lxc:agentSecrets": '{"h":{}}' },
      isSecret: () => true,
      stackFile: { name: "Pulumi.s.yaml", doc: file },
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^agentSecrets\.h\.apiServerKey\.secure, agentSecrets\.h\.apiServerKey\.extra, agentSecrets\.h\.env\.LIST\[1\]: are not encrypted/,
      ),
    ]);
    expect(problems.join()).not.toMatch(/plain-entry|"plain"/);
  });

  it("names a leaf left empty in the stack file (YAML null) as not encrypted", () => {
    const file = {
      config: { "hermes-lxc:agentSecrets": { h: { llmApiKey: null, apiServerKey: { secure: "v1:x" } } } },
    };
    const { problems } = readRawConfig({
      project: "hermes-lxc",
      all: { "hermes-lxc:agentSecrets": '{"h":{"llmApiKey":null,"apiServerKey":"k"}}' },
      isSecret: () => true,
      stackFile: { name: "Pulumi.s.yaml", doc: file },
    });
    expect(problems).toEqual([expect.stringMatching(/^agentSecrets\.h\.llmApiKey: is not encrypted/)]);
  });

  it("trusts the engine for a secret key the stack file does not hold (set in an ESC environment)", () => {
    const all = { "hermes-lxc:agentSecrets": VALUES.agentSecrets };
    const stackFile = { name: "Pulumi.s.yaml", doc: { config: {} } };
    expect(readRawConfig({ project: "hermes-lxc", all, isSecret: () => true, stackFile }).problems).toEqual(
      [],
    );
    expect(readRawConfig({ project: "hermes-lxc", all, isSecret: () => false, stackFile }).problems).toEqual([
      expect.stringMatching(/^agentSecrets: is not encrypted/),
    ]);
  });

  it("reads only its own namespace", () => {
    const { raw, problems } = readRawConfig({
      project: "hermes-lxc",
      all: { "other:agentSecrets": "{}", "hermes-lxc-x:lxcs": "{}", "hermes-lxc:lxcs": '{"a":{}}' },
      isSecret: () => false,
    });
    expect(problems).toEqual([]);
    expect(raw).toEqual({ lxcs: { a: {} } });
  });
});

describe("suggestion: the closest allowed key, when close enough to be a typo", () => {
  it.each([
    // The closest wins, wherever it is in the list; on a tie, the first listed (the schema's order).
    ["memroyMb", ["cores", "memory", "memoryMb"], "memoryMb"],
    ["bnid", ["bind", "bond"], "bind"],
    ["bnid", ["bond", "bind"], "bond"],
    ["PORT", ["port", "bind"], "port"],
  ])("%s among %j: %s", (key, allowed, expected) => {
    expect(suggestion(key, allowed)).toBe(`; did you mean "${expected}"?`);
  });

  it("suggests nothing too far off (more than 2 edits, or than a third of a long key)", () => {
    expect(suggestion("abcd", ["wxyz"])).toBe("");
    expect(suggestion("xyz", [])).toBe("");
    expect(suggestion("dockerHostz", ["dockerHosts"])).not.toBe("");
    expect(suggestion("agentSecretsWXYZ", ["agentSecrets"])).not.toBe("");
    expect(suggestion("agentSecretsVWXYZ", ["agentSecrets"])).toBe("");
  });
});
