/**
 * Runs index.ts under Pulumi mocks with a given stack config and records every resource it registers: its inputs
 * (what the mock monitor sees) and its resource options (what a stack transformation sees).
 *
 * The program runs inside a root `pulumi:pulumi:Stack`, as the nodejs language host runs it, so that a stack
 * transformation (`registerStackTransformation`) reaches every resource. (`registerResourceTransform` needs the
 * engine's callback server, which the mocks do not have.) The transformation sees the options as the program wrote
 * them: `protect`, `retainOnDelete`, `deleteBeforeReplace`, `additionalSecretOutputs`, `ignoreChanges`,
 * `replaceOnChanges`, `dependsOn`, `parent`, `provider`, with resources named by their Pulumi names.
 *
 * What mocks cannot prove: what the engine and the providers do with those (a real replacement's order, a diff);
 * that is the engine tier's (`npm run test:engine`).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type { ClusterView } from "../../components/lib/proxmoxApi";
import * as os from "node:os";
import * as path from "node:path";
import type { RawStackConfig } from "../../components/config/stack";

/** Pulumi's marker for a secret value in serialized inputs. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/**
 * A resource's options as the program wrote them: every option it set, resources replaced by their labels (see
 * `label`; a `dependsOn` list keeps its order). `parent` is absent for a resource whose parent is the stack.
 */
export type RecordedOptions = Record<string, unknown>;

/** One registered resource. */
export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
  /** Its resource options (see RecordedOptions). */
  options: RecordedOptions;
}

/**
 * How options name a resource: its name, or `Type:name` for this project's components (an LXC and the agent on it
 * may share a name, as in the homelab stack: `HermesLxc:hermes`, `HermesGateway:hermes`).
 */
export function label(type: string, name: string): string {
  return type.startsWith("hermes-lxc:") ? `${type.split(":").pop()}:${name}` : name;
}

/** The root stack resource's type: recorded apart, it is not one of the program's resources. */
const STACK_TYPE = "pulumi:pulumi:Stack";

/** Result of a mocked run. */
export interface MockRun {
  resources: Recorded[];
  outputs: Record<string, unknown>;
  knownHostsDir: string;
  privateKey: string;
}

let cachedKey: { path: string; content: string } | undefined;
let cachedKnownHostsDir: string | undefined;

// The key and known_hosts directories live for one test file (every run in it compares equal), then go.
afterAll(() => {
  for (const dir of [cachedKey && path.dirname(cachedKey.path), cachedKnownHostsDir]) {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  cachedKey = cachedKnownHostsDir = undefined;
});

/** A throwaway client key so that index.ts can read ssh.privateKeyPath; one per process, so runs compare equal. */
function clientKey(): { path: string; content: string } {
  if (cachedKey) return cachedKey;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hermes-lxc-key-"));
  const file = path.join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
  cachedKey = { path: file, content: fs.readFileSync(file, "utf8") };
  return cachedKey;
}

/** A valid host key the mocked readiness step "reads through the node". */
export const CONTAINER_HOST_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnPG+KHhMa40o6Q2ojUYCldoBbWwTm+IdT2jvF5PNjV";

/** What the mocked health gate reports after `healthy <container>: ` (wait-for-gateway.sh's success line). */
export const HEALTH_REASON = "gateway running (pid 7); platforms: telegram=connected";

/** Removes secret envelopes, replacing them with a marker, so what remains is exactly the plaintext part. */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG] !== undefined) return "[secret]";
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, withoutSecrets(v)]));
  }
  return value;
}

/** Unwraps secret envelopes, keeping their values. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG] !== undefined) return unwrapSecrets(obj.value);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** True when the value is a secret envelope. */
export function isSecretEnvelope(value: unknown): boolean {
  return !!value && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG] !== undefined;
}

/** The SDKs the program imports: loaded once per test file, never reset (see keepSdksLoaded). */
const SDKS = [
  "@pulumi/pulumi",
  "@pulumi/pulumi/runtime", // the provider SDKs' utilities require it by this name
  "@muhlba91/pulumi-proxmoxve",
  "@pulumi/command",
  "@pulumi/docker",
  "zod",
  "js-yaml",
];
let sdksKept = false;

/**
 * Each run re-executes index.ts and components/ in a fresh module registry, but hands them the SDK modules of the
 * first run: loading @pulumi/pulumi into a fresh registry costs about half a second (its gRPC and protobuf files),
 * most of a run. Reusing it changes nothing a run can see: the SDK keeps its state (settings, config, mocks, stack
 * resource) on the global object, not in its modules, and every run sets all of it again (setAllConfig, setMocks).
 */
function keepSdksLoaded(): void {
  if (sdksKept) return;
  for (const name of SDKS) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded: unknown = require(name);
    jest.doMock(name, () => loaded);
  }
  sdksKept = true;
}

