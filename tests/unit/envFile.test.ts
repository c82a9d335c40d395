/**
 * The .env quoting is proven against both parsers hermes reads the file with: python-dotenv's `dotenv_values`
 * (what hermes' env_loader uses, interpolation on; every interpreter here that has it, so a quirk of Debian's 0.21
 * or a newer pip one fails the test) and hermes' own reader (tests/unit/parsers/hermes_env.py, transcribed from
 * hermes' source). Every value must come back identical from each.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENV_FILE_HEADER, envValueProblem, renderEnvFile } from "../../components/lib/envFile";

const DUMP =
  "import json, sys; from dotenv import dotenv_values; json.dump([dotenv_values(f) for f in sys.argv[1:]], sys.stdout, ensure_ascii=False)";

function hasDotenv(python: string): boolean {
  return spawnSync(python, ["-c", "import dotenv"], { stdio: "ignore" }).status === 0;
}

/** Interpreters with python-dotenv, one per distinct interpreter (.ci/run installs Debian's python3-dotenv). */
function dotenvPythons(): string[] {
  const candidates = ["python3", "/usr/bin/python3"];
  const seen = new Set<string>();
  const found: string[] = [];
  for (const python of candidates) {
    if (!hasDotenv(python)) continue;
    const id = spawnSync(
      python,
      ["-c", "import sys, dotenv, os; print(os.path.realpath(sys.executable), dotenv.__file__)"],
      { encoding: "utf8" },
    ).stdout.trim();
    if (seen.has(id)) continue;
    seen.add(id);
    found.push(python);
  }
  return found;
}

const PYTHONS = dotenvPythons();
let tmp: string;

beforeAll(() => {
  if (PYTHONS.length === 0)
    throw new Error("python-dotenv is missing: apt-get install python3-dotenv (.ci/run does)");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "envfile-"));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Parses each text as a .env file with python-dotenv under `python` (one interpreter start for all of them). */
