/** components/lib/remoteScript.ts: how a template becomes one remote command. */
import { execFileSync } from "node:child_process";
import { renderRemoteCommand, shellQuote } from "../../components/lib/remoteScript";

describe("remote command rendering", () => {
  const nasty = `it's "quoted" $HOME \`id\` $(id) ; rm -rf / \\ \n second line`;
  it("passes any value through bash unchanged", () => {
    const cmd = renderRemoteCommand("probe", 'printf "%s|%s" "$A" "$B"', { A: nasty, B: 42 });
    expect(execFileSync("bash", ["-c", cmd], { encoding: "utf8" })).toBe(`${nasty}|42`);
  });
  it("is deterministic and names the script", () => {
    const a = renderRemoteCommand("probe", "echo $0", { B: "1", A: "2" });
    expect(a).toBe(renderRemoteCommand("probe", "echo $0", { A: "2", B: "1" }));
    expect(execFileSync("bash", ["-c", a], { encoding: "utf8" }).trim()).toBe("probe");
  });
  it("rejects bad names and NUL", () => {
    expect(() => renderRemoteCommand("probe", "true", { "A;B": "x" })).toThrow(/not \[A-Z_\]/);
    expect(() => shellQuote("a\0b")).toThrow(/NUL/);
    expect(() => renderRemoteCommand("x y", "true", {})).toThrow(/script name/);
  });
});
