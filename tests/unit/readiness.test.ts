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
});
