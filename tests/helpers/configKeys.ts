/** Walks the zod stack schema and lists every configurable key path, e.g. `lxcs.<name>.network.bridge`. */
import { stackSchema } from "../../components/config/schema";

type Def = { type: string; [k: string]: unknown };
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

function walk(schema: unknown, prefix: string, out: string[]): void {
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "default":
    case "prefault":
    case "nullable":
    case "readonly":
      return walk(def.innerType, prefix, out);
    case "pipe":
      // preprocess/transform: the validating side is `out` unless it is a bare transform.
      return walk(defOf(def.out).type === "transform" ? def.in : def.out, prefix, out);
    case "object": {
      const shape = def.shape as Record<string, unknown>;
      for (const [k, v] of Object.entries(shape)) walk(v, prefix ? `${prefix}.${k}` : k, out);
      return;
    }
    case "record":
      return walk(def.valueType, `${prefix}.<name>`, out);
    case "array": {
      const element = defOf(def.element);
      if (element.type === "object") return walk(def.element, `${prefix}[]`, out);
      out.push(prefix);
      return;
    }
    case "union": {
      const options = def.options as unknown[];
      if (options.some((o) => defOf(o).type === "object")) {
        out.push(prefix);
        for (const o of options) if (defOf(o).type === "object") walk(o, prefix, out);
        return;
      }
      out.push(prefix);
      return;
    }
    default:
      out.push(prefix);
  }
}

/** Every key path, deduplicated, in schema order. */
export function configKeyPaths(): string[] {
  const out: string[] = [];
  walk(stackSchema, "", out);
  return [...new Set(out)];
}
