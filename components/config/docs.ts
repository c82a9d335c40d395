/**
 * The configuration reference, generated from the fields' `doc` metadata: the README's table is exactly this
 * (tests/unit/configDocs.test.ts compares them and rewrites the README with UPDATE_README=1).
 */
import { z } from "zod";
import { FieldDoc } from "./fields";
import { PLATFORMS } from "./platforms";
import { stackSchema } from "./stack";

/** One row of the reference: a key path and its documentation (undefined: the field has none yet). */
export interface ConfigRow {
  path: string;
  doc?: FieldDoc;
}

type Def = { type: string; [k: string]: unknown };
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;
const docOf = (s: unknown): FieldDoc | undefined =>
  (z.globalRegistry.get(s as z.ZodType) as { doc?: FieldDoc } | undefined)?.doc;

/** The schema under wrappers (optional, default, preprocess...), with the first doc found on the way down. */
function unwrap(schema: unknown): { inner: unknown; doc?: FieldDoc } {
  let doc = docOf(schema);
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (["optional", "default", "prefault", "nullable", "readonly"].includes(def.type)) s = def.innerType;
    else if (def.type === "pipe") s = defOf(def.out).type === "transform" ? def.in : def.out;
    else return { inner: s, doc };
    doc ??= docOf(s);
  }
}

function walk(schema: unknown, path: string, inherited: FieldDoc | undefined, out: ConfigRow[]): void {
  const { inner, doc } = unwrap(schema);
  const own = doc ?? inherited;
  const def = defOf(inner);
  switch (def.type) {
    case "object":
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>))
        walk(v, path ? `${path}.${k}` : k, undefined, out);
      return;
    case "record":
      return walk(def.valueType, `${path}.<name>`, own, out);
    case "array":
      if (defOf(unwrap(def.element).inner).type === "object")
        return walk(def.element, `${path}[]`, undefined, out);
      out.push({ path, doc: own });
      return;
    case "union": {
      out.push({ path, doc: own });
      for (const o of def.options as unknown[])
        if (defOf(unwrap(o).inner).type === "object") walk(o, path, undefined, out);
      return;
    }
    default:
      out.push({ path, doc: own });
  }
}

/** Every key path of the stack (or of another schema) with its documentation, in schema order, each once. */
export function configRows(schema: unknown = stackSchema): ConfigRow[] {
  const rows: ConfigRow[] = [];
  walk(schema, "", undefined, rows);
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.path) && seen.add(r.path));
}

/** The README's configuration table (of the stack's rows, unless given others). */
export function configTable(rows: ConfigRow[] = configRows()): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  const lines = ["| Key | Type / allowed | Default | Description |", "|---|---|---|---|"];
  for (const { path, doc } of rows) {
    lines.push(
      `| \`${path}\` | ${cell(doc?.allowed ?? "?")} | ${cell(doc?.default ?? "?")} | ${cell(doc?.description ?? "?")} |`,
    );
  }
  return lines.join("\n");
}

/** The README's messaging-platform table, from the registry. */
export function platformTable(): string {
  const lines = ["| platform | block | secrets | inbound port |", "|---|---|---|---|"];
  for (const p of PLATFORMS) {
    const fields = Object.keys(defOf(unwrap(p.schema).inner).shape as Record<string, unknown>);
    const block = `\`${p.key}: {${fields.join(", ")}}\`${p.readme.note ? ` (${p.readme.note})` : ""}`;
    const secrets = p.secrets.length ? p.secrets.map((s) => `\`${s.key}\``).join(", ") : "none";
    lines.push(`| ${p.title} | ${block} | ${secrets} | ${p.readme.inbound} |`);
  }
  return lines.join("\n");
}
