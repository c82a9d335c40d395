/**
 * Numeric ids typed the README's way: `pulumi config set --path '...allowedUsers[0]' 987654321` stores a YAML
 * integer, which the program receives as a JSON number (the CLI tier proves that with the real CLI). Ids JSON keeps
 * exactly are accepted as their digits; larger ones arrive rounded and are refused with the command that works.
 */
import { parseStackConfig } from "../../components/config/stack";
import { agentEnvVars } from "../../components/gateway/agentPayload";
import { problemsOf } from "../helpers/configProblems";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

const TELEGRAM = "agents.hermes.platforms.telegram";

function envOf(mutate: (raw: any) => void): Record<string, string> {
  const raw = homelabWithSecrets();
  mutate(raw);
  const parsed = parseStackConfig(raw, { readFile: readProjectFile });
  const vars = agentEnvVars(parsed.config.agents[0], parsed.secrets.agents.hermes);
  return Object.fromEntries(vars.map((v) => [v.name, v.value]));
}

describe("numeric ids set as YAML integers", () => {
  it("accepts Telegram ids and chat ids typed as numbers, and writes their digits", () => {
    const env = envOf((raw) => {
      raw.agents.hermes.platforms.telegram = {
        allowedUsers: [987654321, "123", 9007199254740991],
        groupAllowedChats: [-1001234567890],
        homeChannel: -100999,
      };
    });
    expect(env).toMatchObject({
      TELEGRAM_ALLOWED_USERS: "987654321,123,9007199254740991",
      TELEGRAM_GROUP_ALLOWED_CHATS: "-1001234567890",
      TELEGRAM_HOME_CHANNEL: "-100999",
    });
  });

  it("refuses an id above 2^53 - 1 (a Discord snowflake, already rounded) with the exact command that works", () => {
    const snowflake = JSON.parse("1234567890123456789"); // what JSON.parse makes of the CLI's config value
    const problems = problemsOf((raw) => {
      raw.agents.hermes.platforms = {
        discord: { allowedUsers: ["80351110224678912", snowflake] },
      };
      raw.agentSecrets.hermes.discordBotToken = "discord-token-abcdef";
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^agents\.hermes\.platforms\.discord\.allowedUsers\[1\]: is a number larger than 2\^53 - 1.*pulumi config set --type string --path 'agents\.hermes\.platforms\.discord\.allowedUsers\[1\]' <id>/,
      ),
    ]);
    // The rounded value is not repeated (it is not the user's id anyway).
    expect(problems.join("\n")).not.toContain(String(snowflake));
  });

  it("still refuses what is not an id", () => {
    expect(problemsOf((raw) => (raw.agents.hermes.platforms.telegram = { allowedUsers: [-5] }))).toEqual([
      `${TELEGRAM}.allowedUsers[0]: must be a numeric Telegram user id`,
    ]);
    expect(problemsOf((raw) => (raw.agents.hermes.platforms.telegram = { allowedUsers: [1.5] }))).toEqual([
      `${TELEGRAM}.allowedUsers[0]: must be a numeric Telegram user id`,
    ]);
  });
});
