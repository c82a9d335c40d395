/** components/lib/dockerCpus.ts against the docker provider's own read-back rule (nanoInt64ToDecimalString). */
import { dockerCpus, nanoCpus, providerCpusString } from "../../components/lib/dockerCpus";

describe("dockerCpus", () => {
  it.each([
    ["2", "2.0"],
    ["1", "1.0"],
    ["1.5", "1.5"],
    ["0.5", "0.5"],
    ["0.25", "0.25"],
    ["3.75", "3.75"],
    ["12.5", "12.5"],
    ["10", "10."],
  ])("sends %s as the provider reads it back: %s", (input, readBack) => {
    expect(dockerCpus(input)).toBe(readBack);
    // What is sent reads back as itself: no perpetual diff on the next `pulumi up`.
    expect(providerCpusString(nanoCpus(readBack.endsWith(".") ? `${readBack}0` : readBack))).toBe(readBack);
  });

  it("refuses an amount the provider would read back as another one", () => {
    // 0.050000000 has nine zeros, so the provider rounds it to one decimal: 0.1.
    expect(providerCpusString(nanoCpus("0.05"))).toBe("0.1");
    expect(dockerCpus("0.05")).toBeUndefined();
  });
});

describe("providerCpusString", () => {
  it("reads zero NanoCPUs back as 0, as the provider does", () => {
    expect(providerCpusString(0n)).toBe("0");
    expect(dockerCpus("0")).toBe("0");
  });
});

describe("nanoCpus", () => {
  it("reads a whole decimal number only, and names what it refused", () => {
    expect(nanoCpus("2.5")).toBe(2_500_000_000n);
    for (const bad of ["x2", "2x", "2.5.", ".5", "2.1234567891", ""])
      expect(() => nanoCpus(bad)).toThrow(`not a decimal CPU count: ${bad}`);
  });
});
