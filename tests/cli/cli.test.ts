/**
 * The CLI tier: what a new user meets in the first minute, with the real Pulumi CLI instead of mocks.
 *
 * For each stack the README ships instructions for, a throwaway user world runs the README's setup commands word
 * for word (secrets answered at the prompt), then `pulumi preview` with index.ts evaluated by Pulumi's nodejs
 * runtime (runtime-host.js). The CLI validates the stack config against Pulumi.yaml, the runtime compiles index.ts
 * with its own ts-node defaults, the program validates its config and registers its first resources. The provider
 * plugins are not installed in this tier (the engine tier has them), so the preview must end exactly there: on a
 * missing plugin, and on nothing earlier.
 */
import { randomBytes } from "node:crypto";
import { commandLines, promptedSecretKey, pulumiCli, readmeBlock, RuntimeResult, UserWorld } from "./harness";

/** Lines of a README block that this tier does not run itself: the checkout, the editor, installs, preview/up. */
const NOT_RUN = /^(git clone|\$EDITOR|npm install|pulumi (preview|up)\b)/;

/** The only way a preview may fail here: the first resource needs a provider plugin this tier does not have. */
const MISSING_PLUGIN =
  /no resource plugin '?(pulumi-resource-)?(proxmoxve|command|docker)|could not (load|find) plugin|failed to load plugin|plugin .*(not found|not installed)/i;

const canaries: Record<string, string> = {};
function canaryFor(key: string): string {
  canaries[key] ??= `canary-${key.replace(/\W/g, "-")}-${randomBytes(6).toString("hex")}`;
  return canaries[key];
}

let cli: string;
beforeAll(
  () => {
    cli = pulumiCli();
  },
  20 * 60 * 1000,
);

interface Scenario {
  /** Stack name the README uses. */
  stack: string;
  /** README block with the setup commands. */
  setupBlock: string;
  /** README block with a stack file to write first, for stacks the repository does not ship. */
  stackFileBlock?: string;
}

/** "Your own stack" and the Docker-host stack are walked through by newcomer.test.ts, one after the other. */
const scenarios: Scenario[] = [{ stack: "homelab", setupBlock: "setup-homelab" }];

/** Runs README blocks' commands in a fresh world, answering each secret prompt with its canary. */
function runSetup(world: UserWorld, blocks: string[]): Array<{ line: string; code: number; out: string }> {
  const setup: Array<{ line: string; code: number; out: string }> = [];
  for (const block of blocks) {
    for (const line of commandLines(readmeBlock(block))) {
      if (NOT_RUN.test(line)) continue;
      const key = promptedSecretKey(line);
      setup.push({ line, ...world.shell(line, key ? canaryFor(key) : "") });
    }
  }
  return setup;
}

describe.each(scenarios)("README setup, then pulumi preview: $stack", (scenario) => {
  let world: UserWorld;
  let setup: Array<{ line: string; code: number; out: string }>;
  let preview: RuntimeResult;

  beforeAll(
    () => {
      const stackFiles = scenario.stackFileBlock
        ? { [`Pulumi.${scenario.stack}.yaml`]: readmeBlock(scenario.stackFileBlock) }
        : {};
      world = new UserWorld(cli, stackFiles);
      setup = runSetup(world, ["once", scenario.setupBlock]);
      preview = world.preview(scenario.stack);
    },
    10 * 60 * 1000,
  );

  afterAll(() => {
    if (process.env.CLI_TIER_KEEP !== "1") world?.remove();
  });

  it("runs every setup command of the README", () => {
    const failed = setup.filter((s) => s.code !== 0).map((s) => `$ ${s.line}\n${s.out}`);
    expect(failed).toEqual([]);
    expect(setup.some((s) => promptedSecretKey(s.line))).toBe(true);
  });

  it("passes the CLI's stack-config validation against Pulumi.yaml", () => {
    const text = `${preview.stdout}${preview.stderr}${preview.error ?? ""}`;
    expect(text).not.toMatch(
      /validating stack config|must be encrypted|is missing configuration value|must be of type/,
    );
  });

  it("compiles index.ts with the runtime's ts-node options and runs its top level to the end", () => {
    const text = `${preview.stdout}${preview.stderr}${preview.error ?? ""}`;
    expect(text).not.toMatch(/TSError|Unable to compile TypeScript|error TS\d+/);
    expect(text).not.toMatch(/Invalid stack configuration|ConfigError/);
    expect({ evaluated: preview.evaluated, error: preview.evaluated ? undefined : preview.error }).toEqual({
      evaluated: true,
      error: undefined,
    });
    expect(preview.outputs).toEqual(expect.arrayContaining(["agents"]));
  });

  it("stops only where a provider plugin is needed", () => {
    const text = `${preview.stdout}${preview.stderr}${preview.error ?? ""}`;
    if (preview.ok) return; // a machine with the plugins installed gets further: nothing left to check here
    expect(text).toMatch(MISSING_PLUGIN);
  });

  it("prints and stores no secret in plain text", () => {
    const everything = `${world.transcript.join("\n")}\n${world.allFilesText()}`;
    const leaked = Object.entries(canaries).filter(([, v]) => everything.includes(v));
    expect(leaked.map(([k]) => k)).toEqual([]);
  });
});
