/** Docker on a host: whether the program installs it, from where, pinned to which versions, and log rotation. */
import { z } from "zod";
import { bool, doc, int, strictObject } from "./fields";

/** Defaults: the last Docker CE and containerd.io releases before the November 2025 runc change that breaks
 * Docker in LXC on hosts with lxc-pve older than 6.0.5-2 (field-notes.md). Raise them once the node is updated. */
export const DEFAULT_DOCKER_CE_VERSION = "5:28.5.1-1~debian.12~bookworm";
export const DEFAULT_CONTAINERD_VERSION = "1.7.28-1~debian.12~bookworm";

const aptVersion = z.string({ error: "must be a string" }).regex(/^[A-Za-z0-9.+~:-]{1,128}$/, {
  error: "must be a Debian package version such as 5:28.5.1-1~debian.12~bookworm",
});

/** The `docker` block; LXCs install Docker by default, existing Docker hosts do not. */
export function dockerSchema(installByDefault: boolean) {
  return strictObject({
    install: bool
      .default(installByDefault)
      .meta(
        doc(
          "bool",
          `\`${installByDefault}\``,
          installByDefault
            ? "Install Docker in the LXC."
            : "Install Docker there too (needs python3-yaml either way).",
        ),
      ),
    source: z
      .enum(["docker-ce", "debian"], { error: "must be 'docker-ce' or 'debian'" })
      .default("docker-ce")
      .meta(doc("`docker-ce`, `debian`", "`docker-ce`", "Docker's apt repository, or Debian's docker.io.")),
    dockerCeVersion: aptVersion
      .default(DEFAULT_DOCKER_CE_VERSION)
      .meta(doc("apt version", `\`${DEFAULT_DOCKER_CE_VERSION}\``, "Pinned and held docker-ce.")),
    containerdVersion: aptVersion
      .default(DEFAULT_CONTAINERD_VERSION)
      .meta(
        doc(
          "apt version",
          `\`${DEFAULT_CONTAINERD_VERSION}\``,
          "Pinned and held containerd.io (bundles runc).",
        ),
      ),
    dockerIoVersion: aptVersion
      .optional()
      .meta(doc("apt version", "none", "Pinned docker.io when `source: debian`.")),
    logMaxSize: z
      .string()
      .regex(/^[1-9]\d{0,5}[kmg]$/, { error: "must look like 10m (1 to 6 digits, then k, m or g)" })
      .default("10m")
      .meta(doc("e.g. `10m`", "`10m`", "Container log rotation size (the LXC rootfs is small).")),
    logMaxFile: int(1, 100)
      .default(3)
      .meta(doc("1-100", "`3`", "Rotated log files kept per container.")),
  });
}

/** Docker install settings for one host. */
export type DockerInstallConfig = z.output<ReturnType<typeof dockerSchema>>;
