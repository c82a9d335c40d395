/**
 * Proxmox property strings (`key=value,key=value`), parsed and printed as pve-common does:
 *  - parse: parse_property_string (pve-common src/PVE/JSONSchema.pm:1068-1140): a part without `=` is the
 *    default key; booleans are normalised by parse_boolean (:1060-1066); unknown keys die with
 *    `invalid key in comma-separated list property: <k>`; `disk-size` values become bytes (parse_size, :1022-1039).
 *  - print: print_property_string (:2779-2879): the default key first without its name, then the required keys
 *    sorted, then the rest sorted; `disk-size` values printed by format_size (:1041-1058), e.g. 24G.
 */
export interface KeyDesc {
  type: "string" | "boolean" | "integer" | "number";
  optional?: boolean;
  defaultKey?: boolean;
  /** Only `disk-size` is given a meaning here. */
  format?: "disk-size";
}
export type FormatDesc = Record<string, KeyDesc>;
export type PropValues = Record<string, string>;

const KIB = 1024;

export function parseBoolean(v: string): string | undefined {
  if (/^(1|on|yes|true)$/i.test(v)) return "1";
  if (/^(0|off|no|false)$/i.test(v)) return "0";
  return undefined;
}

export function parseSize(v: string): number | undefined {
  const m = /^(\d+(\.\d+)?)([KMGT](?:iB)?)?$/.exec(v);
  if (!m) return undefined;
  const unit = (m[3] ?? "").charAt(0);
  const mult = { "": 1, K: KIB, M: KIB ** 2, G: KIB ** 3, T: KIB ** 4 }[unit] ?? 1;
  return Math.trunc(Number(m[1]) * mult);
}

export function formatSize(bytes: number): string {
  const size = Math.trunc(bytes);
  const kb = Math.trunc(size / KIB);
  if (kb * KIB !== size) return `${size}`;
  const mb = Math.trunc(kb / KIB);
  if (mb * KIB !== kb) return `${kb}K`;
  const gb = Math.trunc(mb / KIB);
  if (gb * KIB !== mb) return `${mb}M`;
  const tb = Math.trunc(gb / KIB);
  if (tb * KIB !== gb) return `${gb}G`;
  return `${tb}T`;
}

/** Parse; throws Error(text) with Proxmox's text (caller wraps it as a parameter error). */
export function parsePropertyString(desc: FormatDesc, data: string): PropValues {
  const res: PropValues = {};
  let defaultKey: string | undefined;
  for (const part of data.split(",")) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/.exec(part);
    if (kv) {
      const k = kv[1];
      let v = kv[2];
      if (res[k] !== undefined) throw new Error(`duplicate key in comma-separated list property: ${k}`);
      const schema = desc[k];
      if (!schema) throw new Error(`invalid key in comma-separated list property: ${k}`);
      if (schema.type === "boolean") v = parseBoolean(v) ?? v;
      res[k] = v;
    } else if (!part.includes("=")) {
      if (defaultKey) throw new Error(`duplicate key in comma-separated list property: ${defaultKey}`);
      defaultKey = Object.keys(desc).find((k) => desc[k].defaultKey);
      if (!defaultKey) throw new Error("value without key, but schema does not define a default key");
      if (res[defaultKey] !== undefined)
        throw new Error(`duplicate key in comma-separated list property: ${defaultKey}`);
      res[defaultKey] = part;
    } else {
      throw new Error("missing key in comma-separated list property");
    }
  }
  // check_object (JSONSchema.pm): types and required keys.
  for (const [k, schema] of Object.entries(desc)) {
    const v = res[k];
    if (v === undefined) {
      if (!schema.optional) throw new Error(`${k}: property is missing and it is not optional`);
      continue;
    }
    if (schema.type === "boolean" && !/^[01]$/.test(v))
      throw new Error(`${k}: type check ('boolean') failed - got '${v}'`);
    if (schema.type === "integer" && !/^-?\d+$/.test(v))
      throw new Error(`${k}: type check ('integer') failed - got '${v}'`);
    if (schema.type === "number" && !/^-?\d+(\.\d+)?$/.test(v))
      throw new Error(`${k}: type check ('number') failed - got '${v}'`);
    if (schema.format === "disk-size") {
      const bytes = parseSize(v);
      if (bytes === undefined) throw new Error(`${k}: value '${v}' does not look like a valid disk size`);
      res[k] = String(bytes);
    }
  }
  return res;
}

export function printPropertyString(desc: FormatDesc, data: PropValues, skip: string[] = []): string {
  const done = new Set(skip);
  const parts: string[] = [];
  const add = (key: string, isDefault: boolean) => {
    if (done.has(key)) return;
    done.add(key);
    const value = data[key];
    if (value === undefined) return;
    const schema = desc[key];
    if (!schema) throw new Error(`invalid key '${key}'`);
    const text = schema.format === "disk-size" ? formatSize(Number(value)) : value;
    if (text.includes(",")) throw new Error(`illegal value with commas for ${key}`);
    parts.push(isDefault ? text : `${key}=${text}`);
  };
  const defaultKey = Object.keys(desc).find((k) => desc[k].defaultKey);
  if (defaultKey) add(defaultKey, true);
  const keys = Object.keys(data).sort();
  for (const k of keys) if (desc[k] && !desc[k].optional) add(k, false);
  for (const k of keys) add(k, false);
  return parts.join(",");
}
