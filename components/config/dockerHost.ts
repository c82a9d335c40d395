/** An existing Docker host reached over SSH (not an LXC of this stack). */
import { z } from "zod";
import { hostPathProblem } from "../lib/validators";
import { dockerSchema } from "./docker";
import { snapshotsSchema } from "./snapshots";
import { checked, doc, hostAddress, port, sshPublicKey, strictObject } from "./fields";
import { gatewayIdsSchema } from "./lxc";

export const dockerHostSchema = strictObject({
  address: hostAddress.meta(
    doc("IPv4 or DNS name", "required", "An existing Docker host (not an LXC of this stack)."),
  ),
  port: port()
    .default(22)
    .meta(doc("1-65535", "`22`", "Its sshd port.")),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: "must be a Unix user name" })
    .default("root")
    .meta(doc("Unix user", "`root`", "SSH user (must run docker and write dataRoot).")),
  hostKey: sshPublicKey.meta(doc("public key", "required", "Its pinned SSH host key.")),
  dataRoot: checked(hostPathProblem)
    .default("/srv/hermes")
    .meta(doc("absolute path", "`/srv/hermes`", "Holds one `/opt/data` per agent.")),
  gateway: gatewayIdsSchema.prefault({}),
  docker: dockerSchema(false).prefault({}),
  snapshots: snapshotsSchema,
});

/** An existing Docker host. */
export type DockerHostConfig = z.output<typeof dockerHostSchema> & { name: string };
