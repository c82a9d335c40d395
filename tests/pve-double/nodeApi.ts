/**
 * Node-level endpoints: version, query-url-metadata, storage download-url and content, tasks.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { die, paramError } from "./errors";
import type { ClusterState } from "./state";
import type { TaskManager } from "./tasks";

type Params = Record<string, string>;

/** GET /version (pve-manager PVE/API2.pm:86-140). The version is an option of the double (8.4.x or 9.1.x). */
export function version(v: string): Record<string, unknown> {
  const [major, minor] = v.split(".");
  return { version: v, release: `${major}.${minor}`, repoid: "d0ub1e00", console: "xtermjs" };
}

/** query-url-metadata (pve-manager PVE/API2/Nodes.pm:1894-1985): a real HEAD request; a status other than 200
 *  fails with `invalid server response: '<status line>'`; filename from Content-Disposition or the URL. */
export async function queryUrlMetadata(
  state: ClusterState,
  node: string,
  params: Params,
): Promise<Record<string, unknown>> {
  state.node(node);
  if (!params.url) throw paramError({ url: "property is missing and it is not optional" });
  const url = params.url;
  if (!/^https?:\/\//.test(url)) throw paramError({ url: `value does not match the regex pattern` });
  const verify = params["verify-certificates"] === undefined || params["verify-certificates"] === "1";
  const res = await head(url, verify);
  if (res.status !== 200) throw die(`invalid server response: '${res.status} ${res.reason}'`);
  let filename: string | undefined;
  const disp = res.headers["content-disposition"];
  const dm = disp ? (/filename="([^"]*)"/.exec(disp) ?? /filename=([^;]*)/.exec(disp)) : null;
  if (dm) filename = dm[1];
  else {
    const um = /^[^?]+\/([^?/]*)(?:\?.*)?$/.exec(url);
    if (um) filename = um[1];
  }
  let type = res.headers["content-type"];
  const tm = type ? /^([^;]+);/.exec(type) : null;
  if (tm) type = tm[1];
  const out: Record<string, unknown> = {};
  if (filename) out.filename = filename;
  const size = res.headers["content-length"];
  if (size && Number(size)) out.size = Number(size);
  if (type) out.mimetype = type;
  return out;
}

function head(
  url: string,
  verify: boolean,
): Promise<{ status: number; reason: string; headers: Record<string, string | undefined> }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith("https:") ? https : http;
    const req = mod.request(
      url,
      { method: "HEAD", headers: { "User-Agent": "Proxmox VE" }, rejectUnauthorized: verify },
      (res) => {
        res.resume();
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
        resolve({ status: res.statusCode ?? 500, reason: res.statusMessage ?? "", headers });
      },
    );
    req.on("error", (e) =>
      resolve({ status: 500, reason: `Can't connect to ${new URL(url).host} (${e.message})`, headers: {} }),
    );
    req.setTimeout(30000, () => req.destroy(new Error("timeout")));
    req.end();
    void reject;
  });
}

const VZTMPL_EXT = /\.(?:(tar)(?!\.)|tar\.(gz|xz|zst|bz2))$/i; // pve-storage src/PVE/Storage.pm:118
const ALGOS = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

/** download-url (pve-storage src/PVE/API2/Storage/Status.pm:738-912) and download_file_from_url (pve-common
 *  src/PVE/Tools.pm:1486-1590): content and extension checks before the task; in the `download` task: an
 *  existing file is refused without a checksum (`refusing to override existing file '<path>'`), accepted with a
 *  matching one (`OK, got correct file already`), refused with a different one (`checksum mismatch: … aborting`);
 *  else wget to `<dest>.tmp_dwnl.<pid>`, checksum, rename. The worker id is the file name through encode_text. */
