/** Pulumi.yaml, the README's config table and the config model must agree, key for key. */
import * as yaml from "js-yaml";
import { z } from "zod";
import { doc } from "../../components/config/fields";
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

describe("the reference generator, on the shapes a schema can take", () => {
  const d = (what: string) => doc(what, "-", `${what}.`);
  const paths = (schema: unknown) => configRows(schema).map((r) => r.path);

  it("walks into an object under any wrapper: optional, default, prefault, nullable, readonly", () => {
    const inner = () => z.object({ a: z.string().meta(d("a")) });
    const schema = z.object({
      o: inner().optional(),
      d: inner().default({ a: "x" }),
      p: inner().prefault({ a: "x" }),
      n: inner().nullable(),
      r: inner().readonly(),
    });
    expect(paths(schema)).toEqual(["o.a", "d.a", "p.a", "n.a", "r.a"]);
  });

  it("walks into the object of a pipe: the input of a transform, the output of a preprocess", () => {
    const schema = z.object({
      t: z.object({ a: z.string().meta(d("a")) }).transform((v) => v.a),
      p: z.preprocess((v) => v, z.object({ b: z.string().meta(d("b")) })),
      s: z
        .string()
        .transform((v) => v.length)
        .meta(d("s")),
    });
    expect(configRows(schema)).toEqual([
      { path: "t.a", doc: d("a").doc },
      { path: "p.b", doc: d("b").doc },
      { path: "s", doc: d("s").doc },
    ]);
  });

  it("a union: its own row, then the keys of its object options, each path once", () => {
    const schema = z.object({
      u: z
        .union([
          z.literal("dhcp"),
          z.object({ mode: z.literal("a"), x: z.string().meta(d("x")) }),
          z.object({ mode: z.literal("b"), y: z.string().meta(d("y")) }),
        ])
        .meta(d("u")),
      // An option that is a list of objects is documented by the union's row alone.
      v: z.union([z.string(), z.array(z.object({ w: z.string().meta(d("w")) }))]).meta(d("v")),
    });
    expect(paths(schema)).toEqual(["u", "u.mode", "u.x", "u.y", "v"]);
  });

  it("escapes pipes in a cell, and marks what has no documentation", () => {
    const rows = [
      { path: "a", doc: { allowed: "`x` | `y`", default: "`x`", description: "One | the other." } },
      { path: "b" },
    ];
    expect(configTable(rows).split("\n").slice(2)).toEqual([
      "| `a` | `x` \\| `y` | `x` | One \\| the other. |",
      "| `b` | ? | ? | ? |",
    ]);
  });
});
