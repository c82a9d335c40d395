/**
 * The .env quoting is proven against the real parser: python-dotenv's `dotenv_values`, which is what hermes'
 * load_hermes_dotenv() calls (interpolation on). Every interpreter on this machine that has python-dotenv is used
 * (the pip one and Debian's python3-dotenv 0.21, when both exist), so a quirk of either version fails the test.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENV_FILE_HEADER, renderEnvFile } from "../../components/lib/envFile";

const DUMP =
  "import json, sys; from dotenv import dotenv_values; json.dump([dotenv_values(f) for f in sys.argv[1:]], sys.stdout, ensure_ascii=False)";

function hasDotenv(python: string): boolean {
  return spawnSync(python, ["-c", "import dotenv"], { stdio: "ignore" }).status === 0;
}

/** Interpreters with python-dotenv, one per distinct interpreter; installs Debian's package if none has it. */
function dotenvPythons(): string[] {
  const candidates = ["python3", "/usr/bin/python3"];
  if (!candidates.some(hasDotenv) && process.getuid?.() === 0 && fs.existsSync("/usr/bin/apt-get")) {
    spawnSync("apt-get", ["install", "-y", "python3-dotenv"], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
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
    throw new Error("python-dotenv is required for these tests: apt-get install -y python3-dotenv");
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
  UNICODE: "ünïcødé ✓ 🔑 密钥",
  EMPTY: "",
  TAB: "tab\there",
  BACKTICK: "`whoami`",
  SHELLY: "$(rm -rf /); echo pwned",
  KEY_LIKE: "sk-or-v1-0123456789abcdef",
  EXPORT_LIKE: "export FOO=bar",
};

describe("renderEnvFile", () => {
  it("writes a header, one single-quoted line per variable sorted by name, and a trailing newline", () => {
    expect(
      renderEnvFile([
        { name: "B_VAR", value: "two" },
        { name: "A_VAR", value: "one" },
        { name: "_X", value: "" },
      ]),
    ).toBe(`${ENV_FILE_HEADER}\nA_VAR='one'\nB_VAR='two'\n_X=''\n`);
    expect(ENV_FILE_HEADER).toMatch(/^# .*managed by hermes-lxc \(pulumi\).*overwritten/i);
  });

  it('uses double quotes (escaping \\ and ") only when the value has a single quote', () => {
    expect(renderEnvFile([{ name: "A", value: `it's "x" \\` + "y" }])).toBe(
      `${ENV_FILE_HEADER}\nA="it's \\"x\\" \\\\y"\n`,
    );
    expect(renderEnvFile([{ name: "A", value: "a\\b" }])).toBe(`${ENV_FILE_HEADER}\nA='a\\\\b'\n`);
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

  it.each(PYTHONS)(
    "is right to refuse ${ and trailing backslashes: python-dotenv mangles them in any quoting (%s)",
    (python) => {
      // Characterisation of the parser, not of our code: single quotes do NOT keep ${HOME} literal.
      expect(parse(python, "A='${HOME}'\nB=\"${HOME}\"\n")).toEqual({
        A: "/home/expanded",
        B: "/home/expanded",
      });
      // A value ending in a backslash swallows the next line (and loses that variable).
      expect(parse(python, "A='end\\'\nB='next'\n")).not.toEqual({ A: "end\\", B: "next" });
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
      ["trailing backslash", `${SECRET}\\`, "backslash"],
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
