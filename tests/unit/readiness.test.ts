/** components/lib/readiness.ts: what wait-for-container.sh prints, parsed. */
import { parseReadiness } from "../../components/lib/readiness";
import { KEY } from "../helpers/sampleKey";

describe("readiness output", () => {
  it("reads address and host key", () => {
    const r = parseReadiness(`address=10.1.10.57\nhost_key=${KEY}\n`);
    expect(r.address).toBe("10.1.10.57");
    expect(r.hostKey).toBe(KEY);
    expect(r.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
  it.each([
    ["host_key=" + KEY, /no valid address/],
    ["address=10.1.10.57", /no host_key/],
    ["address=10.1.10.57\nhost_key=ssh-ed25519 AAAA", /host key is invalid/],
    ["address=not-an-ip\nhost_key=" + KEY, /no valid address/],
  ])("rejects %j", (out, reason) => expect(() => parseReadiness(out)).toThrow(reason));
  it("takes only whole `key=value` lines: text that merely contains host_key= cannot replace the pinned key", () => {
    const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM18ekfYgdyWdHLcFACEVv3jEYKWmPqhqoAF4oN3Mdaw";
    const r = parseReadiness(
      `address=10.1.10.57\nhost_key=${KEY}\nnote: host_key=${other}\n# host_key=${other}\n`,
    );
    expect(r.hostKey).toBe(KEY);
    expect(parseReadiness(`  address=10.1.10.57  \n\thost_key=${KEY}\n`).address).toBe("10.1.10.57");
    expect(() => parseReadiness(`address=10.1.10.57 extra\nhost_key=${KEY}`)).toThrow(/no valid address/);
  });
  it("takes a line whole up to its end: a carriage return inside a value does not leave the part before it", () => {
    expect(() => parseReadiness(`address=10.1.10.57\r10.9.9.9\nhost_key=${KEY}`)).toThrow(/no valid address/);
    expect(() => parseReadiness(`address=10.1.10.57\nhost_key=${KEY}\u2028ssh-ed25519 AAAA`)).toThrow(
      /no host_key|host key is invalid/,
    );
  });
  it("quotes at most 200 characters of the output in its error", () => {
    const message = (() => {
      try {
        parseReadiness("x".repeat(1000));
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    })();
    expect(message).toBe(`readiness output has no valid address= line: "${"x".repeat(200)}"`);
  });
});
