/**
 * Deep merge for plain JSON-like data (the shape of hermes' config.yaml).
 *
 * Semantics match the NixOS module's `lib.recursiveUpdate` and templates/merge-config.py: plain objects merge
 * key by key, the override wins at every leaf, and arrays are replaced as a whole (a list in config.yaml is one
 * value, e.g. `platform_toolsets.telegram`, and concatenating it would make removals impossible).
 */

/** A plain object: a `{}` literal, `JSON.parse` output or `Object.create(null)`; not an array, Date, Map or class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets `key` as an own data property, so a `"__proto__"` key from parsed config stays data and cannot swap the prototype. */
function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Deep-copies plain objects and arrays so the merge result never aliases (and so never lets callers mutate) its inputs. */
function cloneData(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(cloneData);
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      defineKey(out, key, cloneData(value[key]));
    }
    return out;
  }
  return value;
}

/**
 * Merges `override` into `base` recursively: plain objects merge, `override` wins at leaves, arrays are replaced, a key
 * whose override value is `undefined` keeps the base value, and neither input is mutated.
 */
export function deepMerge(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  if (!isPlainObject(base) || !isPlainObject(override)) {
    throw new Error("deepMerge: both arguments must be plain objects");
  }
  const out = cloneData(base) as Record<string, unknown>;
  for (const key of Object.keys(override)) {
    const next = override[key];
    if (next === undefined) {
      // An optional field that was left out is "not set", not "set to nothing".
      continue;
    }
    const current = Object.prototype.hasOwnProperty.call(out, key) ? out[key] : undefined;
    if (isPlainObject(current) && isPlainObject(next)) {
      defineKey(out, key, deepMerge(current, next));
    } else {
      defineKey(out, key, cloneData(next));
    }
  }
  return out;
}
