/** Pulumi.yaml, the README's config table and the config model must agree, key for key. */
import * as yaml from "js-yaml";
import { SECRET_TOP_LEVEL_KEYS, TOP_LEVEL_KEYS } from "../../components/config/stack";
import { configRows, configTable, platformTable } from "../../components/config/docs";
import { PLATFORMS } from "../../components/config/platforms";
import { readProjectFile, writeProjectFile } from "../helpers/stackFile";

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

  it("every field of the model carries its documentation (doc() in components/config)", () => {
    expect(
      configRows()
        .filter((r) => r.doc === undefined)
        .map((r) => r.path),
    ).toEqual([]);
  });

  it.each([
    ["configuration", "config-table", configTable],
    ["messaging-platform", "platform-table", platformTable],
  ])(
    "the README's %s table is the one generated from the model (UPDATE_README=1 rewrites it)",
    (_what, marker, generate) => {
      const readme = readProjectFile("README.md");
      const open = readme.indexOf(`<!-- ${marker}: generated`);
      const start = readme.indexOf("-->", open) + 3;
      const end = readme.indexOf(`<!-- ${marker} end -->`);
      expect({ open: open >= 0, end: end > start }).toEqual({ open: true, end: true });
      const current = readme.slice(start, end).trim();
      const generated = generate();
      if (process.env.UPDATE_README === "1" && current !== generated) {
        writeProjectFile("README.md", `${readme.slice(0, start)}\n${generated}\n${readme.slice(end)}`);
        return;
      }
      expect(current).toEqual(generated);
    },
  );

  it("Pulumi.yaml's description of agents lists the registry's platforms (UPDATE_README=1 rewrites it)", () => {
    const text = readProjectFile("Pulumi.yaml");
    const project = yaml.load(text) as { config: Record<string, { description: string }> };
    const current = project.config.agents.description;
    const generated =
      "hermes agents, keyed by name; one gateway container each, on an LXC or a Docker host. Messaging platforms " +
      `(agents.<name>.platforms): ${PLATFORMS.map((p) => p.key).join(", ")}.`;
    if (process.env.UPDATE_README === "1" && current !== generated) {
      writeProjectFile("Pulumi.yaml", text.replace(JSON.stringify(current), JSON.stringify(generated)));
      return;
    }
    expect(current).toEqual(generated);
  });
});
