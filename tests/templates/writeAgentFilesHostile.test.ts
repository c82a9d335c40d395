/**
 * templates/write-agent-files.sh against hostile input, as root on temp directories: payloads cut or forged (nothing
 * is written), links the agent planted (never followed), temp files of a killed run (swept), bad parameters.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { meta, useWorld } from "./agentFilesWorld";
import {
  clearDockerLog,
  dockerCalls,
  inAgent,
  installedHost,
  paths,
  payload,
  tempLeftovers,
  useWriteCase,
  write,
} from "./writeAgentFilesCase";

useWorld();
useWriteCase();

describe("write-agent-files.sh, hostile input", () => {
  describe("a bad payload writes nothing", () => {
    const cases: Array<[string, (p: string) => string, RegExp]> = [
      ["no end line (interrupted transfer)", (p) => p.replace(/end\n$/, ""), /no 'end' line/],
      [
        "cut in the middle of a record",
        (p) => p.slice(0, p.indexOf("file config.yaml") + 30),
        /no 'end' line/,
      ],
      ["empty stdin", () => "", /empty/],
      [
        "another version",
        (p) => p.replace("agent-files v1", "agent-files v2"),
        /unsupported payload version/,
      ],
      ["no header", (p) => p.split("\n").slice(1).join("\n"), /does not start with/],
      [
        "a malformed record",
        (p) => p.replace("file SOUL.md 0640 replace", "file SOUL.md 0640 SECRET-telegram replace"),
        /record 2 is malformed/,
      ],
      [
        "a path with ..",
        (p) => p.replace("file SOUL.md ", "file ../escape "),
        /'\.', '\.\.' or empty segment/,
      ],
      ["an absolute path", (p) => p.replace("file SOUL.md ", "file /etc/x "), /malformed|relative/],
      ["a path deeper than 4", (p) => p.replace("file SOUL.md ", "file a/b/c/d/e "), /deeper than 4/],
      ["a duplicate path", (p) => p.replace("file SOUL.md ", "file .env "), /declared twice/],
      ["the reserved .managed", (p) => p.replace("file SOUL.md ", "file .managed "), /reserved/],
      ["a file/directory clash", (p) => p.replace("file SOUL.md ", "file workspace "), /declared as a file/],
      [
        "a mode other than 0600/0640",
        (p) => p.replace("file SOUL.md 0640", "file SOUL.md 0644"),
        /malformed/,
      ],
      [
        "invalid base64",
        (p) => p.replace(/^(file SOUL\.md 0640 replace )\S+$/m, "$1abc"),
        /not valid base64/,
      ],
    ];

    it.each(cases)("%s, on a fresh host", (_label, mangle, message) => {
      const r = write(mangle(payload()));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
      expect(fs.existsSync(path.join(paths.caseDir, "srv"))).toBe(false);
      expect(fs.existsSync(paths.wrapperPath)).toBe(false);
      expect(dockerCalls()).toEqual([]);
    });

    it("no end line, on an installed host: every file keeps its bytes", () => {
      installedHost();
      const before = [".env", "config.yaml", "SOUL.md", "workspace/USER.md"].map((f) =>
        fs.readFileSync(inAgent(f), "utf8"),
      );
      clearDockerLog();
      const truncated = payload({
        env: [{ name: "LLM_API_KEY", value: "sk-SECRET-llm-new" }],
        user: "new user doc\n",
      }).replace(/end\n$/, "");
      const r = write(truncated, { MANAGED: "false" });
      expect(r.status).not.toBe(0);
      expect(
        [".env", "config.yaml", "SOUL.md", "workspace/USER.md"].map((f) =>
          fs.readFileSync(inAgent(f), "utf8"),
        ),
      ).toEqual(before);
      expect(fs.existsSync(inAgent(".managed"))).toBe(true);
      expect(dockerCalls()).toEqual([]);
    });
  });

  describe("symlinks planted by the agent are never followed", () => {
    let outside: string;
    beforeEach(() => {
      outside = path.join(paths.caseDir, "outside");
      fs.mkdirSync(outside, { mode: 0o700 });
    });

    it("config.yaml and .env as links to root-only files: the files outside stay untouched", () => {
      installedHost();
      const secretYaml = path.join(outside, "root-secret.yaml");
      const shadow = path.join(outside, "shadow");
      fs.writeFileSync(secretYaml, "stolen: SECRET-outside\n", { mode: 0o600 });
      fs.writeFileSync(shadow, "root:SECRET-hash:1:0:99999:7:::\n", { mode: 0o600 });
      fs.rmSync(inAgent("config.yaml"));
      fs.symlinkSync(secretYaml, inAgent("config.yaml"));
      fs.rmSync(inAgent(".env"));
      fs.symlinkSync(shadow, inAgent(".env"));

      const r = write(payload());
      expect(r.status).toBe(0);
      expect(fs.lstatSync(inAgent("config.yaml")).isFile()).toBe(true);
      expect(fs.lstatSync(inAgent(".env")).isFile()).toBe(true);
      expect(fs.readFileSync(inAgent("config.yaml"), "utf8")).not.toContain("stolen");
      expect(fs.readFileSync(secretYaml, "utf8")).toBe("stolen: SECRET-outside\n");
      expect(fs.readFileSync(shadow, "utf8")).toBe("root:SECRET-hash:1:0:99999:7:::\n");
      expect(meta(secretYaml)).toEqual({ uid: 0, gid: 0, mode: 0o600 });
      expect(meta(shadow)).toEqual({ uid: 0, gid: 0, mode: 0o600 });
    });

    it("auth.json as a link is replaced by the seed, not kept", () => {
      installedHost();
      const target = path.join(outside, "auth-target.json");
      fs.writeFileSync(target, "{}", { mode: 0o600 });
      fs.rmSync(inAgent("auth.json"));
      fs.symlinkSync(target, inAgent("auth.json"));
      const r = write(payload());
      expect(r.lines).toContain("seeded auth.json");
      expect(fs.lstatSync(inAgent("auth.json")).isFile()).toBe(true);
      expect(meta(target)).toEqual({ uid: 0, gid: 0, mode: 0o600 });
    });

    it("workspace as a link to another directory: refused, nothing written there", () => {
      installedHost();
      fs.rmSync(inAgent("workspace"), { recursive: true });
      fs.symlinkSync(outside, inAgent("workspace"));
      const r = write(payload({ user: "changed\n" }));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("workspace is a symbolic link");
      expect(fs.readdirSync(outside)).toEqual([]);
      expect(meta(outside)).toEqual({ uid: 0, gid: 0, mode: 0o700 });
    });
  });

  it("sweeps temp files left by a killed run", () => {
    installedHost();
    fs.writeFileSync(inAgent(".hermes-lxc-tmp.KILLED01"), "SECRET-telegram leftover");
    fs.writeFileSync(inAgent("workspace/.hermes-lxc-tmp.KILLED02"), "x");
    const r = write(payload());
    expect(r.status).toBe(0);
    expect(tempLeftovers()).toEqual([]);
  });

  it.each([
    ["OWNER_UID=0", { OWNER_UID: "0" }, /OWNER_UID must be an integer in 1\.\.65534/],
    ["a relative AGENT_DIR", { AGENT_DIR: "srv/hermes/x" }, /AGENT_DIR must be an absolute path/],
    ["AGENT_DIR with ..", { AGENT_DIR: "/srv/../etc" }, /must not contain/],
    ["MANAGED=yes", { MANAGED: "yes" }, /MANAGED must be true or false/],
    ["a bad AGENT_NAME", { AGENT_NAME: "Bad_Name" }, /AGENT_NAME must be a DNS label/],
    ["a bad CONTAINER_NAME", { CONTAINER_NAME: "-x" }, /CONTAINER_NAME/],
    ["no wrapper text", { HERMES_WRAPPER_SH: "" }, /HERMES_WRAPPER_SH is required/],
  ])("refuses %s before writing anything", (_label, extra, message) => {
    const r = write(payload(), extra);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(path.join(paths.caseDir, "srv"))).toBe(false);
  });
});
