/**
 * components/config/fields.ts: the value kinds the whole config model is made of. Each is checked at its edges: what
 * it takes, what it refuses, and that a refusal says what is allowed. A few cases go through the whole stack to show
 * that the refusal names the key path.
 */
import { z } from "zod";
import {
  MAX_LINE,
  MAX_LIST,
  bool,
  envSecretValue,
  hostAddress,
  httpUrl,
  int,
  line,
  list,
  numericId,
  numericIds,
  secretValue,
  str,
  strictObject,
  text,
} from "../../components/config/fields";
import { parseStackConfig } from "../../components/config/stack";
import { problemsOf } from "../helpers/configProblems";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

/** The messages a schema gives for a value ([] when it takes it). */
const messages = (schema: z.ZodType, value: unknown): string[] =>
  schema.safeParse(value).error?.issues.map((i) => i.message) ?? [];

describe("int: a whole number, typed as a number or as its digits", () => {
  const count = int(-5, 100);

  it("reads numbers and digit strings (pulumi config set --path stores either)", () => {
    expect(count.parse(7)).toBe(7);
    expect(count.parse("7")).toBe(7);
    expect(count.parse("-5")).toBe(-5);
    expect(count.parse("0100")).toBe(100);
  });

  // Number() would read each of these, and something else than what was typed: only the whole text is a number.
  it.each([
    ["a leading blank", " 7"],
    ["a trailing blank", "7 "],
    ["a trailing newline", "7\n"],
    ["a sign", "+7"],
    ["a decimal point", "7.0"],
    ["an exponent", "1e1"],
    ["hexadecimal", "0x10"],
    ["binary", "0b11"],
    ["a unit", "7MB"],
    ["a prefix", "v7"],
    ["empty", ""],
  ])("refuses a string with %s, saying what is allowed", (_what, text) => {
    expect(messages(count, text)).toEqual(["must be a whole number between -5 and 100"]);
  });

  it("refuses a list holding a number (a stray [ ] in the stack file)", () => {
    expect(messages(count, [7])).toEqual(["must be a whole number between -5 and 100"]);
    expect(messages(count, ["7"])).toEqual(["must be a whole number between -5 and 100"]);
  });

  it("names the key path and the unit", () => {
    expect(problemsOf((raw) => (raw.lxcs.hermes.memoryMb = "4096 "))).toEqual([
      "lxcs.hermes.memoryMb: must be a whole number between 1536 and 1048576 MB",
    ]);
    expect(problemsOf((raw) => (raw.lxcs.hermes.cores = "0x2"))).toEqual([
      "lxcs.hermes.cores: must be a whole number between 1 and 128",
    ]);
  });
});

describe("bool: true or false, typed as a boolean or as the words", () => {
  it("reads the booleans and the words true and false", () => {
    expect(bool.parse(true)).toBe(true);
    expect(bool.parse(false)).toBe(false);
    expect(bool.parse("true")).toBe(true);
    expect(bool.parse("false")).toBe(false);
  });

  it.each(["", "yes", "no", "True", "FALSE", "1", "0", " true", 1, 0, null])("refuses %j", (v) => {
    expect(messages(bool, v)).toEqual(["must be true or false"]);
  });

  it("a switch typed as a word is the switch it names, and a wrong word names the key path", () => {
    const parse = (insecure: unknown) => {
      const raw = homelabWithSecrets() as any;
      raw.proxmox.insecure = insecure;
      return parseStackConfig(raw, { readFile: readProjectFile });
    };
    // TLS verification off is warned about: the word must reach the program as the switch it names.
    expect(parse("true").config.proxmox?.insecure).toBe(true);
    expect(parse("true").warnings).toContainEqual(expect.stringMatching(/^proxmox\.insecure is true/));
    expect(parse("false").config.proxmox?.insecure).toBe(false);
    expect(parse("false").warnings.filter((w) => w.includes("insecure"))).toEqual([]);
    expect(problemsOf((raw) => (raw.proxmox.insecure = "yes"))).toEqual([
      "proxmox.insecure: must be true or false",
    ]);
  });
});

describe("strictObject: unknown keys", () => {
  it("names every unknown key, quoted and comma-separated, and lists the allowed ones", () => {
    const block = strictObject({ port: str().optional(), bind: str().optional() });
    expect(messages(block, { prot: "1", bnid: "x" })).toEqual([
      `unknown key 'prot', 'bnid'; did you mean "port"?; allowed keys: port, bind`,
    ]);
  });
});

