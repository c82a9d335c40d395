/**
 * The largest stack the config model accepts still gives remote commands Linux can run. A remote command reaches
 * the host as one argument of the login shell's `-c`, and the kernel refuses a single argument over 128 KiB
 * (MAX_ARG_STRLEN, 32 pages): the model's bounds (components/config/fields.ts) must keep every command below it.
 */
import { MAX_LIST } from "../../components/config/fields";
import { ofType, runProgram, unwrapSecrets } from "../helpers/mockProgram";
import { homelabWithSecrets } from "../helpers/stackFile";

const MAX_ARG_STRLEN = 128 * 1024;

/** A path of exactly `length` characters under `prefix`, unique by `i`. */
const longPath = (prefix: string, i: number, length = 255) => {
  const head = `${prefix}/m${String(i).padStart(3, "0")}-`;
  return head + "a".repeat(length - head.length);
};

function largestStack() {
  const raw = homelabWithSecrets() as any;
  const lxc = raw.lxcs.hermes;
  lxc.mounts = Array.from({ length: MAX_LIST }, (_, i) => ({
    hostPath: longPath("/mnt/pve/hdd", i),
    containerPath: longPath("/data", i),
    name: `m${i}`,
  }));
  lxc.stateMount = { hostPath: longPath("/var/lib/hermes-lxc", 999), containerPath: "/srv/hermes" };
  lxc.rawConfig = {
    extraLines: Array.from({ length: MAX_LIST }, (_, i) => `lxc.x${"k".repeat(60)}${i}: ${"v".repeat(1024)}`),
  };
  lxc.tags = Array.from({ length: MAX_LIST }, (_, i) => `t${i}${"x".repeat(60)}`);
  lxc.description = "d".repeat(8192);
  lxc.docker = {
    dockerCeVersion: "9".repeat(128),
    containerdVersion: "8".repeat(128),
    source: "debian",
    dockerIoVersion: "7".repeat(128),
  };
  raw.agents.hermes.workspaceMounts = lxc.mounts.map((m: { name: string }) => ({ source: m.name }));
  return raw;
}

describe("remote command size", () => {
  it("every remote command of the largest accepted stack stays below the kernel's 128 KiB argument limit", async () => {
    const run = await runProgram(largestStack());
    const sizes = ofType(run, "command:remote:Command").map((c) => ({
      name: c.name,
      bytes: Buffer.byteLength(String(unwrapSecrets(c.inputs.create)), "utf8"),
    }));
    const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    // Say what the largest one is, so a change that moves the margin shows in the test output.
    console.log(`largest remote command: ${largest.name}, ${largest.bytes} bytes of ${MAX_ARG_STRLEN}`);
    expect(sizes.filter((s) => s.bytes >= MAX_ARG_STRLEN)).toEqual([]);
    expect(sizes.length).toBeGreaterThan(4);
  });
});
