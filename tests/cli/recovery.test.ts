/**
 * The README's "If `pulumi up` was interrupted", against the real CLI and its file backend: a CLI killed with SIGKILL
 * while it holds the stack's lock leaves the lock behind (the next command refuses to run), and a pending create
 * (what the engine records before a create and clears when it returns) stays in the state; the README's recovery
 * commands, word for word, clear both. A kill while the file backend rewrites the `.attrs` sidecar of the stack's
 * state (gocloud.dev fileblob setAttrs: os.Create, then the JSON) leaves it empty, and every command fails with
 * `failed to load checkpoint: EOF` (found by the chaos tier's lxcs trial 3): the README's first line clears it. No
 * provider plugin is needed: a refresh without --run-program only reads what the state holds. The chaos tier
 * (tests/chaos) proves the same commands after real interrupted deploys.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { recoveryCommands } from "../chaos/recovery";
import { pulumiCli, UserWorld } from "./harness";

let world: UserWorld;
const STACK = "dockerhost";
const lockDir = () => path.join(world.home, ".pulumi", "locks", "organization", "hermes-lxc", STACK);
const lockFiles = () => (fs.existsSync(lockDir()) ? fs.readdirSync(lockDir()) : []);

/** `pulumi stack export`'s pending operations. */
function pendingOperations(): unknown[] {
  const r = world.shell(`pulumi stack export -s ${STACK}`);
  expect(r.code).toBe(0);
  return (
    (JSON.parse(r.out) as { deployment: { pending_operations?: unknown[] } }).deployment.pending_operations ??
    []
  );
}

/** A pending create of `type` `name` in the stack's checkpoint, as the engine records it before calling Create. */
function addPendingCreate(type: string, name: string): void {
  const file = path.join(world.home, ".pulumi", "stacks", "hermes-lxc", `${STACK}.json`);
  const checkpoint = JSON.parse(fs.readFileSync(file, "utf8")) as {
    checkpoint: { latest: { pending_operations?: unknown[] } };
  };
  const latest = checkpoint.checkpoint.latest;
  latest.pending_operations = [
    ...(latest.pending_operations ?? []),
    {
      resource: {
        urn: `urn:pulumi:${STACK}::hermes-lxc::hermes-lxc:index:HermesGateway$${type}::${name}`,
        custom: true,
        type,
      },
      type: "creating",
    },
  ];
  fs.writeFileSync(file, JSON.stringify(checkpoint, null, 4));
}

/** Starts `pulumi refresh` and SIGKILLs it as soon as its lock file exists: the lock a killed `up` leaves. */
async function killWhileLocked(): Promise<void> {
  const child = spawn(world.cli, ["refresh", "--yes", "-s", STACK], {
    cwd: world.project,
    env: world.sessionEnv(),
    stdio: "ignore",
  });
  const exited = new Promise((r) => child.on("close", r));
  const deadline = Date.now() + 60_000;
  // The lock is written under a temporary name and renamed: wait for the lock itself, not its temporary file.
  while (!lockFiles().some((f) => f.endsWith(".json")) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  child.kill("SIGKILL");
  await exited;
}

beforeAll(
  () => {
    world = new UserWorld(pulumiCli());
    for (const line of [
      "pulumi login --local",
      "export PULUMI_CONFIG_PASSPHRASE=recovery-test",
      `pulumi stack init ${STACK} --secrets-provider passphrase`,
    ]) {
      expect(world.shell(line)).toMatchObject({ code: 0 });
    }
  },
  20 * 60 * 1000,
);

afterAll(() => world?.remove());

describe('README "If `pulumi up` was interrupted" with the real CLI', () => {
  it("a CLI killed while it holds the lock leaves it, and the next command refuses to run", async () => {
    await killWhileLocked();
    expect(lockFiles().filter((f) => f.endsWith(".json"))).toHaveLength(1);
    const r = world.shell(`pulumi refresh --yes -s ${STACK}`);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/the stack is currently locked by 1 lock\(s\)/);
  });

  it("without the recovery, a pending create survives a refresh that runs without a terminal", () => {
    // Import drops pending operations (with a warning), so the pending create is written where the engine writes it
    // when it is killed during a create: the stack's checkpoint in the file backend.
    const lock = lockFiles().find((f) => f.endsWith(".json"))!;
    const saved = fs.readFileSync(path.join(lockDir(), lock));
    fs.rmSync(path.join(lockDir(), lock)); // put back below: refresh must not wait for it here
    addPendingCreate("command:remote:Command", "hermes-files");
    expect(world.shell(`pulumi refresh --yes --non-interactive -s ${STACK}`).code).toBe(0);
    expect(pendingOperations()).toHaveLength(1);
    fs.writeFileSync(path.join(lockDir(), lock), saved);
  });

  it("the README's commands, word for word, remove the lock and the pending creates", () => {
    addPendingCreate("docker:index/container:Container", "hermes-gateway");
    expect(pendingOperations()).toHaveLength(2);
    expect(lockFiles().filter((f) => f.endsWith(".json"))).toHaveLength(1);
    for (const command of recoveryCommands(STACK)) {
      const r = world.shell(command);
      expect({ command, code: r.code, out: r.code === 0 ? "" : r.out }).toEqual({
        command,
        code: 0,
        out: "",
      });
    }
    expect(lockFiles()).toEqual([]);
    expect(pendingOperations()).toEqual([]);
    // And the stack is usable again.
    expect(world.shell(`pulumi refresh --yes -s ${STACK}`).code).toBe(0);
  });

  it("an .attrs sidecar a kill left empty stops every command with `failed to load checkpoint: EOF`; the README's commands clear it", () => {
    const attrs = path.join(world.home, ".pulumi", "stacks", "hermes-lxc", `${STACK}.json.attrs`);
    expect(fs.statSync(attrs).size).toBeGreaterThan(0);
    const urns = () =>
      (
        JSON.parse(world.shell(`pulumi stack export -s ${STACK}`).out) as {
          deployment: { resources?: Array<{ urn: string }> };
        }
      ).deployment.resources?.map((r) => r.urn) ?? [];
    const before = urns();
    fs.writeFileSync(attrs, ""); // what setAttrs' os.Create leaves when the CLI dies before the JSON is written
    for (const command of [`pulumi cancel -s ${STACK} --yes`, `pulumi stack export -s ${STACK}`]) {
      const r = world.shell(command);
      expect(r.code).not.toBe(0);
      expect(r.out).toContain("failed to load checkpoint: EOF");
    }
    for (const command of recoveryCommands(STACK)) {
      const r = world.shell(command);
      expect({ command, code: r.code, out: r.code === 0 ? "" : r.out }).toEqual({
        command,
        code: 0,
        out: "",
      });
    }
    // The empty sidecar is gone; the refresh wrote a valid one with the state; the state's resources are all there.
    expect(JSON.parse(fs.readFileSync(attrs, "utf8"))).toHaveProperty("md5");
    expect(urns()).toEqual(before);
    expect(world.shell(`pulumi refresh --yes -s ${STACK}`).code).toBe(0);
  });
});
