/**
 * `pulumi preview` of each stack the README ships instructions for, with the real engine and the real provider
 * plugins (the CLI tier stops where a plugin is needed): the homelab stack exactly as committed, and the README's
 * dockerHosts example, each with its secrets set as the README says.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { generateClientKey, readmeBlock } from "../cli/harness";
import { REPO_ROOT } from "../system/harness";
import { EngineWorld } from "./engineWorld";

const stacks: Array<{
  stack: string;
  file: () => string;
  keyPath?: string;
  /** Plain values the README's setup sets over the stack file's placeholders (given the user's public key). */
  plain?: (publicKey: string) => Record<string, string>;
  secrets: Record<string, string>;
}> = [
  {
    stack: "homelab",
    file: () => fs.readFileSync(path.join(REPO_ROOT, "Pulumi.homelab.yaml"), "utf8"),
    // The README's setup puts the user's own key into the LXC's rootSshKeys (the pre-flight check wants it).
    keyPath: "lxcs.hermes.rootSshKeys[0]",
    secrets: {
      proxmoxPassword: "canary-pve-password",
      "agentSecrets.hermes.llmApiKey": "canary-llm-key-1234",
      "agentSecrets.hermes.telegramBotToken": "123456:canary-telegram-token",
    },
  },
  {
    stack: "dockerhost",
    file: () => readmeBlock("stack-dockerhost"),
    // The README's setup-dockerhost block replaces the sample's placeholders (its address and host key are refused).
    plain: (publicKey) => ({
      "dockerHosts.box.address": "192.0.2.10",
      "dockerHosts.box.hostKey": publicKey,
      "agents.hermes.llm.baseUrl": "https://openrouter.ai/api/v1",
      "agents.hermes.llm.model": "anthropic/claude-sonnet-4",
    }),
    secrets: {
      "agentSecrets.hermes.llmApiKey": "canary-llm-key-1234",
      "agentSecrets.hermes.telegramBotToken": "123456:canary-telegram-token",
    },
  },
];

describe.each(stacks)(
  "pulumi preview of the $stack stack with the real plugins",
  ({ stack, file, keyPath, plain, secrets }) => {
    let world: EngineWorld;
    afterAll(() => world?.remove());

    it("plans every resource, with no error and no secret in the output", async () => {
      world = new EngineWorld(stack, file());
      // ssh.privateKeyPath ~/.ssh/id_ed25519 of the stacks: the world's HOME gets one.
      const key = generateClientKey(world.root);
      world.cli(["stack", "init", stack, "--secrets-provider", "passphrase"]);
      const pub = fs.readFileSync(`${key}.pub`, "utf8").trim();
      if (keyPath) world.cli(["config", "set", "--stack", stack, "--path", keyPath, pub]);
      for (const [k, v] of Object.entries(plain?.(pub.split(/\s+/).slice(0, 2).join(" ")) ?? {})) {
        world.cli(["config", "set", "--stack", stack, "--path", k, v]);
      }
      for (const [key, value] of Object.entries(secrets)) {
        world.cli(
          ["config", "set", "--secret", "--stack", stack, ...(key.includes(".") ? ["--path"] : []), key],
          value,
        );
      }
      const { changeSummary, output } = await world.preview();
      expect(output).not.toMatch(/\berror:/);
      expect(changeSummary.create).toBeGreaterThanOrEqual(stack === "homelab" ? 15 : 5);
      expect(Object.keys(changeSummary).filter((op) => op !== "create")).toEqual([]);
      for (const v of Object.values(secrets))
        expect(`${output}${world.transcript.join("")}`).not.toContain(v);
    });
  },
);
