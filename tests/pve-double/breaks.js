#!/usr/bin/env node
// Break-it-and-watch-it-fail for the PVE double: each entry below breaks one property the contract tests guard,
// in a scratch copy of tests/pve-double, runs the test file that must catch it, and reports whether it failed.
// Usage: node tests/pve-double/breaks.js [name...]   (exit 1 if any break went unnoticed)
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const repo = path.resolve(__dirname, "../..");
const BREAKS = [
  [
    "json-numbers",
    "pveConf.ts",
    'type === "boolean" || type === "integer" || type === "number"',
    "false",
    "sequences",
  ],
  [
    "rootfs-size-G",
    "propertyString.ts",
    'schema.format === "disk-size" ? formatSize(Number(value)) : value',
    "value",
    "sequences",
  ],
  [
    "lxc-pairs",
    "pveConf.ts",
    "out.lxc = sec.lxc.map(([k, v]) => [k, v]);",
    "out.lxc = sec.lxc.map(([k, v]) => `${k}: ${v}`);",
    "sequences",
  ],
  [
    "description-newline",
    "pveConf.ts",
    "descr += `${decodeText(m[1])}\\n`;",
    "descr += decodeText(m[1]);",
    "sequences",
  ],
  ["task-exitstatus", "tasks.ts", "if (!running) res.exitstatus = readStatus(file);", "", "tasks"],
  ["upid-fields", "tasks.ts", "${d.type}:${d.id}:${d.user}:`", "${d.type}`", "sequences"],
  [
    "newest-ticket-only",
    "auth.ts",
    "    if (!this.ageOk(m[3])) return undefined;",
    "    if (!this.ageOk(m[3]) || ticket !== this.newest) return undefined;",
    "auth",
    "  issueTicket(user: string): string {",
    '  private newest = "";\n  issueTicket(user: string): string {\n    this.newest = this.issueTicket2(user);\n    return this.newest;\n  }\n  issueTicket2(user: string): string {',
  ],
  ["no-csrf-check", "double.ts", 'method !== "GET" &&', 'method === "NONE" &&', "auth"],
  ["no-401-delay", "double.ts", "if (status === 401) {", "if (status === 999) {", "auth"],
  [
    "features-hotplugged",
    "lxcApi.ts",
    'const FASTPLUG = new Set([\n  "description",',
    'const FASTPLUG = new Set([\n  "features",\n  "description",',
    "conf",
  ],
  [
    "destroy-removes-bind-sources",
    "lxcApi.ts",
    'for (const m of mounts) if (m.type === "volume") fs.rmSync(m.source, { recursive: true, force: true });\n      for (const [k, v]',
    "for (const m of mounts) fs.rmSync(m.source, { recursive: true, force: true });\n      for (const [k, v]",
    "lifecycle",
  ],
  [
    "overwrite-existing-template",
    "nodeApi.ts",
    "throw new Error(`refusing to override existing file '${dest}'`);",
    "fs.rmSync(dest);",
    "template",
  ],
  ["fake-worker-pid", "tasks.ts", "const pid = worker.pid as number;", "const pid = process.pid;", "tasks"],
  [
    "vmid-per-node",
    "state.ts",
    "const on = this.vmlist().get(vmid);",
    "const on = undefined as string | undefined;",
    "lifecycle",
  ],
  ["log-password", "double.ts", 'REDACT.test(k) ? "<redacted>" : v', "v", "sequences"],
  [
    "host-managed-always",
    "double.ts",
    "hostManaged: maj > 9 || (maj === 9 && min >= 1)",
    "hostManaged: true",
    "lifecycle",
  ],
  [
    "protection-ignored-on-disks",
    "lxcApi.ts",
    "if (protection) throw die(`can't update CT ${vmid} drive '${opt}' - protection mode enabled`);",
    "",
    "sequences",
  ],
  [
    "cert-without-sans",
    "tls.ts",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "subjectAltName=DNS:pve.invalid",
    "tls",
  ],
  ["tls12-accepted", "double.ts", 'minVersion: "TLSv1.3"', 'minVersion: "TLSv1.2"', "tls"],
  [
    "offline-node-answers",
    "clusterApi.ts",
    "throw new ApiError(595, NODE_UNREACHABLE);",
    "void 0;",
    "cluster",
  ],
  ["recovery-keeps-node-up", "haApi.ts", "  ctx.state.offline.add(from);\n", "", "ha"],
  [
    "resources-node-from-state",
    "clusterApi.ts",
    "for (const [vmid, node] of list) out.push(",
    'for (const [vmid] of list) out.push(await guestEntry(ctx, ha, vmid, "pve1")); if (0) out.push(',
    "cluster",
  ],
  [
    "failback-ignores-nofailback",
    "clusterApi.ts",
    "if (!group || Number(group.nofailback ?? 0)) return undefined;",
    "if (!group) return undefined;",
    "cluster",
  ],
];

const only = process.argv.slice(2);
let unnoticed = 0;
for (const [name, file, from, to, test, from2, to2] of BREAKS) {
  if (only.length && !only.includes(name)) continue;
  const scratch = path.join(repo, "tests", `.pve-double-break-${name}`);
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.cpSync(__dirname, scratch, { recursive: true });
  const target = path.join(scratch, file);
  let text = fs.readFileSync(target, "utf8");
  const missing = [[from, to], ...(from2 ? [[from2, to2]] : [])].filter(([a]) => !text.includes(a));
  if (missing.length) {
    console.log(`${name}: PATTERN NOT FOUND in ${file} (update breaks.js)`);
    fs.rmSync(scratch, { recursive: true, force: true });
    unnoticed++;
    continue;
  }
  for (const [a, b] of [[from, to], ...(from2 ? [[from2, to2]] : [])]) text = text.replace(a, b);
  fs.writeFileSync(target, text);
  const r = spawnSync(
    "npx",
    [
      "jest",
      "-c",
      "jest.config.js",
      "--roots",
      scratch,
      "--testMatch",
      `${scratch}/contract/${test}.contract.test.ts`,
      "--maxWorkers=1",
      "--forceExit",
    ],
    { cwd: repo, encoding: "utf8", timeout: 300000 },
  );
  fs.rmSync(scratch, { recursive: true, force: true });
  const out = `${r.stdout}${r.stderr}`;
  const failed = (/Tests:\s+(\d+) failed/.exec(out) || [])[1];
  const firstFail = (/●\s+(.+)/.exec(out) || [])[1] || "(no test name)";
  if (r.status !== 0 && failed)
    console.log(`${name}: caught by ${test} (${failed} failed; first: ${firstFail.trim()})`);
  else {
    unnoticed++;
    console.log(`${name}: NOT CAUGHT by ${test} (exit ${r.status})`);
  }
}
process.exit(unnoticed ? 1 : 0);
