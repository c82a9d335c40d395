/** components/lib/remoteScript.ts: how a template becomes one remote command. */
import { execFileSync } from "node:child_process";
import { readTemplate, renderRemoteCommand, shellQuote } from "../../components/lib/remoteScript";

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
  it("reads templates by plain file name only (no path, no other directory)", () => {
    expect(readTemplate("prepare-host-dirs.sh")).toMatch(/^#!/);
    for (const bad of ["../package.json", "/etc/passwd", "prepare-host-dirs.sh.bak", "x/y.sh", "A.sh", ""])
      expect(() => readTemplate(bad)).toThrow(/not a template name/);
  });
  it("quotes a value as exactly one shell word, quotes included", () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    // Every quote, not only the first: a second one would otherwise end the word and run what follows.
    const hostile = "a'b'; touch /tmp/pwned; echo 'c";
    expect(shellQuote(hostile)).toBe(`'a'\\''b'\\''; touch /tmp/pwned; echo '\\''c'`);
    expect(execFileSync("bash", ["-c", `printf %s ${shellQuote(hostile)}`], { encoding: "utf8" })).toBe(
      hostile,
    );
    expect(renderRemoteCommand("probe", "true", { B: "x y", A: 1 })).toBe(
      "A='1' B='x y' bash -c 'true' probe",
    );
  });
});
