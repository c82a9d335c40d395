/** templates/hermes-wrapper.sh, the `hermes` command on the Docker host, against a fake docker. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { WRAPPER_SH, useWorld, world } from "./agentFilesWorld";

useWorld();

describe("hermes-wrapper.sh", () => {
  let dockerLog: string;
  beforeEach(() => {
    dockerLog = path.join(fs.mkdtempSync(path.join(world.root, "wrapper-")), "docker.log");
  });

  function hermes(args: string[], ps: string[], extra: Record<string, string> = {}) {
    fs.rmSync(dockerLog, { force: true });
    const env = {
      PATH: `${world.fakeBin}:/usr/bin:/bin`,
      HOME: world.emptyHome,
      FAKE_DOCKER_LOG: dockerLog,
      FAKE_PS: ps.join("\n"),
      ...extra,
    };
    const r = spawnSync("/bin/bash", ["-c", WRAPPER_SH, "hermes", ...args], {
      env,
      encoding: "utf8",
      input: "",
    });
    const calls = fs.existsSync(dockerLog)
      ? fs
          .readFileSync(dockerLog, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split("\x1f").slice(0, -1))
      : [];
    return { status: r.status, stderr: r.stderr, calls, execs: calls.filter((c) => c[0] === "exec") };
  }

  const ONE = ["alpha hermes-alpha running"];
  const TWO = ["alpha hermes-alpha running", "beta hermes-beta running"];

  it("lists the containers by the hermes-lxc.agent label", () => {
    const r = hermes(["status"], ONE);
    expect(r.calls[0]).toEqual([
      "ps",
      "--all",
      "--filter",
      "label=hermes-lxc.agent",
      "--format",
      '{{.Label "hermes-lxc.agent"}} {{.Names}} {{.State}}',
    ]);
  });

  it("with a single agent, execs hermes in its container with the arguments untouched (no -t without a terminal)", () => {
    const r = hermes(["pairing", "approve", "telegram", "ABC123", "with space", "it's"], ONE);
    expect(r.status).toBe(0);
    expect(r.execs).toEqual([
      [
        "exec",
        "-i",
        "hermes-alpha",
        "hermes",
        "pairing",
        "approve",
        "telegram",
        "ABC123",
        "with space",
        "it's",
      ],
    ]);
  });

  it("selects with --agent NAME, --agent=NAME or HERMES_AGENT", () => {
    expect(hermes(["--agent", "beta", "status"], TWO).execs).toEqual([
      ["exec", "-i", "hermes-beta", "hermes", "status"],
    ]);
    expect(hermes(["--agent=alpha", "status"], TWO).execs).toEqual([
      ["exec", "-i", "hermes-alpha", "hermes", "status"],
    ]);
    expect(hermes(["status"], TWO, { HERMES_AGENT: "beta" }).execs).toEqual([
      ["exec", "-i", "hermes-beta", "hermes", "status"],
    ]);
    // --agent is only read as the first arguments: later it belongs to hermes.
    expect(hermes(["chat", "--agent", "x"], ONE).execs).toEqual([
      ["exec", "-i", "hermes-alpha", "hermes", "chat", "--agent", "x"],
    ]);
  });

  it("with several agents and no choice, prints the choices and exits 2", () => {
    const r = hermes(["status"], TWO);
    expect(r.status).toBe(2);
    expect(r.execs).toEqual([]);
    expect(r.stderr).toContain("--agent NAME");
    expect(r.stderr).toContain("alpha (container hermes-alpha, running)");
    expect(r.stderr).toContain("beta (container hermes-beta, running)");
  });

  it("exits 2 for an unknown agent, no agents, or a bad --agent", () => {
    let r = hermes(["--agent", "gamma", "status"], TWO);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no gateway container for agent gamma");
    expect(r.stderr).toContain("alpha (container hermes-alpha");
    r = hermes(["status"], []);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no hermes gateway container");
    r = hermes(["--agent"], TWO);
    expect(r.status).toBe(2);
    r = hermes(["--agent", "Bad Name", "x"], TWO);
    expect(r.status).toBe(2);
    expect(r.execs).toEqual([]);
  });

  it("refuses a stopped container with exit 1", () => {
    const r = hermes(["status"], ["alpha hermes-alpha exited"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("is exited, not running");
    expect(r.execs).toEqual([]);
  });
});
