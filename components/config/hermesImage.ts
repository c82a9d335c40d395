/** Which hermes image an agent runs: the pinned default release, and warnings about pins that can move. */

/**
 * The hermes release this program is tested against by default, pinned by digest: releases are published only as
 * `v`-prefixed tags (`:latest` and `:main` follow the main branch), and a tag can be re-pushed, a digest cannot.
 * renovate.json proposes bumps of this block; keep its shape.
 */
export const DEFAULT_HERMES_IMAGE = {
  repository: "nousresearch/hermes-agent",
  tag: "v2026.9.14",
  digest: "sha256:99641e57ec762c59e54cb44aa6746b7fc68c18b3c5ddb088af54234c613d9294",
} as const;

/** hermes' release tags: `v<year>.<month>.<day>` (CalVer, 0.21.x) and `v<major>.<minor>.<patch>`. */
const RELEASE_TAG = /^v\d+\.\d+\.\d+$/;

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
  if (agent.image === DEFAULT_HERMES_IMAGE.repository && !RELEASE_TAG.test(agent.imageTag)) {
    warnings.push(
      `${at}.imageTag: is not one of hermes' release tags (v2026.9.14, v0.21.6, ...)` +
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
