/**
 * The `cpus` string of a docker.Container, in the exact form the docker provider reads back.
 *
 * The provider (kreuzwerker/terraform-provider-docker, bridged by @pulumi/docker 5.x) parses `cpus` into NanoCPUs
 * on create and, on every read, writes back `nanoInt64ToDecimalString(NanoCPUs)` (internal/provider/helpers.go):
 * nine decimals, then "1.0"-style when the string has exactly nine zeros, else trailing zeros trimmed. `cpus` forces
 * a new container on change, so an input of "2" against the "2.0" it reads back re-created the gateway on every
 * `pulumi up`. Sending the read-back form makes the two equal.
 */

/** NanoCPUs for a decimal CPU count (docker's opts.ParseCPUs: exact rational, at most nine decimals). */
export function nanoCpus(cpus: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(cpus);
  if (!m) throw new Error(`not a decimal CPU count: ${cpus}`);
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? "").padEnd(9, "0") || "0");
}

/** The provider's nanoInt64ToDecimalString, for NanoCPUs. */
export function providerCpusString(nano: bigint): string {
  if (nano === 0n) return "0";
  const whole = nano / 1_000_000_000n;
  const frac = nano % 1_000_000_000n;
  const nine = `${whole}.${frac.toString().padStart(9, "0")}`;
  if ([...nine].filter((c) => c === "0").length === 9) {
    // big.Rat.FloatString(1): rounded half away from zero to one decimal.
    const tenths = (nano + 50_000_000n) / 100_000_000n;
    return `${tenths / 10n}.${tenths % 10n}`;
  }
  return nine.replace(/0+$/, "");
}

/** The form to send, or undefined when the provider would read back a different amount (e.g. 0.05 as "0.1"). */
export function dockerCpus(cpus: string): string | undefined {
  const sent = providerCpusString(nanoCpus(cpus));
  return nanoCpus(sent.endsWith(".") ? `${sent}0` : sent) === nanoCpus(cpus) ? sent : undefined;
}
