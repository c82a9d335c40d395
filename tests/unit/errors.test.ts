/**
 * How the config model reports (components/config/errors.ts): one line per problem, each starting with its key path
 * written as the user would type it in `pulumi config set --path`, and pasteable commands that name the stack.
 */
import { ConfigError, checkUnique, formatPath, namingStack } from "../../components/config/errors";

describe("ConfigError", () => {
  it("says nothing was deployed and lists every problem on its own line", () => {
    const e = new ConfigError(["lxcs.hermes.vmId: must be 100-999999999", "proxmoxPassword: is required"]);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("ConfigError");
    expect(e.problems).toEqual(["lxcs.hermes.vmId: must be 100-999999999", "proxmoxPassword: is required"]);
    expect(e.message.split("\n")).toEqual([
      "Invalid stack configuration (nothing was deployed):",
      "  - lxcs.hermes.vmId: must be 100-999999999",
      "  - proxmoxPassword: is required",
    ]);
  });
});

describe("formatPath: a key path as pulumi config set --path takes it", () => {
  it.each([
    [["lxcs", "hermes", "mounts", 1, "hostPath"], "lxcs.hermes.mounts[1].hostPath"],
    [["agents", "my_agent-2", "llm"], "agents.my_agent-2.llm"],
    // A key that is not a plain identifier is quoted in brackets, whole: a document name, a key with a space, one
    // that starts with a digit or a dash.
    [["agents", "hermes", "documents", "USER.md"], 'agents.hermes.documents["USER.md"]'],
    [["agents", "hermes", "environment", "MY VAR"], 'agents.hermes.environment["MY VAR"]'],
    [["lxcs", "9hermes"], 'lxcs["9hermes"]'],
    [["lxcs", "-x"], 'lxcs["-x"]'],
    [["USER.md"], '["USER.md"]'],
    [[0, "a"], "[0].a"],
    [[], "(root)"],
  ])("%j is %s", (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});

describe("namingStack: commands to paste name the stack", () => {
  it.each([
    [
      "set it with: pulumi config set --secret proxmoxPassword",
      "set it with: pulumi config set -s prod --secret proxmoxPassword",
    ],
    [
      "pulumi config rm --path 'a.b'; then pulumi up --yes",
      "pulumi config rm -s prod --path 'a.b'; then pulumi up -s prod --yes",
    ],
    ["pulumi stack output agents", "pulumi stack output -s prod agents"],
    // Already named: left alone. A word that only starts like a command, or a command that ends the text: left alone.
    ["pulumi config set -s other x", "pulumi config set -s other x"],
    ["pulumi update x", "pulumi update x"],
    ["run pulumi up", "run pulumi up"],
  ])("%s", (message, expected) => {
    expect(namingStack(message, "prod")).toBe(expected);
  });
});

describe("checkUnique", () => {
  it("reports every later entry with the first one's place", () => {
    const problems: string[] = [];
    checkUnique(
      [
        ["118", "lxcs.a.vmId"],
        ["119", "lxcs.b.vmId"],
        ["118", "lxcs.c.vmId"],
        ["118", "lxcs.d.vmId"],
      ],
      "is the same as",
      problems,
    );
    expect(problems).toEqual([
      "lxcs.c.vmId: is the same as lxcs.a.vmId",
      "lxcs.d.vmId: is the same as lxcs.a.vmId",
    ]);
  });
});
