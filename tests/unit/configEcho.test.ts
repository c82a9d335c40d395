/**
 * No message of the config model repeats a value the user typed. A secret pasted into the wrong key (a full API
 * token into proxmox.username, a bot token into a tag) would otherwise be printed back by preview, in CI logs too.
 * Every string value of a rich stack is replaced, one at a time, by canaries shaped like credentials, and every
 * problem and warning of the parse is searched for them.
 */
import { ConfigError } from "../../components/config/errors";
import { parseStackConfig } from "../../components/config/stack";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

const opts = { readFile: readProjectFile };

/** Canaries: a Proxmox API token, a lowercase token that fits most name formats, a digit-only id, a path. */
const CANARIES = [
  "zqadmin@pve!ci=0b9f1c2e-7d3a-4c11-9e2f-5a6b7c8d9e0f",
  "zq9xk2mp7vl4canary",
  "77712345678909",
  "ZQ9xK2mP7vL4Canary",
  "/mnt/pve/hdd/zq9xk2mp7vl4canary",
];

/** A stack that uses most of the model: both host kinds, every kind of agent block. */
function richStack(): Record<string, any> {
  const raw = homelabWithSecrets() as any;
  raw.dockerHosts = {
    box: {
      address: "10.1.10.50",
      hostKey: raw.proxmox.nodes.gihyeon.hostKey,
      dataRoot: "/srv/hermes",
    },
  };
  raw.agents.other = {
    dockerHost: "box",
    imageTag: "v2026.9.14",
    imageDigest: `sha256:${"a".repeat(64)}`,
    platforms: {
      matrix: { homeserver: "https://matrix.example.org", userId: "@hermes:example.org" },
      email: { address: "hermes@example.org", imapHost: "imap.example.org", smtpHost: "smtp.example.org" },
      webhook: { publish: { port: 8644 } },
    },
    mcpServers: { fs: { command: "npx", args: ["-y", "server"], env: { ROOT: "/opt/data" } } },
    dashboard: { enabled: true, basicAuthUser: "admin" },
    environment: { FEATURE: "on" },
  };
  raw.agentSecrets.other = {
    matrixAccessToken: "syt_token_abcdef",
    emailPassword: "app password",
    webhookSecret: "0123456789abcdef0123",
    dashboardPassword: "dashboard-pw",
  };
  return raw;
}

/** Paths of every string leaf. */
function stringLeaves(value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value === "string") return [path];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) =>
    stringLeaves(v, [...path, Array.isArray(value) ? Number(k) : k]),
  );
}

function setAt(root: any, path: Array<string | number>, value: string) {
  let node = root;
  for (const seg of path.slice(0, -1)) node = node[seg];
  node[path[path.length - 1]] = value;
}

function messagesOf(raw: unknown): string[] {
  try {
    return parseStackConfig(raw as never, opts).warnings;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe("config messages never repeat a value", () => {
  const leaves = stringLeaves(richStack());

  it("the rich stack is valid to begin with", () => {
    expect(() => parseStackConfig(richStack() as never, opts)).not.toThrow();
    expect(leaves.length).toBeGreaterThan(30);
  });

  it.each(CANARIES)("for any string value replaced by %s", (canary) => {
    const echoed: string[] = [];
    for (const path of leaves) {
      const raw = richStack();
      setAt(raw, path, canary);
      // Any 8 consecutive characters of the canary, in any case, count as an echo.
      const pieces = Array.from({ length: canary.length - 7 }, (_, i) =>
        canary.slice(i, i + 8).toLowerCase(),
      );
      for (const message of messagesOf(raw)) {
        if (pieces.some((p) => message.toLowerCase().includes(p)))
          echoed.push(`${path.join(".")}: ${message}`);
      }
    }
    expect(echoed).toEqual([]);
  });
});
