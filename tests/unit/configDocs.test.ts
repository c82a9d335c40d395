/** Pulumi.yaml, the README's config table and the config model must agree, key for key. */
import * as yaml from "js-yaml";
import { SECRET_TOP_LEVEL_KEYS, TOP_LEVEL_KEYS } from "../../components/config/schema";
import { configKeyPaths } from "../helpers/configKeys";
import { readProjectFile } from "../helpers/stackFile";

describe("config documentation", () => {
  it("Pulumi.yaml declares every non-secret top-level key with a default, and no secret key", () => {
    const project = yaml.load(readProjectFile("Pulumi.yaml")) as {
      name: string;
      config: Record<string, { type: string; secret?: boolean; default?: unknown; description: string }>;
    };
    expect(project.name).toBe("hermes-lxc");
    const plain = TOP_LEVEL_KEYS.filter((k) => !(SECRET_TOP_LEVEL_KEYS as readonly string[]).includes(k));
    expect(Object.keys(project.config).sort()).toEqual([...plain].sort());
    for (const [key, decl] of Object.entries(project.config)) {
      // A declared key without a default is required on every stack; a secret one is refused with its default.
      expect({
        key,
        type: decl.type,
        secret: decl.secret,
        default: decl.default,
        described: decl.description.length > 10,
      }).toEqual({
        key,
        type: "object",
        secret: undefined,
        default: {},
        described: true,
      });
    }
  });

  it("the README documents every key of the model, and nothing else", () => {
    const readme = readProjectFile("README.md");
    const section = readme.split("## Configuration reference")[1].split("\n## ")[0];
    const documented = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(configKeyPaths().sort());
  });
});
