import { deepMerge, isPlainObject } from "../../components/lib/deepMerge";

/** Freezes a value and everything under it, so any mutation by the code under test throws. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe("isPlainObject", () => {
  it.each([
    ["{}", {}, true],
    ["object literal", { a: 1 }, true],
    ["Object.create(null)", Object.create(null) as object, true],
    ["JSON.parse output", JSON.parse('{"a":{"b":1}}') as object, true],
    ["null", null, false],
    ["undefined", undefined, false],
    ["array", [1, 2], false],
    ["string", "x", false],
    ["number", 1, false],
    ["Date", new Date(0), false],
    ["Map", new Map(), false],
    ["class instance", new (class Foo {})(), false],
  ])("%s -> %s", (_label, value, expected) => {
    expect(isPlainObject(value)).toBe(expected);
  });
});

describe("deepMerge", () => {
  it("merges nested objects and lets the override win at leaves", () => {
    const base = { a: 1, nested: { keep: "base", over: "base", deeper: { x: 1, y: 2 } } };
    const override = { b: 2, nested: { over: "override", deeper: { y: 3, z: 4 } } };
    expect(deepMerge(base, override)).toEqual({
      a: 1,
      b: 2,
      nested: { keep: "base", over: "override", deeper: { x: 1, y: 3, z: 4 } },
    });
  });

  it("replaces arrays instead of concatenating them", () => {
    const merged = deepMerge(
      { list: [1, 2, 3], nested: { tools: ["a", "b"] } },
      { list: [9], nested: { tools: [] } },
    );
    expect(merged).toEqual({ list: [9], nested: { tools: [] } });
  });

  it("lets a scalar replace an object and an object replace a scalar", () => {
    expect(deepMerge({ model: { default: "x", provider: "custom" } }, { model: "anthropic/claude" })).toEqual(
      {
        model: "anthropic/claude",
      },
    );
    expect(deepMerge({ model: "anthropic/claude" }, { model: { default: "x" } })).toEqual({
      model: { default: "x" },
    });
  });

  it("keeps null as an explicit override value", () => {
    expect(deepMerge({ a: { b: 1 } }, { a: null })).toEqual({ a: null });
  });

  it("treats an undefined override value as not set", () => {
    expect(deepMerge({ a: 1, b: { c: 2 } }, { a: undefined, b: undefined })).toEqual({ a: 1, b: { c: 2 } });
  });

  it("does not mutate its inputs (deep-frozen inputs do not throw)", () => {
    const base = deepFreeze({ a: { b: [1, 2] }, c: 1 });
    const override = deepFreeze({ a: { d: { e: 1 } }, c: 2 });
    const before = JSON.stringify([base, override]);
    const merged = deepMerge(base, override);
    expect(merged).toEqual({ a: { b: [1, 2], d: { e: 1 } }, c: 2 });
    expect(JSON.stringify([base, override])).toBe(before);
  });

  it("returns ordinary data properties, as JSON.parse would: a caller may delete or redefine any key", () => {
    const merged = deepMerge({ a: 1, n: { b: 2 } }, { n: { c: 3 }, d: 4 });
    for (const [obj, key] of [
      [merged, "a"],
      [merged, "d"],
      [merged.n, "b"],
      [merged.n, "c"],
    ] as const)
      expect(Object.getOwnPropertyDescriptor(obj, key)).toEqual({
        value: (obj as Record<string, unknown>)[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    delete merged.a;
    expect(merged).toEqual({ n: { b: 2, c: 3 }, d: 4 });
  });

  it("returns a result that shares no objects or arrays with its inputs", () => {
    const base = { list: [1], only: { inBase: true } };
    const override = { added: { list: [2] }, only: { inOverride: true } };
    const merged = deepMerge(base, override) as {
      list: number[];
      only: Record<string, boolean>;
      added: { list: number[] };
    };
    merged.list.push(99);
    merged.only.inBase = false;
    merged.added.list.push(99);
    expect(base).toEqual({ list: [1], only: { inBase: true } });
    expect(override).toEqual({ added: { list: [2] }, only: { inOverride: true } });
  });

  it("keeps a __proto__ key from parsed config as data instead of changing the prototype", () => {
    const override = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const merged = deepMerge({}, override);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect((merged as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(merged).sort()).toEqual(["__proto__", "x"]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it("rejects non-object arguments", () => {
    expect(() => deepMerge([] as unknown as Record<string, unknown>, {})).toThrow("plain objects");
    expect(() => deepMerge({}, null as unknown as Record<string, unknown>)).toThrow("plain objects");
  });
});