export async function downloadUrl(
  state: ClusterState,
  tasks: TaskManager,
  node: string,
  storage: string,
  params: Params,
  user: string,
): Promise<string> {
  const errors: Record<string, string> = {};
  for (const k of ["content", "filename", "url"])
    if (params[k] === undefined) errors[k] = "property is missing and it is not optional";
  if (params["checksum-algorithm"] !== undefined && !ALGOS.includes(params["checksum-algorithm"]))
    errors["checksum-algorithm"] =
      `value '${params["checksum-algorithm"]}' does not have a value in the enumeration '${ALGOS.join(", ")}'`;
  if (params["checksum-algorithm"] !== undefined && params.checksum === undefined)
    errors["checksum-algorithm"] = "missing property - 'checksum-algorithm' requires this property"; // `requires => 'checksum'`
  if (Object.keys(errors).length) throw paramError(errors);
  const st = state.storage(node, storage);
  if (st.type !== "dir") throw die(`can't upload to storage type '${st.type}', not a file based storage!`);
  const content = params.content;
  if (!st.content.includes(content))
    throw die(`storage '${storage}' is not configured for content-type '${content}'`);
  // normalize_content_filename (pve-storage src/PVE/Storage.pm:2483-2491)
  const filename = params.filename
    .replace(/\n$/, "")
    .replace(/^.*[/\\]/, "")
    .replace(/[^a-zA-Z0-9_.-]/g, "_");
  if (content !== "vztmpl") throw paramError({ content: `upload content-type '${content}' is not allowed` }); // iso/import: not modelled
  if (!VZTMPL_EXT.test(filename)) throw paramError({ filename: "wrong file extension" });
  const dir = state.layout.templateDir(node, storage);
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, filename);
  const algo = params["checksum-algorithm"];
  const expected = params.checksum;
  const verify = params["verify-certificates"] === undefined || params["verify-certificates"] === "1";
  // encode_text (pve-common src/PVE/ParseUtils.pm:62-66): control/high-bit, ':' and '%'.
  const workerId = filename.replace(/[:%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return tasks.start(node, "download", workerId, user, async (task) => {
    if (expected && !algo) throw new Error("checksum required but not specified");
    task.log(`downloading ${params.url} to ${dest}`);
    if (fs.existsSync(dest)) {
      if (algo && expected) {
        const got = fileHash(algo, dest);
        if (got.toLowerCase() === expected.toLowerCase()) {
          task.log(
            "calculating checksum of existing file...OK, got correct file already, no need to download",
          );
          return;
        }
        task.log("calculating checksum of existing file...");
        throw new Error(`checksum mismatch: got '${got}' != expect '${expected}', aborting`);
      }
      throw new Error(`refusing to override existing file '${dest}'`);
    }
    const tmp = `${dest}.tmp_dwnl.${process.pid}`;
    try {
      await wget(params.url, tmp, verify, (l) => task.log(l), task.signal);
      if (algo && expected) {
        const got = fileHash(algo, tmp);
        if (got.toLowerCase() !== expected.toLowerCase()) {
          task.log("calculating checksum...");
          throw new Error(`checksum mismatch: got '${got}' != expect '${expected}'`);
        }
        task.log("calculating checksum...OK, checksum verified");
      }
      fs.renameSync(tmp, dest);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    task.log(`download of '${params.url}' to '${dest}' finished`);
  });
}

function fileHash(algo: string, file: string): string {
  return createHash(algo).update(fs.readFileSync(file)).digest("hex");
}

/** `wget --progress=dot:giga -O <tmp> <url>` (Tools.pm:1540-1550); a failure is `download failed: <exit>`. */
function wget(
  url: string,
  out: string,
  verify: boolean,
  log: (l: string) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ["--progress=dot:giga", "-O", out, url];
    if (!verify) args.push("--no-check-certificate");
    const child = spawn("wget", args, { stdio: ["ignore", "ignore", "pipe"], signal });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (e) => reject(new Error(`download failed: ${e.message}`)));
    child.on("close", (code) => {
      for (const l of err.split("\n").filter(Boolean)) log(l);
      // run_command(errmsg => "download failed") (pve-common Tools.pm run_command)
      if (code === 0) resolve();
      else reject(new Error(`download failed: command 'wget ${args.join(" ")}' failed: exit code ${code}`));
    });
  });
}

/** GET storage content (pve-storage src/PVE/API2/Storage/Content.pm index; Plugin.pm:1693-1720 for vztmpl). */
export function listContent(state: ClusterState, node: string, storage: string, params: Params): unknown[] {
  const st = state.storage(node, storage);
  const res: unknown[] = [];
  if (
    st.type === "dir" &&
    st.content.includes("vztmpl") &&
    (!params.content || params.content === "vztmpl")
  ) {
    const dir = state.layout.templateDir(node, storage);
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
    for (const f of files) {
      const m = VZTMPL_EXT.exec(f);
      const full = path.join(dir, f);
      const stat = fs.statSync(full);
      if (!m || !stat.isFile()) continue;
      res.push({
        volid: `${storage}:vztmpl/${f}`,
        format: m[1] === "tar" ? "tar" : `t${m[2]}`,
        size: stat.size,
        ctime: Math.floor(stat.ctimeMs / 1000),
        content: "vztmpl",
      });
    }
  }
  return res;
}

/** DELETE storage content (pve-storage Content.pm delete): unused by the program (retainOnDelete); a simple
 *  unlink task here. */
export async function deleteContent(
  state: ClusterState,
  tasks: TaskManager,
  node: string,
  storage: string,
  volume: string,
  user: string,
): Promise<string> {
  state.storage(node, storage);
  const m = /^(?:([^:]+):)?vztmpl\/(.+)$/.exec(volume);
  const file = m ? path.join(state.layout.templateDir(node, storage), m[2]) : "";
  if (!m || !fs.existsSync(file)) throw die(`volume '${volume}' does not exist`);
  return tasks.start(
    node,
    "imgdel",
    volume.replace(/[:%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    user,
    async () => {
      fs.rmSync(file);
    },
  );
}
