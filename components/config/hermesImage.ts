/** Which hermes image an agent runs: the pinned default release, and warnings about pins that can move. */

/**
 * The hermes release this program is tested against by default, pinned by digest: releases are published only as
 * `v`-prefixed tags (`:latest` and `:main` are pushed on every merge to main: .github/workflows/docker-publish.yml,
 * job `merge`), and a tag can be re-pushed, a digest cannot.
 * renovate.json proposes bumps of this block; keep its shape.
 */
export const DEFAULT_HERMES_IMAGE = {
  repository: "nousresearch/hermes-agent",
  tag: "v2026.9.14",
  digest: "sha256:99641e57ec762c59e54cb44aa6746b7fc68c18b3c5ddb088af54234c613d9294",
} as const;

/**
 * hermes' published tag forms (docker-publish.yml tags each published GitHub release with its tag name), as
 * scripts/release.py recognises them:
 * - `_SEMVER_TAG_RE`: `v<major>.<minor>.<patch>` with a major of at most three digits and an optional pre-release
 *   (`v0.21.6`; canary tags `v0.21.7-canary.<YYYYMMDDHHMMSS>` or the older `-canary.<YYYYMMDD>`, which is
 *   hermes_cli/update_channel.py `_CANARY_TAG_RE` @00067189). Its `+build` suffix is left out: `+` cannot appear in
 *   a Docker tag (later hermes moved canary identities into `+canary.` build metadata, so they are not image tags).
 * - `_LEGACY_CALVER_TAG_RE`: the dated tags of 3 or 4 parts (`v2026.9.14`, `v2026.9.14.1`).
 */
const SEMVER_TAG = /^v(0|[1-9]\d{0,2})\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const LEGACY_CALVER_TAG = /^v20\d{2}\.\d+\.\d+(\.\d+)?$/;

/** Whether a tag has one of the forms hermes publishes releases under. */
export function isReleaseTag(tag: string): boolean {
  return SEMVER_TAG.test(tag) || LEGACY_CALVER_TAG.test(tag);
}

/** The tag and digest to deploy, warning about pins that can move under the stack. */
export function imagePin(
  at: string,
  agent: { image: string; imageTag?: string; imageDigest?: string },
  warnings: string[],
): { tag: string; digest?: string } {
  if (agent.imageTag === undefined) {
    const isDefault = agent.image === DEFAULT_HERMES_IMAGE.repository;
    return {
      tag: DEFAULT_HERMES_IMAGE.tag,
      digest: agent.imageDigest ?? (isDefault ? DEFAULT_HERMES_IMAGE.digest : undefined),
    };
  }
  if (agent.image === DEFAULT_HERMES_IMAGE.repository && !isReleaseTag(agent.imageTag)) {
    warnings.push(
      `${at}.imageTag: is not one of hermes' release tags (v0.21.6, v2026.9.14, v0.22.0-canary.<stamp>, ...)` +
        (["latest", "main"].includes(agent.imageTag)
          ? ": it follows hermes' main branch and changes under the stack"
          : ": the pull may fail") +
        ". See the README, 'Choosing the hermes image'.",
    );
  }
  if (agent.imageDigest === undefined) {
    warnings.push(
      `${at}.imageDigest: not set, so ${at}.imageTag is whatever the registry serves at the first pull. ` +
        "Pin it: see the README, 'Choosing the hermes image'.",
    );
  }
  return { tag: agent.imageTag, digest: agent.imageDigest };
}