function parseMany(python: string, texts: string[]): Array<Record<string, string | null>> {
  const files = texts.map((text, i) => {
    const file = path.join(tmp, `t-${i}-${Math.random().toString(36).slice(2)}.env`);
    fs.writeFileSync(file, text);
    return file;
  });
  const r = spawnSync(python, ["-c", DUMP, ...files], {
    encoding: "utf8",
    env: { ...process.env, HOME: "/home/expanded" },
  });
  if (r.status !== 0) throw new Error(`dotenv_values failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<Record<string, string | null>>;
}

const HERMES_READER = path.join(__dirname, "parsers", "hermes_env.py");

/** Parses each text as a .env file with hermes' own reader. */
function parseManyHermes(texts: string[]): Array<Record<string, string>> {
  const files = texts.map((text, i) => {
    const file = path.join(tmp, `h-${i}-${Math.random().toString(36).slice(2)}.env`);
    fs.writeFileSync(file, text);
    return file;
  });
  const r = spawnSync("python3", [HERMES_READER, ...files], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`hermes_env.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<Record<string, string>>;
}

/** Parses `text` as a .env file with python-dotenv under `python`. */
function parse(python: string, text: string): Record<string, string | null> {
  return parseMany(python, [text])[0];
}

const NASTY: Record<string, string> = {
  SINGLE_QUOTE: "it's",
  DOUBLE_QUOTE: 'say "hi"',
  BOTH_QUOTES: `both ' and " quotes`,
  LONE_SINGLE: "'",
  LONE_DOUBLE: '"',
  BACKSLASH: "a\\b",
  DOUBLE_BACKSLASH: "a\\\\b",
  BACKSLASH_QUOTE_SINGLE: "x\\'y",
  BACKSLASH_QUOTE_DOUBLE: 'x\\"y',
  BACKSLASH_N: "not\\na newline",
  WINDOWS_PATH: "C:\\Users\\hermes\\file.txt",
  DOLLAR: "$",
  DOLLAR_VAR: "$HOME and $PATH",
  DOLLAR_BRACE_UNCLOSED_ISH: "$ {HOME}",
  HASH: "#not a comment",
  HASH_AFTER_SPACE: "value # still value",
  SPACES: "  leading and trailing  ",
  EQUALS: "a=b=c",
  TRAILING_BACKSLASH: "ends-with\\",
  EMPTY: "",
  TAB: "tab\there",
  BACKTICK: "`whoami`",
  SHELLY: "$(rm -rf /); echo pwned",
  KEY_LIKE: "sk-or-v1-0123456789abcdef",
  EXPORT_LIKE: "export FOO=bar",
};

describe("renderEnvFile", () => {
  it("writes a header, one line per variable sorted by name, bare where hermes' writer writes bare", () => {
    expect(
      renderEnvFile([
        { name: "B_VAR", value: "two" },
        { name: "A_VAR", value: "sk-or-v1-abc\\x" },
        { name: "_X", value: "" },
      ]),
    ).toBe(`${ENV_FILE_HEADER}\nA_VAR=sk-or-v1-abc\\x\nB_VAR=two\n_X=\n`);
    expect(ENV_FILE_HEADER).toMatch(/^# .*managed by hermes-lxc \(pulumi\).*overwritten/i);
  });

  it('uses double quotes, escaping \\ and ", when the value has whitespace, # or a quote (as hermes does)', () => {
    expect(renderEnvFile([{ name: "A", value: `it's "x" \\` + "y" }])).toBe(
      `${ENV_FILE_HEADER}\nA="it's \\"x\\" \\\\y"\n`,
    );
    expect(renderEnvFile([{ name: "A", value: "a#b" }])).toBe(`${ENV_FILE_HEADER}\nA="a#b"\n`);
  });

  it("renders an empty list as just the header", () => {
    expect(renderEnvFile([])).toBe(`${ENV_FILE_HEADER}\n`);
  });

  it.each(PYTHONS)("round-trips every nasty value exactly through python-dotenv (%s)", (python) => {
    const vars = Object.entries(NASTY).map(([name, value]) => ({ name, value }));
    expect(parse(python, renderEnvFile(vars))).toEqual(NASTY);
  });

  it.each(PYTHONS)(
    "round-trips each nasty value on its own, so one value cannot hide another's bug (%s)",
    (python) => {
      const entries = Object.entries(NASTY);
      const parsed = parseMany(
        python,
        entries.map(([name, value]) =>
          renderEnvFile([
            { name: "A_FIRST", value: "'" },
            { name, value },
            { name: "Z_LAST", value: '"' },
          ]),
        ),
      );
      entries.forEach(([name, value], i) => {
        expect(parsed[i]).toEqual({ A_FIRST: "'", [name]: value, Z_LAST: '"' });
      });
    },
  );

  it("round-trips every nasty value exactly through hermes' own reader, alone and together", () => {
    const entries = Object.entries(NASTY);
    const vars = entries.map(([name, value]) => ({ name, value }));
    const [all, ...each] = parseManyHermes([
      renderEnvFile(vars),
      ...entries.map(([name, value]) =>
        renderEnvFile([
          { name: "A_FIRST", value: "'" },
          { name, value },
        ]),
      ),
    ]);
    expect(all).toEqual(NASTY);
    entries.forEach(([name, value], i) => expect(each[i]).toEqual({ A_FIRST: "'", [name]: value }));
  });

  it.each(PYTHONS)(
    "is right to refuse ${: python-dotenv expands it in any quoting, hermes' reader never (%s)",
    (python) => {
      // Characterisation of the parsers, not of our code: the same line means two different values.
      const text = "A='${HOME}'\nB=\"${HOME}\"\nC=${HOME}\n";
      expect(parse(python, text)).toEqual({ A: "/home/expanded", B: "/home/expanded", C: "/home/expanded" });
      expect(parseManyHermes([text])[0]).toEqual({ A: "${HOME}", B: "${HOME}", C: "${HOME}" });
      // And backslashes in single quotes: python-dotenv unescapes \\, hermes keeps both (so we never single-quote).
      expect(parse(python, "A='a\\\\b'\n").A).not.toBe(parseManyHermes(["A='a\\\\b'\n"])[0].A);
    },
  );

  describe("rejections name the variable but never contain the value", () => {
    const SECRET = "hunter2-SECRET-VALUE";
    it.each([
      ["newline", `${SECRET}\nINJECTED=1`, "line break or NUL"],
      ["carriage return", `${SECRET}\r`, "line break or NUL"],
      ["NUL", `${SECRET}\0`, "line break or NUL"],
      ["unicode line separator", `${SECRET}\u2028`, "line break or NUL"],
      ["${ reference", `${SECRET}\${HOME}`, "${"],
      ["${ with a single quote", `${SECRET}'\${HOME}`, "${"],
      ["non-ASCII", `${SECRET}ü`, "non-ASCII"],
      ["backslash before a closing quote", `${SECRET} \\`, "ends with a backslash"],
      ["control character", `${SECRET}\x1b[0m`, "non-ASCII or control"],
    ])("%s", (_label, value, reason) => {
      let message = "";
      try {
        renderEnvFile([{ name: "MY_TOKEN", value }]);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain("MY_TOKEN");
      expect(message).toContain(reason);
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain("hunter2");
    });

    it.each(["lower", "1LEADING_DIGIT", "WITH-DASH", "WITH SPACE", "", "A=B", "ÜMLAUT", "A\nB"])(
      "bad name %j",
      (name) => {
        let message = "";
        try {
          renderEnvFile([{ name, value: SECRET }]);
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message).toContain(JSON.stringify(name));
        expect(message).toContain("^[A-Z_][A-Z0-9_]*$");
        expect(message).not.toContain(SECRET);
      },
    );

    it("duplicate names", () => {
      expect(() =>
        renderEnvFile([
          { name: "DUP", value: SECRET },
          { name: "OTHER", value: "x" },
          { name: "DUP", value: `${SECRET}2` },
        ]),
      ).toThrow(/^\.env variable DUP is set more than once$/);
    });
  });
});

describe("renderEnvFile's order", () => {
  it("sorts any number of variables by name, whatever the declared order", () => {
    const names = ["ZED", "A_1", "M", "B", "A", "_X", "Y2", "A_0", "TELEGRAM_BOT_TOKEN", "API_SERVER_KEY"];
    const lines = renderEnvFile(names.map((name) => ({ name, value: "v" })))
      .split("\n")
      .slice(1, -1);
    expect(lines.map((l) => l.split("=")[0])).toEqual([...names].sort());
  });
});

describe("envValueProblem", () => {
  it("refuses a value that is not a string (an untyped caller), naming neither", () => {
    for (const value of [undefined, null, 42, { toString: () => "x" }])
      expect(envValueProblem(value as unknown as string)).toBe("must be a string");
  });

  it("refuses a name that is not a string, even one that prints as a valid name", () => {
    const name = { toString: () => "A" } as unknown as string;
    expect(() => renderEnvFile([{ name, value: "x" }])).toThrow('.env variable name "A" must match');
  });
});
