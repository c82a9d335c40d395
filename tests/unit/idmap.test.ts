/** components/lib/idmap.ts: container ids to the host ids Proxmox maps them to. */
import { PROXMOX_UNPRIVILEGED_ID_BASE, hostIdFor, hostOwnerForGateway } from "../../components/lib/idmap";

describe("id map arithmetic", () => {
  it("maps the gateway uid 10000 to host uid 110000", () => {
    expect(hostOwnerForGateway({ uid: 10000, gid: 10000 })).toEqual({ uid: 110000, gid: 110000 });
    expect(hostIdFor(0)).toBe(PROXMOX_UNPRIVILEGED_ID_BASE);
    expect(hostIdFor(65535)).toBe(165535);
  });
  it("refuses ids outside the 65536-wide map", () => {
    expect(() => hostIdFor(65536)).toThrow(/outside the 0..65535 id map/);
    expect(() => hostIdFor(-1)).toThrow(/outside/);
    expect(() => hostIdFor(1.5)).toThrow(/outside/);
  });
  it("maps the uid and the gid each on its own (a host owner of uid:uid would lock the gateway's group out)", () => {
    expect(hostOwnerForGateway({ uid: 10000, gid: 20000 })).toEqual({ uid: 110000, gid: 120000 });
    expect(hostOwnerForGateway({ uid: 0, gid: 65534 })).toEqual({ uid: 100000, gid: 165534 });
  });
});
