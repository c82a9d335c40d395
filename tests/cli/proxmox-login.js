#!/usr/bin/env node
/**
 * A Pulumi program with nothing but the proxmoxve provider and one invoke (proxmoxve.getVersion), deployed (`up`: a
 * preview leaves a new provider unconfigured) with the real CLI and the real pulumi-resource-proxmoxve plugin: the invoke makes the provider log in (POST
 * /access/ticket) and read /version, over the TLS its client verifies as configured. The environment (PATH with the
 * CLI, PULUMI_HOME with the plugin installed, SSL_CERT_DIR, ...) is the caller's: the plugin inherits it.
 *
 * Usage: PROXMOX_PASSWORD=... node proxmox-login.js <workDir> <endpoint> <insecure:true|false>
 * Prints one JSON line: {ok, version} or {ok: false, error}.
 */
"use strict";
const automation = require("@pulumi/pulumi/automation");
const proxmoxve = require("@muhlba91/pulumi-proxmoxve");

async function main() {
  const [workDir, endpoint, insecure] = process.argv.slice(2);
  // The provider configured from stack config (proxmoxve:*), as a default provider: the same client the program's
  // explicit Provider builds from the same four inputs (endpoint, insecure, username, password).
  const program = async () => {
    const version = proxmoxve.getVersionOutput({});
    return { version: version.version };
  };
  let result;
  try {
    const stack = await automation.LocalWorkspace.createOrSelectStack(
      { stackName: "tls", projectName: "tls-probe", program },
      { workDir },
    );
    await stack.setAllConfig({
      "proxmoxve:endpoint": { value: endpoint },
      "proxmoxve:insecure": { value: insecure === "true" ? "true" : "false" },
      "proxmoxve:username": { value: "root@pam" },
      "proxmoxve:password": { value: process.env.PROXMOX_PASSWORD ?? "", secret: true },
    });
    const up = await stack.up({ color: "never" });
    result = { ok: true, version: up.outputs.version && up.outputs.version.value };
  } catch (e) {
    result = { ok: false, error: String((e && e.message) || e) };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
