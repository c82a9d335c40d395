/**
 * Id arithmetic of Proxmox's unprivileged containers. Proxmox maps container ids 0..65535 onto host ids
 * 100000..165535 (`lxc.idmap: u 0 100000 65536`), so a file the gateway (uid 10000 inside the LXC, and inside the
 * Docker container nested in it, which adds no shift of its own) writes on a bind mount lands on the host owned by
 * 110000. The host directories are prepared with that owner before the container exists.
 */

/** First host id of Proxmox's default unprivileged id map. */
export const PROXMOX_UNPRIVILEGED_ID_BASE = 100000;
/** Width of that map: container ids 0..65535. */
export const PROXMOX_ID_MAP_SIZE = 65536;

/** Ids the hermes image accepts for HERMES_UID/HERMES_GID (its entrypoint ignores anything outside 1..65534). */
export const GATEWAY_ID_MIN = 1;
export const GATEWAY_ID_MAX = 65534;

/** Host uid or gid that a container id maps to in an unprivileged Proxmox container. */
export function hostIdFor(containerId: number): number {
  if (!Number.isInteger(containerId) || containerId < 0 || containerId >= PROXMOX_ID_MAP_SIZE) {
    throw new Error(`container id ${containerId} is outside the 0..${PROXMOX_ID_MAP_SIZE - 1} id map`);
  }
  return PROXMOX_UNPRIVILEGED_ID_BASE + containerId;
}

/** Owner (uid:gid on the host) that the host side of every bind mount must have for the gateway to write to it. */
export function hostOwnerForGateway(gateway: { uid: number; gid: number }): { uid: number; gid: number } {
  return { uid: hostIdFor(gateway.uid), gid: hostIdFor(gateway.gid) };
}
