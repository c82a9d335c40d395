import { createHash } from "node:crypto";
import {
  AGENT_FILES_END,
  AGENT_FILES_HEADER,
  AgentFile,
  agentFilesDigest,
  encodeAgentFilesPayload,
  validateAgentFilePath,
} from "../../components/lib/agentFiles";

const SECRET = "tg-bot-token-SECRET-0123456789";

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

const FILES: AgentFile[] = [
  { path: "workspace/USER.md", mode: 0o640, policy: "replace", content: "# User\nünïcødé ✓\n" },
  { path: "config.yaml", mode: 0o640, policy: "merge-yaml", content: "model:\n  api_key: ${LLM_API_KEY}\n" },
  { path: ".env", mode: 0o600, policy: "replace", content: `TELEGRAM_BOT_TOKEN='${SECRET}'\n` },
  { path: "auth.json", mode: 0o600, policy: "seed", content: "{}" },
  { path: "SOUL.md", mode: 0o640, policy: "replace", content: "" },
];

/** The error message of fn, or "" when it does not throw. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

describe("encodeAgentFilesPayload", () => {
  it("writes header, one sorted record per file (4-digit octal mode, base64 content) and an end line", () => {
    expect(encodeAgentFilesPayload(FILES)).toBe(
      [
        AGENT_FILES_HEADER,
        `file .env 0600 replace ${b64(`TELEGRAM_BOT_TOKEN='${SECRET}'\n`)}`,
        "file SOUL.md 0640 replace ",
        "file auth.json 0600 seed e30=",
        `file config.yaml 0640 merge-yaml ${b64("model:\n  api_key: ${LLM_API_KEY}\n")}`,
        `file workspace/USER.md 0640 replace ${b64("# User\nünïcødé ✓\n")}`,
        AGENT_FILES_END,
        "",
      ].join("\n"),
    );
    expect(AGENT_FILES_HEADER).toBe("hermes-lxc-agent-files v1");
  });

  it("keeps content byte-exact through base64 (UTF-8, newlines, quotes, empty)", () => {
    const content = "line 1\r\nline 2\n'quotes' \"dq\" \\ $HOME ${X} \t 🔑\n";
    const payload = encodeAgentFilesPayload([{ path: "a.txt", mode: 0o600, policy: "replace", content }]);
    const record = payload.split("\n")[1].split(" ");
    expect(record).toHaveLength(5);
    expect(Buffer.from(record[4], "base64").toString("utf8")).toBe(content);
    expect(payload).not.toContain("🔑");
  });

  it("does not depend on the order the files were given in", () => {
    expect(encodeAgentFilesPayload([...FILES].reverse())).toBe(encodeAgentFilesPayload(FILES));
  });

  it("accepts an empty file list", () => {
    expect(encodeAgentFilesPayload([])).toBe(`${AGENT_FILES_HEADER}\n${AGENT_FILES_END}\n`);
  });

  it.each([
    ["/etc/passwd", "relative"],
    ["../escape", '".."'],
    ["workspace/../../x", '".."'],
    ["./config.yaml", '"."'],
    ["workspace/./x", '"."'],
    ["a//b", "empty"],
    ["workspace/", "empty"],
    ["", "non-empty"],
    ["a/b/c/d/e", "deeper than 4"],
    ["with space.md", "letters, digits"],
    ["star*.md", "letters, digits"],
    ["back\\slash", "letters, digits"],
    ["ünï.md", "letters, digits"],
    ["new\nline", "letters, digits"],
    [".managed", "reserved"],
  ])("rejects the path %j", (badPath, reason) => {
    const message = errorOf(() =>
      encodeAgentFilesPayload([{ path: badPath, mode: 0o600, policy: "replace", content: SECRET }]),
    );
    expect(message).toContain(reason);
    expect(message).toContain(JSON.stringify(badPath));
    expect(message).not.toContain(SECRET);
  });

  it("refuses a path that is not a string (an untyped caller) with its own message", () => {
    for (const bad of [42, undefined, null])
      expect(() => validateAgentFilePath(bad as unknown as string)).toThrow(
        `agent file path ${JSON.stringify(String(bad))} must be a non-empty string`,
      );
  });

  it("accepts the deepest allowed path and dotfiles", () => {
    expect(() => validateAgentFilePath("a/b/c/d.md")).not.toThrow();
    expect(() => validateAgentFilePath(".env")).not.toThrow();
    expect(() => validateAgentFilePath("workspace/-dash_1.2")).not.toThrow();
  });

  it("rejects duplicate paths and a path used both as a file and a directory", () => {
    expect(
      errorOf(() =>
        encodeAgentFilesPayload([
          { path: ".env", mode: 0o600, policy: "replace", content: SECRET },
          { path: ".env", mode: 0o600, policy: "replace", content: SECRET },
        ]),
      ),
    ).toBe('agent file path ".env" is declared more than once');
    expect(
      errorOf(() =>
        encodeAgentFilesPayload([
          { path: "workspace", mode: 0o640, policy: "replace", content: "x" },
          { path: "workspace/USER.md", mode: 0o640, policy: "replace", content: "x" },
        ]),
      ),
    ).toContain('"workspace" is declared as a file but "workspace/USER.md" needs it as a directory');
  });

  it("rejects modes, policies and content it cannot carry, without echoing content", () => {
    // Plain JavaScript callers (or a cast) can get past the types; the encoder checks at run time too.
    const bad = (file: Record<string, unknown>) =>
      errorOf(() =>
        encodeAgentFilesPayload([
          { path: "x", mode: 0o600, policy: "replace", content: SECRET, ...file } as unknown as AgentFile,
        ]),
      );
    expect(bad({ mode: 0o644 })).toBe("agent file x: mode must be 0o600 or 0o640");
    expect(bad({ policy: "append" })).toBe("agent file x: policy must be replace, merge-yaml or seed");
    expect(bad({ content: undefined })).toBe("agent file x: content must be a string");
    const lone = bad({ content: `${SECRET}\ud800` });
    expect(lone).toBe("agent file x: content is not valid Unicode text");
  });
});

describe("agentFilesDigest", () => {
  it("is the sha256 hex of the payload, stable across declaration order and sensitive to content", () => {
    const payload = encodeAgentFilesPayload(FILES);
    expect(agentFilesDigest(payload)).toBe(createHash("sha256").update(payload, "utf8").digest("hex"));
    expect(agentFilesDigest(payload)).toMatch(/^[0-9a-f]{64}$/);
    expect(agentFilesDigest(encodeAgentFilesPayload([...FILES].reverse()))).toBe(agentFilesDigest(payload));
    const changed = FILES.map((f) => (f.path === ".env" ? { ...f, content: `${f.content}X=1\n` } : f));
    expect(agentFilesDigest(encodeAgentFilesPayload(changed))).not.toBe(agentFilesDigest(payload));
    expect(agentFilesDigest(payload)).not.toContain(SECRET);
  });
  it("ends with the end line the script waits for, and refuses a file that another path needs as a directory, at any depth", () => {
    const payload = encodeAgentFilesPayload([{ path: "a.txt", mode: 0o640, policy: "replace", content: "" }]);
    expect(payload.endsWith("\nend\n")).toBe(true);
    expect(() =>
      encodeAgentFilesPayload([
        { path: "workspace/a/b", mode: 0o640, policy: "replace", content: "x" },
        { path: "workspace/a/b/c.md", mode: 0o640, policy: "replace", content: "y" },
      ]),
    ).toThrow(
      'agent file path "workspace/a/b" is declared as a file but "workspace/a/b/c.md" needs it as a directory',
    );
  });
  it("sorts records by path whatever the declared order", () => {
    const names = ["d", "b", "e", "a", "c", "workspace/z", "workspace/a", ".env", "config.yaml", "SOUL.md"];
    const payload = encodeAgentFilesPayload(
      names.map((path) => ({ path, mode: 0o640, policy: "replace", content: path })),
    );
    const order = payload
      .split("\n")
      .filter((l) => l.startsWith("file "))
      .map((l) => l.split(" ")[1]);
    expect(order).toEqual([...names].sort());
  });
});