describe("hostAddress: an IPv4 address or a DNS name", () => {
  it.each([
    "10.1.10.30",
    "0.0.0.0",
    "pve",
    "pve1",
    "node-2.lan",
    "3com.example",
    "1password.example.org",
    "PVE.lan",
  ])("takes %j", (host) => expect(messages(hostAddress, host)).toEqual([]));

  // Digits and dots only: a mistyped address, never a name (every label of 10.0.0.256 is a valid DNS label).
  it.each(["10.0.0.256", "10.1.10", "10.1.10.30.1", "010.1.10.30", "10..1.30", "1"])(
    "refuses %j as an address, not as a name",
    (host) =>
      expect(messages(hostAddress, host)).toEqual([
        "is not a valid IPv4 address: four numbers 0-255 without leading zeros, such as 10.1.10.20 (or a DNS name)",
      ]),
  );

  it.each(["pve_1", "-pve", "pve.", "pve lan", "10.1.10.30:22"])(
    "refuses %j, saying what is allowed",
    (host) => {
      expect(messages(hostAddress, host)).toEqual([
        expect.stringMatching(/^must be an IPv4 address or a DNS name: must be lowercase DNS labels/),
      ]);
    },
  );

  it("names the key path", () => {
    expect(problemsOf((raw) => (raw.proxmox.nodes.gihyeon.address = "10.1.10.300"))).toEqual([
      "proxmox.nodes.gihyeon.address: is not a valid IPv4 address: four numbers 0-255 without leading zeros, such as 10.1.10.20 (or a DNS name)",
    ]);
  });
});

// Every character that some reader takes as the end of a line: a shell's read, Python's str.splitlines() (which
// hermes' .env reader uses), or a C string (NUL).
const LINE_BREAKS: Array<[string, string]> = [
  ["CR", "\r"],
  ["LF", "\n"],
  ["NUL", "\0"],
  ["vertical tab", "\v"],
  ["form feed", "\f"],
  ["file separator", "\x1c"],
  ["group separator", "\x1d"],
  ["record separator", "\x1e"],
  ["NEL", "\x85"],
  ["line separator", "\u2028"],
  ["paragraph separator", "\u2029"],
];

describe("secretValue: a password (Proxmox, LXC root): one line, not empty", () => {
  it.each(LINE_BREAKS)("refuses a %s inside it", (_what, ch) => {
    expect(messages(secretValue, `pass${ch}word1`)).toEqual([
      "must be a single line (no line breaks or NUL)",
    ]);
  });

  it("takes any other character, the letter V and blanks included", () => {
    for (const pw of ["VVVVVVVV", "Vv\\v/V", "pass word", "pässwörd€", "a'b\"c$d`e"])
      expect(messages(secretValue, pw)).toEqual([]);
  });

  it("refuses an empty password, naming the key path, and never echoes a value", () => {
    expect(problemsOf((raw) => (raw.proxmoxPassword = ""))).toEqual(["proxmoxPassword: must not be empty"]);
    const problems = problemsOf((raw) => (raw.proxmoxPassword = "secret\vpart"));
    expect(problems).toEqual(["proxmoxPassword: must be a single line (no line breaks or NUL)"]);
    expect(problems.join("\n")).not.toContain("secret");
    expect(problemsOf((raw) => (raw.lxcSecrets.hermes.rootPassword = "longenough\vpw"))).toEqual([
      "lxcSecrets.hermes.rootPassword: must be a single line (no line breaks or NUL)",
    ]);
  });
});

describe("envSecretValue: a secret bound for .env", () => {
  it("refuses an empty secret, naming the key path", () => {
    expect(messages(envSecretValue, "")).toEqual(["must not be empty"]);
    expect(problemsOf((raw) => (raw.agentSecrets.hermes.llmApiKey = ""))).toEqual([
      "agentSecrets.hermes.llmApiKey: must not be empty",
    ]);
    expect(problemsOf((raw) => (raw.agentSecrets.hermes.env.GITHUB_TOKEN = ""))).toEqual([
      "agentSecrets.hermes.env.GITHUB_TOKEN: must not be empty",
    ]);
  });

  it.each(LINE_BREAKS.filter(([, ch]) => ch !== "\0"))("refuses a %s inside it", (_what, ch) => {
    expect(messages(envSecretValue, `key${ch}value`)).not.toEqual([]);
  });
});

describe("numericId: an id typed as digits or as a number", () => {
  const id = numericId(/^\d{1,20}$/, "a numeric user id");

  it("takes digits and safe integers, as their digits", () => {
    expect(id.parse("987654321")).toBe("987654321");
    expect(id.parse(987654321)).toBe("987654321");
  });

  it("refuses a list holding an id (a stray [ ] in the stack file) rather than reading it as the id", () => {
    expect(id.safeParse([987654321]).success).toBe(false);
    expect(id.safeParse(["987654321"]).success).toBe(false);
    expect(
      problemsOf((raw) => (raw.agents.hermes.platforms.telegram = { allowedUsers: [[987654321]] })),
    ).toEqual([expect.stringMatching(/^agents\.hermes\.platforms\.telegram\.allowedUsers\[0\]: must be /)]);
  });
});

