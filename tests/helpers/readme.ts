/** The README as tests read it: its fenced code blocks and inline code spans, outside the generated tables. */
import * as fs from "node:fs";
import * as path from "node:path";

export const README = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");

/** Fenced blocks: language and text, with the line each starts on. */
export function fencedBlocks(text = README): Array<{ lang: string; body: string; line: number }> {
  const out: Array<{ lang: string; body: string; line: number }> = [];
  const re = /^( *)```(\w*)\n([\s\S]*?)^\1```/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({
      lang: m[2],
      body: m[3].replace(new RegExp(`^${m[1]}`, "gm"), ""),
      line: text.slice(0, m.index).split("\n").length,
    });
  }
  return out;
}

/** Inline code spans outside fenced blocks and outside the generated configuration table. */
export function inlineSpans(text = README): string[] {
  const prose = text
    .replace(/^( *)```\w*\n[\s\S]*?^\1```/gm, "")
    .replace(/<!-- config-table[\s\S]*?<!-- config-table end -->/, "");
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
}

/**
 * The shell commands of a block, one per entry: lines joined where they continue, comments dropped, and every
 * command of a pipeline, `&&` chain or `$( )` listed on its own.
 */
export function shellCommands(body: string): string[] {
  const joined = body.replace(/\\\n/g, " ");
  const commands: string[] = [];
  for (const raw of joined.split("\n")) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line) continue;
    const subs = [...line.matchAll(/\$\(([^()]*)\)/g)].map((m) => m[1]);
    for (const part of [line.replace(/\$\([^()]*\)/g, "X"), ...subs]) {
      for (const cmd of part.split(/\|\||&&|\||;|\(|\)/)) {
        const c = cmd.trim();
        if (c) commands.push(c);
      }
    }
  }
  return commands;
}
