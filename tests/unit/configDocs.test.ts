/** Pulumi.yaml, the README's config table and the config model must agree, key for key. */
import * as yaml from "js-yaml";
import { TOP_LEVEL_KEYS } from "../../components/config/schema";
import { configKeyPaths } from "../helpers/configKeys";
import { readProjectFile } from "../helpers/stackFile";

describe("config documentation", () => {
  it("Pulumi.yaml declares exactly the top-level keys the program reads, secrets marked secret", () => {
    const project = yaml.load(readProjectFile("Pulumi.yaml")) as {
      name: string;
      config: Record<string, { type: string; secret?: boolean; description: string }>;
    };
    expect(project.name).toBe("hermes-lxc");
    expect(Object.keys(project.config).sort()).toEqual([...TOP_LEVEL_KEYS].sort());
    for (const [key, decl] of Object.entries(project.config)) {
      expect({ key, type: decl.type, described: decl.description.length > 10 }).toEqual({
        key,
        type: expect.stringMatching(/^(string|object)$/),
        described: true,
      });
    }
    expect(
      Object.entries(project.config)
        .filter(([, d]) => d.secret)
        .map(([k]) => k)
        .sort(),
    ).toEqual(["agentSecrets", "lxcSecrets", "proxmoxPassword"]);
  });

  it("the README documents every key of the model, and nothing else", () => {
    const readme = readProjectFile("README.md");
    const section = readme.split("## Configuration reference")[1].split("\n## ")[0];
    const documented = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(configKeyPaths().sort());
  });
});
