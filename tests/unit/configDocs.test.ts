/** Pulumi.yaml, the README's config table and the config model must agree, key for key. */
import * as yaml from "js-yaml";
import { SECRET_TOP_LEVEL_KEYS, TOP_LEVEL_KEYS } from "../../components/config/stack";
import { configRows, configTable } from "../../components/config/docs";
import { PLATFORMS } from "../../components/config/platforms";
import { readProjectFile, writeProjectFile } from "../helpers/stackFile";

const TABLE_START =
  "<!-- config-table: generated from components/config by tests/unit/configDocs.test.ts -->";
const TABLE_END = "<!-- config-table end -->";

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

  it("the README's configuration table is the one generated from the model (UPDATE_README=1 rewrites it)", () => {
    const readme = readProjectFile("README.md");
    const start = readme.indexOf(TABLE_START);
    const end = readme.indexOf(TABLE_END);
    expect({ start: start >= 0, end: end > start }).toEqual({ start: true, end: true });
    const current = readme.slice(start + TABLE_START.length, end).trim();
    const generated = configTable();
    if (process.env.UPDATE_README === "1" && current !== generated) {
      writeProjectFile(
        "README.md",
        `${readme.slice(0, start + TABLE_START.length)}\n${generated}\n${readme.slice(end)}`,
      );
      return;
    }
    expect(current).toEqual(generated);
  });

  it("Pulumi.yaml's description of agents names every messaging platform of the registry", () => {
    const project = yaml.load(readProjectFile("Pulumi.yaml")) as {
      config: Record<string, { description: string }>;
    };
    const described = project.config.agents.description;
    expect(PLATFORMS.filter((p) => !described.includes(p.key)).map((p) => p.key)).toEqual([]);
  });

  it("the README's platform table has a row per registered platform, naming its block and its secrets", () => {
    const readme = readProjectFile("README.md");
    const section = readme.split("### Messaging platforms")[1].split("\n#")[0];
    const rows = [...section.matchAll(/^\| ([^|]+) \| `(\w+):.*\| (.*) \| .* \|$/gm)];
    expect(rows.map((r) => r[1].trim())).toEqual(PLATFORMS.map((p) => p.title));
    for (const [, title, key, secrets] of rows) {
      const platform = PLATFORMS.find((p) => p.title === title.trim())!;
      expect({
        title,
        key,
        secrets: platform.secrets.filter((s) => !secrets.includes(s.key)).map((s) => s.key),
      }).toEqual({
        title,
        key: platform.key,
        secrets: [],
      });
    }
  });
});