// Module-level building blocks: Stryker leaves their mutants out (static), so these edges are what catch a change.
describe("bounds: every string has a maximum length and every list a maximum count", () => {
  it("str: at most MAX_LINE characters by default, or the given maximum", () => {
    expect(messages(str(), "a".repeat(MAX_LINE))).toEqual([]);
    expect(messages(str(), "a".repeat(MAX_LINE + 1))).toEqual([`must be at most ${MAX_LINE} characters`]);
    expect(messages(str(3), "")).toEqual([]);
    expect(messages(str(3), "abcd")).toEqual(["must be at most 3 characters"]);
    expect(messages(str(), 5)).toEqual(["must be a string"]);
  });

  it("list: at most MAX_LIST entries, each checked", () => {
    expect(messages(list(str()), [])).toEqual([]);
    expect(messages(list(str()), Array(MAX_LIST).fill("a"))).toEqual([]);
    expect(messages(list(str()), Array(MAX_LIST + 1).fill("a"))).toEqual([
      `must have at most ${MAX_LIST} entries`,
    ]);
    expect(messages(list(str()), [1])).toEqual(["must be a string"]);
  });
});

describe("line and text", () => {
  it("line: one line, no control character at all (tab and DEL included), at most MAX_LINE", () => {
    expect(messages(line, "echo hello world ~/a-b_c.d")).toEqual([]);
    for (const ch of ["\t", "\x1b", "\x7f", "\x01", "\x1f", ...LINE_BREAKS.map(([, c]) => c)])
      expect([JSON.stringify(ch), messages(line, `a${ch}b`)]).toEqual([
        JSON.stringify(ch),
        ["must be a single line without control characters"],
      ]);
    expect(messages(line, "a".repeat(MAX_LINE + 1))).toEqual([`must be at most ${MAX_LINE} characters`]);
  });

  it("text: may span lines, never holds a NUL", () => {
    expect(messages(text(), "line one\nline two\r\n\ttabbed\n")).toEqual([]);
    expect(messages(text(), "a\0b")).toEqual(["must be text (contains a NUL character)"]);
    expect(messages(text(4), "abcde")).toEqual(["must be at most 4 characters"]);
  });
});

describe("httpUrl: an http(s) URL without blanks, quotes, backslashes or a trailing slash", () => {
  const url = httpUrl("https://mm.example.com");
  it.each([
    "https://mm.example.com",
    "http://10.1.10.5:8080",
    "https://h/a",
    "https://h/webhooks/twilio?x=1",
    `https://${"h".repeat(253)}`,
    `https://h/${"p".repeat(1025)}`,
  ])("takes %j", (u) => expect(messages(url, u)).toEqual([]));
  it.each([
    ["no scheme", "mm.example.com"],
    ["another scheme", "ftp://h"],
    ["nothing after the scheme", "https://"],
    ["a trailing slash", "https://h/"],
    ["a trailing slash after a path", "https://h/a/"],
    ["a blank in the host", "https://h h"],
    ["a blank in the path", "https://h/a b"],
    ["a quote", "https://h/a'b"],
    ["a double quote", 'https://h/a"b'],
    ["a backslash", "https://h\\a"],
    ["a backtick", "https://h/`id`"],
    ["a newline at the end", "https://h/a\n"],
    ["a leading blank", " https://h"],
    ["a host of 254 characters", `https://${"h".repeat(254)}`],
    ["a path of 1027 characters", `https://h/${"p".repeat(1026)}`],
  ])("refuses %s, with an example", (_what, u) =>
    expect(messages(url, u)).toEqual([
      "must be an http(s) URL without a trailing slash, e.g. https://mm.example.com",
    ]),
  );
});

describe("numericIds: a list of numeric ids (Telegram users, Discord users, roles, channels)", () => {
  const ids = numericIds("Discord user");
  it("takes 1 to 20 digits", () => {
    expect(ids.parse(["1", "9".repeat(20), 42])).toEqual(["1", "9".repeat(20), "42"]);
  });
  it.each([
    ["empty", ""],
    ["21 digits", "1".repeat(21)],
    ["a sign", "-1"],
    ["a letter", "12a"],
    ["a leading blank", " 12"],
    ["a trailing newline", "12\n"],
    ["two ids in one (hermes splits on commas)", "12,34"],
  ])("refuses %s, saying what is allowed", (_what, id) => {
    expect(messages(ids, [id])).toEqual(["must be a numeric Discord user id"]);
  });
});