/**
 * Loads index.ts in a fresh module registry with `raw` as the stack config (secrets marked secret, as
 * `pulumi config set --secret` would), and returns what it registered.
 */
export async function runProgram(
  raw: RawStackConfig,
  options: {
    preview?: boolean;
    privateKeyPath?: string;
    resolveOutputs?: boolean;
    /** What GET /cluster/resources shows (placement.ts); default: an empty cluster (a first deploy). */
    cluster?: ClusterView;
  } = {},
): Promise<MockRun> {
  keepSdksLoaded();
  jest.resetModules();
  // require: see the program's require below.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  // The program's live read of the cluster (placement.ts), answered from the test: no Proxmox API here. Its own tests
  // run it against the Proxmox API double (tests/unit/placement.test.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const placement = require("../../components/placement") as typeof import("../../components/placement");
  placement.clusterReader.read = () => Promise.resolve(options.cluster ?? { guests: [], nodes: {} });
  // The program's own adoption hook (placement.ts makes one for a CT already on its node), whose registration the
  // mock monitor refuses (it has no registerResourceHook): marked registered, as the SDK's StubResourceHook is, so the
  // options a stack transformation records show where the program binds it.
  const makeHook = placement.adoptionHook;
  jest.spyOn(placement, "adoptionHook").mockImplementation((...args) => {
    const hook = makeHook(...args) as unknown as { __registered: Promise<void> } | undefined;
    hook?.__registered.catch(() => undefined);
    if (hook) hook.__registered = Promise.resolve();
    return hook as unknown as ReturnType<typeof makeHook>;
  });
  const key = clientKey();
  cachedKnownHostsDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "hermes-lxc-kh-"));
  const knownHostsDir = cachedKnownHostsDir;
  const stack: Record<string, unknown> = {
    ...raw,
    ssh: { ...(raw.ssh as object), privateKeyPath: options.privateKeyPath ?? key.path, knownHostsDir },
  };
  // As the README has the user do: the program's own public key among each LXC's rootSshKeys (pre-flight checks it).
  const lxcs = JSON.parse(JSON.stringify(raw.lxcs ?? {})) as Record<string, { rootSshKeys?: string[] }>;
  const publicKey = fs.readFileSync(`${key.path}.pub`, "utf8").trim();
  for (const lxc of Object.values(lxcs)) lxc.rootSshKeys = [...(lxc.rootSshKeys ?? []), publicKey];
  stack.lxcs = lxcs;

  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(stack)) {
    if (v !== undefined) config[`hermes-lxc:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  pulumi.runtime.setAllConfig(config, [
    "hermes-lxc:proxmoxPassword",
    "hermes-lxc:agentSecrets",
    "hermes-lxc:lxcSecrets",
  ]);

  const resources: Recorded[] = [];
  const recordedOptions = new Map<string, RecordedOptions>();
  const names = new Map<unknown, string>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.type !== STACK_TYPE)
          resources.push({
            type: args.type,
            name: args.name,
            inputs: args.inputs,
            provider: args.provider,
            options: recordedOptions.get(`${args.type}::${args.name}`) ?? {},
          });
        const state: Record<string, unknown> = { ...args.inputs };
        // In a first preview nothing has run: command outputs are unknown (the mock leaves them out).
        if (args.type === "command:remote:Command" && !options.preview) {
          // The health gate prints one line, as wait-for-gateway.sh does on success.
          state.stdout = args.name.endsWith("-ready")
            ? `address=10.1.10.57\nhost_key=${CONTAINER_HOST_KEY}\n`
            : args.name.endsWith("-health")
              ? `healthy hermes-${args.name.slice(0, -"-health".length)}: ${HEALTH_REASON}\n`
              : "";
          state.stderr = "";
        }
        if (args.type === "proxmoxve:index/containerLegacy:ContainerLegacy") state.ipv4 = {};
        // Like Docker: the image id follows the image pulled, so a new tag gives the container a new image input.
        if (args.type === "docker:index/remoteImage:RemoteImage") {
          state.imageId = `sha256:${createHash("sha256").update(String(args.inputs.name)).digest("hex")}`;
        }
        // A gateway container re-created for a new image gets a new id, as Docker gives it; memory and restart
        // policy are updated in place by the provider and keep it.
        const id =
          args.type === "docker:index/container:Container"
            ? `${args.name}-${createHash("sha256").update(String(args.inputs.image)).digest("hex").slice(0, 12)}`
            : `${args.name}-id`;
        return { id, state };
      },
      call: (args) => args.inputs,
    },
    "hermes-lxc",
    "homelab",
    options.preview ?? false,
  );

  // The SDK records a stack trace for every promise it creates (only ever printed for a promise leaked at exit),
  // and jest source-maps every frame of each: that was most of a run's time. No frames during the run; an error the
  // program throws still carries its message, which is what the tests check (the key path).
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    let program: Record<string, unknown>;
    try {
      program = await new Promise<Record<string, unknown>>((resolve, reject) => {
        // As the language host runs a program: inside the root stack resource, whose transformations every resource
        // of the program inherits. The stack's outputs are not needed (the tests resolve the exports themselves).
        void pulumi.runtime
          .runInPulumiStack(() => {
            pulumi.runtime.registerStackTransformation((t) => {
              names.set(t.resource, label(t.type, t.name));
              recordedOptions.set(`${t.type}::${t.name}`, recordOptions(t.opts, names));
              return undefined;
            });
            try {
              // require, as Pulumi's nodejs runtime loads a CommonJS program (a dynamic import() would stay ESM under
              // nodenext).
              // eslint-disable-next-line @typescript-eslint/no-require-imports
              resolve(require("../../index") as Record<string, unknown>);
            } catch (e) {
              reject(e instanceof Error ? e : new Error(String(e)));
            }
            return Promise.resolve(undefined);
          })
          .catch(reject);
      });
    } catch (e) {
      // What the program registered before it failed (registrations reach the mock monitor asynchronously).
      await new Promise((r) => setTimeout(r, 100));
      (e as { registeredResources?: number }).registeredResources = resources.length;
      throw e;
    }
    const outputs =
      options.resolveOutputs === false
        ? {}
        : ((await resolveDeep(program, pulumi)) as Record<string, unknown>);
    // Let registrations settle (outputs that stay unknown in a preview are not awaited).
    await new Promise((r) => setTimeout(r, options.resolveOutputs === false ? 1000 : 50));
    return { resources, outputs, knownHostsDir, privateKey: key.content };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** Options with every resource in them replaced by its name (one the transformation saw constructed). */
function recordOptions(opts: object, names: Map<unknown, string>): RecordedOptions {
  const nameOf = (r: unknown) => names.get(r) ?? `<not a resource of the program: ${String(r)}>`;
  const recorded: RecordedOptions = {};
  for (const [key, value] of Object.entries(opts)) {
    if (value === undefined) continue;
    if (key === "parent" || key === "provider" || key === "deletedWith") recorded[key] = nameOf(value);
    else if (key === "dependsOn") recorded[key] = (Array.isArray(value) ? value : [value]).map(nameOf);
    else recorded[key] = value;
  }
  return recorded;
}

async function resolveDeep(value: unknown, pulumi: typeof import("@pulumi/pulumi")): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const v = await new Promise<unknown>((resolve) =>
      value.apply((x) => {
        resolve(x);
        return x;
      }),
    );
    return resolveDeep(v, pulumi);
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveDeep(v, pulumi)));
  if (value && typeof value === "object" && !(value instanceof pulumi.Resource)) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v, pulumi)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** Resources of a type. */
export function ofType(run: MockRun, type: string): Recorded[] {
  return run.resources.filter((r) => r.type === type);
}

/** The one resource with this name. */
export function named(run: MockRun, name: string): Recorded {
  const found = run.resources.filter((r) => r.name === name);
  if (found.length !== 1)
    throw new Error(
      `expected one resource named ${name}, found ${found.length}: ${run.resources.map((r) => r.name).join(", ")}`,
    );
  return found[0];
}

/**
 * Every resource's options by label, without the SDKs' own `version` and `pluginDownloadURL` (what the program set,
 * and what the SDKs add from their schemas: e.g. @pulumi/command marks `connection` a secret output).
 */
export function optionsByLabel(run: MockRun): Record<string, RecordedOptions> {
  return Object.fromEntries(
    run.resources.map((r) => {
      const { version: _version, pluginDownloadURL: _url, ...rest } = r.options;
      return [label(r.type, r.name), rest];
    }),
  );
}

/** The options of the resource with this label (see `label`). */
export function optionsOf(run: MockRun, resourceLabel: string): RecordedOptions {
  const options = optionsByLabel(run)[resourceLabel];
  if (!options)
    throw new Error(`no resource labelled ${resourceLabel}: ${Object.keys(optionsByLabel(run)).join(", ")}`);
  return options;
}

/** Types of the program's resources. */
export const T = {
  template: "proxmoxve:download/file:File",
  container: "proxmoxve:index/containerLegacy:ContainerLegacy",
  command: "command:remote:Command",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  dockerContainer: "docker:index/container:Container",
  proxmoxProvider: "pulumi:providers:proxmoxve",
  dockerProvider: "pulumi:providers:docker",
  hermesLxc: "hermes-lxc:index:HermesLxc",
  dockerEngine: "hermes-lxc:index:DockerEngine",
  gateway: "hermes-lxc:index:HermesGateway",
  agentSnapshots: "hermes-lxc:index:AgentSnapshots",
};
