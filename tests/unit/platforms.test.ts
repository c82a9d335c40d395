/**
 * The messaging-platform registry (components/config/platforms) against what hermes reads. HERMES_READS is hermes'
 * own list, copied by hand from upstream: website/docs/reference/environment-variables.md ("Messaging") and the
 * `Platform` enum of gateway/config.py, NousResearch/hermes-agent @00067189. A platform module that writes a variable
 * hermes does not read, or forgets the one that enables the platform, fails here.
 */
import { PLATFORMS } from "../../components/config/platforms";
import { ConfigError } from "../../components/config/errors";
import { parseStackConfig } from "../../components/config/stack";
import { agentEnvVars, agentFilesPayload } from "../../components/gateway/agentPayload";
import { gatewayContainerSpec } from "../../components/gateway/gatewaySpec";
import { pairingPlatforms, requiredPlatforms } from "../../components/gateway/gatewayScripts";
import { FULL } from "../helpers/platformBlocks";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

/** Per hermes platform name: every variable hermes documents for it, and what enables it (gateway/config.py). */
const HERMES_READS: Record<string, { documented: string[]; enabledBy: string[][] }> = {
  telegram: {
    documented: [
      "TELEGRAM_BOT_TOKEN",
      "TELEGRAM_ALLOWED_USERS",
      "TELEGRAM_ALLOW_ALL_USERS",
      "TELEGRAM_GROUP_ALLOWED_USERS",
      "TELEGRAM_GROUP_ALLOWED_CHATS",
      "TELEGRAM_HOME_CHANNEL",
      "TELEGRAM_REQUIRE_MENTION",
    ],
    enabledBy: [["TELEGRAM_BOT_TOKEN"]],
  },
  discord: {
    documented: [
      "DISCORD_BOT_TOKEN",
      "DISCORD_ALLOWED_USERS",
      "DISCORD_ALLOW_ALL_USERS",
      "DISCORD_ALLOWED_ROLES",
      "DISCORD_ALLOWED_CHANNELS",
      "DISCORD_HOME_CHANNEL",
      "DISCORD_REQUIRE_MENTION",
    ],
    enabledBy: [["DISCORD_BOT_TOKEN"]],
  },
  slack: {
    documented: [
      "SLACK_BOT_TOKEN",
      "SLACK_APP_TOKEN",
      "SLACK_ALLOWED_USERS",
      "SLACK_ALLOW_ALL_USERS",
      "SLACK_HOME_CHANNEL",
    ],
    enabledBy: [["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]],
  },
  matrix: {
    documented: [
      "MATRIX_HOMESERVER",
      "MATRIX_ACCESS_TOKEN",
      "MATRIX_USER_ID",
      "MATRIX_PASSWORD",
      "MATRIX_ALLOWED_USERS",
      "MATRIX_ALLOW_ALL_USERS",
      "MATRIX_ALLOWED_ROOMS",
      "MATRIX_HOME_ROOM",
      "MATRIX_ENCRYPTION",
      "MATRIX_DEVICE_ID",
      "MATRIX_REQUIRE_MENTION",
      "MATRIX_RECOVERY_KEY",
    ],
    enabledBy: [
      ["MATRIX_HOMESERVER", "MATRIX_ACCESS_TOKEN"],
      ["MATRIX_HOMESERVER", "MATRIX_PASSWORD"],
    ],
  },
  mattermost: {
    documented: [
      "MATTERMOST_URL",
      "MATTERMOST_TOKEN",
      "MATTERMOST_ALLOWED_USERS",
      "MATTERMOST_ALLOW_ALL_USERS",
      "MATTERMOST_ALLOWED_CHANNELS",
      "MATTERMOST_HOME_CHANNEL",
      "MATTERMOST_REQUIRE_MENTION",
    ],
    enabledBy: [["MATTERMOST_URL", "MATTERMOST_TOKEN"]],
  },
  signal: {
    documented: [
      "SIGNAL_HTTP_URL",
      "SIGNAL_ACCOUNT",
      "SIGNAL_ALLOWED_USERS",
      "SIGNAL_GROUP_ALLOWED_USERS",
      "SIGNAL_ALLOW_ALL_USERS",
    ],
    enabledBy: [["SIGNAL_HTTP_URL", "SIGNAL_ACCOUNT"]],
  },
  whatsapp: {
    documented: ["WHATSAPP_ENABLED", "WHATSAPP_MODE", "WHATSAPP_ALLOWED_USERS", "WHATSAPP_ALLOW_ALL_USERS"],
    enabledBy: [["WHATSAPP_ENABLED"]],
  },
  email: {
    documented: [
      "EMAIL_ADDRESS",
      "EMAIL_PASSWORD",
      "EMAIL_IMAP_HOST",
      "EMAIL_IMAP_PORT",
      "EMAIL_SMTP_HOST",
      "EMAIL_SMTP_PORT",
      "EMAIL_ALLOWED_USERS",
      "EMAIL_HOME_ADDRESS",
      "EMAIL_POLL_INTERVAL",
      "EMAIL_ALLOW_ALL_USERS",
    ],
    enabledBy: [["EMAIL_ADDRESS", "EMAIL_PASSWORD", "EMAIL_IMAP_HOST", "EMAIL_SMTP_HOST"]],
  },
  sms: {
    documented: [
      "TWILIO_ACCOUNT_SID",
      "TWILIO_AUTH_TOKEN",
      "TWILIO_PHONE_NUMBER",
      "SMS_WEBHOOK_URL",
      "SMS_WEBHOOK_PORT",
      "SMS_WEBHOOK_HOST",
      "SMS_ALLOWED_USERS",
      "SMS_ALLOW_ALL_USERS",
      "SMS_HOME_CHANNEL",
    ],
    enabledBy: [["TWILIO_ACCOUNT_SID"]],
  },
  homeassistant: { documented: ["HASS_TOKEN", "HASS_URL"], enabledBy: [["HASS_TOKEN"]] },
  webhook: {
    documented: ["WEBHOOK_ENABLED", "WEBHOOK_PORT", "WEBHOOK_SECRET"],
    enabledBy: [["WEBHOOK_ENABLED"]],
  },
};

const opts = { readFile: readProjectFile };
type Raw = {
  agents: Record<string, Record<string, unknown>>;
  agentSecrets: Record<string, Record<string, unknown>>;
  dockerHosts?: Record<string, unknown>;
};

function withPlatforms(platforms: string[], edit: (raw: Raw) => void = () => {}) {
  const raw = homelabWithSecrets() as unknown as Raw;
  const agent = raw.agents.hermes;
  const secrets = raw.agentSecrets.hermes;
  agent.platforms = {};
  delete secrets.telegramBotToken;
  for (const key of platforms) {
    (agent.platforms as Record<string, unknown>)[key] = structuredClone(FULL[key].block);
    Object.assign(secrets, FULL[key].secrets);
  }
  edit(raw);
  return parseStackConfig(raw, opts);
}

/** True when the agent's files (its .env among them) render; false when a value reached .env that it cannot hold. */
function renders(
  agent: Parameters<typeof agentFilesPayload>[0],
  secrets: Parameters<typeof agentFilesPayload>[1],
) {
  try {
    agentFilesPayload(agent, secrets);
    return true;
  } catch {
    return false;
  }
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("the messaging-platform registry", () => {
  it("covers the platforms the README promises, each under hermes' own name", () => {
    expect(PLATFORMS.map((p) => p.hermesName).sort()).toEqual(Object.keys(HERMES_READS).sort());
    expect(Object.keys(FULL).sort()).toEqual(PLATFORMS.map((p) => p.key).sort());
  });

  it.each(PLATFORMS.map((p) => [p.key, p] as const))(
    "%s renders only variables hermes reads for it, including the ones that enable it",
    (key, platform) => {
      const parsed = withPlatforms([key]);
      const agent = parsed.config.agents[0];
      const vars = agentEnvVars(agent, parsed.secrets.agents.hermes);
      const names = vars.map((v) => v.name);
      const reads = HERMES_READS[platform.hermesName];
      const own = names.filter((n) => reads.documented.includes(n));
      // Everything else in .env is the LLM key and the stack's own variables, none of them platform variables.
      const other = names.filter((n) => !own.includes(n));
      expect(other.filter((n) => Object.values(HERMES_READS).some((r) => r.documented.includes(n)))).toEqual(
        [],
      );
      // Every variable the module declares is one hermes documents for this platform...
      const declared = [...Object.keys(platform.variables), ...platform.secrets.map((s) => s.env)];
      expect(declared.filter((n) => !reads.documented.includes(n))).toEqual([]);
      // ...and with every field set, each renders, and hermes sees what enables the platform.
      expect([...own].sort()).toEqual(
        declared.filter((n) => !(key === "matrix" && n === "MATRIX_PASSWORD")).sort(),
      );
      expect(reads.enabledBy.some((set) => set.every((n) => own.includes(n)))).toBe(true);
    },
  );

  it("renders list fields comma-separated, as hermes splits them", () => {
    const parsed = withPlatforms(["telegram", "signal"]);
    const env = Object.fromEntries(
      agentEnvVars(parsed.config.agents[0], parsed.secrets.agents.hermes).map((v) => [v.name, v.value]),
    );
    expect(env.TELEGRAM_GROUP_ALLOWED_CHATS).toBe("-1001234567890");
    expect(env.SIGNAL_ALLOWED_USERS).toBe("+15557654321,0b9f1c2e-1111-2222-3333-444455556666");
    expect(env.TELEGRAM_BOT_TOKEN).toBe("123456:tg-token-abcdef");
  });

  // Both blocks reach the same .env: `environment` (plain) and `agentSecrets.<agent>.env` (secret), and so does the
  // name llm.apiKeyEnv picks. The reserved-name rule holds on each path.
  it.each(PLATFORMS.map((p) => [p.key, p] as const))(
    "%s's variables are reserved: neither the stack's environment nor its secret env nor llm.apiKeyEnv may set them",
    (key, platform) => {
      for (const name of [...Object.keys(platform.variables), ...platform.secrets.map((s) => s.env)]) {
        const plain = problemsOf(() =>
          withPlatforms([key], (raw) => {
            raw.agents.hermes.environment = { [name]: "x" };
          }),
        );
        expect(plain).toContainEqual(
          expect.stringMatching(
            new RegExp(`^agents\\.hermes\\.environment\\.${name}: is managed by the program`),
          ),
        );
        const secret = problemsOf(() =>
          withPlatforms([key], (raw) => {
            raw.agentSecrets.hermes.env = { [name]: "x" };
          }),
        );
        expect(secret).toContainEqual(
          expect.stringMatching(
            new RegExp(`^agentSecrets\\.hermes\\.env\\.${name}: is managed by the program`),
          ),
        );
        const apiKeyEnv = problemsOf(() =>
          withPlatforms([key], (raw) => {
            (raw.agents.hermes.llm as Record<string, unknown>).apiKeyEnv = name;
          }),
        );
        expect(apiKeyEnv).toContainEqual(
          expect.stringMatching(
            /^agents\.hermes\.llm\.apiKeyEnv: names a variable the program writes itself/,
          ),
        );
      }
    },
  );

  // Every platform value that lands in .env passes .env's rules at parse time, before any resource: a value the
  // schema let through and renderEnvFile then refused would fail inside the files step's apply, mid-deployment.
  it.each(PLATFORMS.map((p) => [p.key] as const))(
    "%s: every string of its block or its secrets is refused at parse time or renders into .env",
    (key) => {
      const leaves = (v: unknown, at: Array<string | number> = []): Array<Array<string | number>> =>
        typeof v === "string"
          ? [at]
          : v && typeof v === "object"
            ? Object.entries(v).flatMap(([k, c]) => leaves(c, [...at, Array.isArray(v) ? Number(k) : k]))
            : [];
      const targets = [
        ...leaves(FULL[key].block).map((at) => ["agents", "hermes", "platforms", key, ...at]),
        ...leaves(FULL[key].secrets).map((at) => ["agentSecrets", "hermes", ...at]),
      ];
      expect(targets.length).toBeGreaterThan(0);
      for (const at of targets) {
        for (const hostile of ["a${HOME}b", "a\nb", "a\u2028b", "caf\u00e9"]) {
          let parsed: ReturnType<typeof withPlatforms> | undefined;
          const problems = problemsOf(() => {
            parsed = withPlatforms([key], (raw) => {
              let node: any = raw;
              for (const k of at.slice(0, -1)) node = node[k];
              node[at[at.length - 1]] = hostile;
            });
          });
          if (problems.length > 0) continue;
          const agent = parsed!.config.agents[0];
          expect({
            at: at.join("."),
            hostile,
            rendered: renders(agent, parsed!.secrets.agents.hermes),
          }).toEqual({
            at: at.join("."),
            hostile,
            rendered: true,
          });
        }
      }
    },
  );

  it.each(
    PLATFORMS.flatMap((p) => p.secrets.filter((s) => s.requiredBecause).map((s) => [p.key, s.key] as const)),
  )("%s needs agentSecrets.<agent>.%s, asked for by its key path", (key, secret) => {
    const problems = problemsOf(() => withPlatforms([key], (raw) => delete raw.agentSecrets.hermes[secret]));
    expect(problems).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^agentSecrets\\.hermes\\.${secret}: is required because agents\\.hermes\\.platforms\\.${key}`,
        ),
      ),
    );
  });

  it("refuses a platform credential whose platform is not enabled", () => {
    const problems = problemsOf(() =>
      withPlatforms(["telegram"], (raw) => (raw.agentSecrets.hermes.mattermostToken = "mm-token-abcdef")),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^agentSecrets\.hermes\.mattermostToken: is set but agents\.hermes\.platforms\.mattermost is not/,
      ),
    ]);
  });

  it("matrix takes exactly one of an access token and a password, and a password needs the user id", () => {
    const both = problemsOf(() =>
      withPlatforms(["matrix"], (raw) => (raw.agentSecrets.hermes.matrixPassword = "pw-1234567")),
    );
    expect(both).toContainEqual(expect.stringMatching(/exactly one of matrixAccessToken or matrixPassword/));
    const password = problemsOf(() =>
      withPlatforms(["matrix"], (raw) => {
        delete raw.agentSecrets.hermes.matrixAccessToken;
        raw.agentSecrets.hermes.matrixPassword = "pw-1234567";
        delete (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>).matrix.userId;
      }),
    );
    expect(password).toEqual([
      expect.stringMatching(/^agents\.hermes\.platforms\.matrix\.userId: is required/),
    ]);
  });

  it("the health gate waits for every enabled platform but WhatsApp, which connects after its QR pairing", () => {
    const parsed = withPlatforms(PLATFORMS.map((p) => p.key));
    expect(requiredPlatforms(parsed.config.agents[0])).toEqual(
      Object.keys(HERMES_READS)
        .filter((n) => n !== "whatsapp")
        .sort(),
    );
  });
});

describe("the webhook's inbound port", () => {
  const spec = (agent: ReturnType<typeof withPlatforms>["config"]["agents"][number]) =>
    gatewayContainerSpec(agent, { maxSize: "10m", maxFile: 3 });

  it("is published only when asked for", () => {
    const published = withPlatforms(["webhook"]).config.agents[0];
    expect(spec(published).ports).toEqual([
      { internal: 8644, external: 8644, ip: "0.0.0.0", protocol: "tcp" },
    ]);
    const quiet = withPlatforms(["webhook"], (raw) => {
      delete (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>).webhook.publish;
    }).config.agents[0];
    expect(spec(quiet).ports).toEqual([]);
  });

  it("may not take the LXC's sshd port or another listener's port on an overlapping address", () => {
    const port =
      (p: number, bind = "0.0.0.0") =>
      (raw: Raw) => {
        (raw.agents.hermes.platforms as Record<string, Record<string, unknown>>).webhook.publish = {
          port: p,
          bind,
        };
      };
    expect(problemsOf(() => withPlatforms(["webhook"], port(22)))).toEqual([
      "agents.hermes.platforms.webhook.publish.port: port 22 is already taken on that machine by the sshd of lxcs.hermes",
    ]);
    const withApi = (p: number, bind: string) => (raw: Raw) => {
      port(p, bind)(raw);
      raw.agents.hermes.apiServer = { enabled: true, port: 8642, bind: "10.1.10.30" };
      raw.agentSecrets.hermes.apiServerKey = "0123456789abcdef0123";
    };
    // Same port: the wildcard overlaps every address, a different address does not.
    expect(problemsOf(() => withPlatforms(["webhook"], withApi(8642, "0.0.0.0")))).toEqual([
      expect.stringMatching(
        /^agents\.hermes\.platforms\.webhook\.publish\.port: port 8642 is already taken on that machine by agents\.hermes\.apiServer\.port/,
      ),
    ]);
    expect(problemsOf(() => withPlatforms(["webhook"], withApi(8642, "127.0.0.1")))).toEqual([]);
  });

  it("tells hosts apart by address: two Docker host entries for one machine share its ports", () => {
    const problems = problemsOf(() =>
      withPlatforms(["telegram"], (raw) => {
        const hostKey = (raw as any).proxmox.nodes.gihyeon.hostKey;
        raw.dockerHosts = {
          box: { address: "10.1.10.50", hostKey },
          "box-again": { address: "10.1.10.50", hostKey, dataRoot: "/srv/other" },
        };
        for (const [name, host] of [
          ["one", "box"],
          ["two", "box-again"],
        ]) {
          raw.agents[name] = { dockerHost: host, apiServer: { enabled: true } };
          raw.agentSecrets[name] = { apiServerKey: "0123456789abcdef0123" };
        }
      }),
    );
    expect(problems).toEqual([
      "agents.two.apiServer.port: port 8642 is already taken on that machine by agents.one.apiServer.port",
    ]);
  });
});

describe("pairing commands", () => {
  it("exist for the platforms with senders to allow, WhatsApp included, and not for Home Assistant or the webhook", () => {
    const parsed = withPlatforms(PLATFORMS.map((p) => p.key));
    expect(pairingPlatforms(parsed.config.agents[0])).toEqual([
      "telegram",
      "discord",
      "slack",
      "matrix",
      "mattermost",
      "signal",
      "whatsapp",
      "email",
      "sms",
    ]);
  });
});
