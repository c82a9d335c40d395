/**
 * The stdin payload of templates/write-agent-files.sh: every file the stack declares for an agent's data directory.
 *
 * Format (text, one record per line; base64 keeps any byte of the content safe on a line):
 *
 *     hermes-lxc-agent-files v1
 *     file <path> <mode as 4 octal digits> <policy> <base64 of the UTF-8 content>
 *     ...
 *     end
 *
 * The `end` line lets the script tell a complete payload from an interrupted transfer. Records are sorted by path,
 * so the same files give the same payload (and digest) whatever order they were declared in. The script re-checks
 * everything validated here: this side fails at preview time, that side refuses a payload that was tampered with.
 */
import { createHash } from "node:crypto";

/** How the script installs a file. */
export type AgentFilePolicy = "replace" | "merge-yaml" | "seed";

/** Permission bits of an installed file: 0600 for secrets (.env, auth.json), 0640 for the rest. */
export type AgentFileMode = 0o600 | 0o640;

/** One file under the agent directory (the container's /opt/data). */
export interface AgentFile {
  /** Path relative to the agent directory, e.g. "config.yaml", ".env", "workspace/USER.md". */
  path: string;
  /** Mode of the installed file; the owner is always the gateway's uid:gid. */
  mode: AgentFileMode;
  /**
   * replace: write when the bytes differ; seed: write only when the file is absent (hermes owns it afterwards,
   * e.g. auth.json with refreshed OAuth tokens); merge-yaml: merge this YAML into the file on disk (declared keys
   * win, keys only on disk are kept) and write when the result differs.
   */
  policy: AgentFilePolicy;
  /** File content (text). */
  content: string;
}

/** First line of every payload; the script rejects any other header or version. */
export const AGENT_FILES_HEADER = "hermes-lxc-agent-files v1";

/** Last line of every payload. */
export const AGENT_FILES_END = "end";

/** Deepest allowed path, in segments ("workspace/notes/a/b.md" is 4). */
export const MAX_PATH_DEPTH = 4;

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MODES: ReadonlySet<number> = new Set([0o600, 0o640]);
const POLICIES: ReadonlySet<string> = new Set(["replace", "merge-yaml", "seed"]);
// write-agent-files.sh owns this marker (MANAGED=true|false); a payload file of that name would fight it.
const RESERVED_PATHS: ReadonlySet<string> = new Set([".managed"]);

/** Throws unless `path` is a safe relative path: segments of [A-Za-z0-9._-], no "." or "..", depth at most 4. */
export function validateAgentFilePath(path: string): void {
  const shown = JSON.stringify(String(path));
  if (typeof path !== "string" || path === "") {
    throw new Error(`agent file path ${shown} must be a non-empty string`);
  }
  if (path.startsWith("/")) {
    throw new Error(`agent file path ${shown} must be relative to the agent directory (no leading /)`);
  }
  const segments = path.split("/");
  if (segments.length > MAX_PATH_DEPTH) {
    throw new Error(`agent file path ${shown} is deeper than ${MAX_PATH_DEPTH} segments`);
  }
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new Error(`agent file path ${shown} has an empty, "." or ".." segment`);
    }
    if (!SEGMENT.test(segment)) {
      throw new Error(
        `agent file path ${shown} may only use letters, digits, ".", "_" and "-" in each segment`,
      );
    }
  }
  if (RESERVED_PATHS.has(path)) {
    throw new Error(`agent file path ${shown} is reserved: write-agent-files.sh manages it (MANAGED)`);
  }
}

/** Throws when the set of paths has duplicates or uses one path both as a file and as a directory. */
function validatePathSet(paths: string[]): void {
  const all = new Set<string>();
  for (const path of paths) {
    if (all.has(path)) {
      throw new Error(`agent file path ${JSON.stringify(path)} is declared more than once`);
    }
    all.add(path);
  }
  for (const path of paths) {
    const segments = path.split("/");
    for (let i = 1; i < segments.length; i += 1) {
      const dir = segments.slice(0, i).join("/");
      if (all.has(dir)) {
        throw new Error(
          `agent file path ${JSON.stringify(dir)} is declared as a file but ${JSON.stringify(path)} needs it as a directory`,
        );
      }
    }
  }
}

/** Encodes the files as the write-agent-files.sh stdin payload (sorted by path, base64 content, `end` line). */
export function encodeAgentFilesPayload(files: AgentFile[]): string {
  for (const file of files) {
    validateAgentFilePath(file.path);
    if (!MODES.has(file.mode)) {
      throw new Error(`agent file ${file.path}: mode must be 0o600 or 0o640`);
    }
    if (!POLICIES.has(file.policy)) {
      throw new Error(`agent file ${file.path}: policy must be replace, merge-yaml or seed`);
    }
    if (typeof file.content !== "string") {
      throw new Error(`agent file ${file.path}: content must be a string`);
    }
    if (Buffer.from(file.content, "utf8").toString("utf8") !== file.content) {
      // A lone UTF-16 surrogate would silently become U+FFFD on the way to UTF-8.
      throw new Error(`agent file ${file.path}: content is not valid Unicode text`);
    }
  }
  validatePathSet(files.map((f) => f.path));
  const records = [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => {
      const mode = f.mode.toString(8).padStart(4, "0");
      const data = Buffer.from(f.content, "utf8").toString("base64");
      return `file ${f.path} ${mode} ${f.policy} ${data}`;
    });
  return `${[AGENT_FILES_HEADER, ...records, AGENT_FILES_END].join("\n")}\n`;
}

/** SHA-256 (hex) of a payload, for change triggers that must not carry the payload (it holds secrets) themselves. */
export function agentFilesDigest(payload: string): string {
  return createHash("sha256").update(payload, "utf8").digest("hex");
}
