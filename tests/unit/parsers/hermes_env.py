"""hermes-agent's own .env reader, transcribed for tests/unit/envFile.test.ts.

hermes reads $HERMES_HOME/.env twice over: python-dotenv fills the process environment (hermes_cli/env_loader.py),
and its own small reader serves load_env(), cron jobs and the dashboard. This is that reader's behaviour, written
from NousResearch/hermes-agent agent/secret_scope.py (load_env_file, _strip_inline_comment) @0474a0e and
hermes_cli/config.py (_parse_env_value) @1c083ee:
- lines are split with str.splitlines() and stripped; blank lines and `#` lines are skipped; `export ` is dropped;
- the first `=` splits name and value; an inline ` #` comment is cut after a closing quote or, bare, after blanks;
- "double quoted" values unescape only \\\\ and \\" (other backslashes stay), 'single quoted' ones are literal;
- nothing is expanded: `${VAR}` stays as written.
Usage: python3 hermes_env.py FILE... prints a JSON list of {name: value} per file.
"""
import json
import re
import sys


def _strip_inline_comment(value):
    value = value.strip()
    if not value:
        return value
    if value[0] in ("'", '"'):
        quote, i = value[0], 1
        while i < len(value):
            ch = value[i]
            if quote == '"' and ch == "\\":
                i += 2
                continue
            if ch == quote:
                return value[: i + 1] if value[i + 1 :].lstrip().startswith("#") else value
            i += 1
        return value
    return re.split(r"\s+#", value, maxsplit=1)[0].strip()


def _parse_env_value(raw):
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        quoted, out, i = value[1:-1], [], 0
        while i < len(quoted):
            ch = quoted[i]
            if ch == "\\" and i + 1 < len(quoted) and quoted[i + 1] in {'"', "\\"}:
                out.append(quoted[i + 1])
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value


def load_env_text(text):
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key:
            values[key] = _parse_env_value(_strip_inline_comment(value))
    return values


if __name__ == "__main__":
    out = []
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8-sig") as f:
            out.append(load_env_text(f.read()))
    json.dump(out, sys.stdout, ensure_ascii=False)
