/**
 * The interrupted trials' plan: which flow, which fault, and when, drawn from a seed so that a failing trial can be
 * run again exactly (`CHAOS_SEED=<seed> CHAOS_TRIALS=<n> npm run test:chaos`). Pure: no engine, no world.
 *
 * "When" is a point in the engine's own event stream, not a wall-clock time: the start of the k-th resource step of
 * the flow (k a drawn fraction of the steps counted on a clean run of the same flow, see the calibration in
 * interrupted.chaos.test.ts). A link fault strikes at that start; a SIGKILL a drawn delay later, or as that step
 * finishes if it finishes first. So every planned trial strikes while the engine is in a named step, and the seed
 * means the same moment on a fast and on a slow machine.
 */

/** The two deployment paths the trials run on (tests/chaos/target.ts). */
export const PATHS = ["dockerHosts", "lxcs"] as const;
export type ChaosPath = (typeof PATHS)[number];

/** The three flows an interruption is tried on. */
export const FLOWS = ["first-up", "rotation", "upgrade"] as const;
export type Flow = (typeof FLOWS)[number];

/**
 * What goes wrong:
 * - `sigkill`: the `pulumi` CLI gets SIGKILL (an OOM kill, a closed laptop), nothing else is told;
 * - `link-drop`: every packet between this machine and the Docker host is dropped for a while (iptables on the
 *   world's bridge), then the link comes back;
 * - `sshd-stop`: the Docker host's sshd is stopped for a while (new connections refused), then started again;
 * - `api-drop` (lxcs path): every packet to the Proxmox API and to the node's sshd is dropped for a while.
 */
export const FAULTS = ["sigkill", "link-drop", "sshd-stop", "api-drop"] as const;
export type Fault = (typeof FAULTS)[number];

export interface Trial {
  /** 1-based, in run order. */
  id: number;
  flow: Flow;
  fault: Fault;
  /** The fault strikes once this fraction of the flow's resource steps has started (0 < at <= 1)... */
  at: number;
  /** SIGKILL only: this many milliseconds after that step started (or as it finishes, if sooner). 0 for a link fault. */
  delayMs: number;
  /** For link-drop and sshd-stop: how long the link stays down, in seconds. */
  downSeconds: number;
}

/** mulberry32: a small, well-known 32-bit PRNG; deterministic for a seed, good enough to spread trials. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` trials for `seed`. Flows and faults are dealt round-robin (every flow gets each fault before any gets a
 * second of the same kind: a short run still covers all nine pairs, SIGKILL first since it is the main
 * case), then shuffled within each flow; moments and durations are drawn from the seed.
 */
export function planTrials(seed: number, count: number, on: ChaosPath = "dockerHosts"): Trial[] {
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`trial count must be a positive integer, got ${count}`);
  const rnd = prng(seed);
  // Per flow, the fault sequence: sigkill, link-drop, sigkill, <the other link>, sigkill, ... (SIGKILL half the
  // time). On the lxcs path the other link is the Proxmox side (the API and the node's sshd).
  const faultCycle: Fault[] = ["sigkill", "link-drop", "sigkill", on === "lxcs" ? "api-drop" : "sshd-stop"];
  const perFlow = new Map<Flow, number>(FLOWS.map((f) => [f, 0]));
  const trials: Trial[] = [];
  for (let i = 0; i < count; i++) {
    const flow = FLOWS[i % FLOWS.length];
    const n = perFlow.get(flow)!;
    perFlow.set(flow, n + 1);
    const fault = faultCycle[n % faultCycle.length];
    // Never 0: the lock is taken before the first step; (0, 1] covers "as the first step starts" to "the last".
    const at = Math.round((0.02 + 0.98 * rnd()) * 100) / 100;
    // Short: a token rotation is two steps and four seconds. Drawn for every trial (the draws of one fault kind do
    // not shift the others'); a link fault strikes at the step's start.
    const delay = Math.floor(rnd() * 1500);
    trials.push({
      id: i + 1,
      flow,
      fault,
      at,
      delayMs: fault === "sigkill" ? delay : 0,
      downSeconds: fault === "sigkill" ? 0 : 5 + Math.floor(rnd() * 36),
    });
  }
  return trials;
}

/** How many of a flow's `total` resource steps must have started before the fault strikes (at least 1). */
export function stepsBeforeFault(trial: Pick<Trial, "at">, total: number): number {
  return Math.max(1, Math.min(total, Math.ceil(trial.at * total)));
}
