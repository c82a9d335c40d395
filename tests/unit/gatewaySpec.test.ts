/** components/gateway/gatewaySpec.ts: the gateway container's spec, and the `docker run` the system tier starts. */
import { parseStackConfig } from "../../components/config/stack";
import {
  GatewayContainerSpec,
  dockerRunArgs,
  gatewayContainerSpec,
} from "../../components/gateway/gatewaySpec";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

type Mutable = any;
function agentWith(mutate: (a: Mutable, secrets: Mutable) => void) {
  const raw = homelabWithSecrets() as Mutable;
  mutate(raw.agents.hermes, raw.agentSecrets.hermes);
  return parseStackConfig(raw, { readFile: readProjectFile }).config.agents[0];
}
const LOG = { maxSize: "10m", maxFile: 3 };
const DASHBOARD_ENV = ["HERMES_DASHBOARD=1", "HERMES_DASHBOARD_HOST=0.0.0.0", "HERMES_DASHBOARD_PORT=9119"];

describe("gatewayContainerSpec", () => {
  it("starts hermes' dashboard service only when the dashboard is on, on the container's interface and its port", () => {
    const off = gatewayContainerSpec(
      agentWith(() => {}),
      LOG,
    );
    expect(off.envs.filter((e) => e.startsWith("HERMES_DASHBOARD"))).toEqual([]);
    const on = gatewayContainerSpec(
      agentWith((a, s) => {
        a.dashboard = { enabled: true, basicAuthUser: "me" };
        s.dashboardPassword = "a-long-dashboard-password";
      }),
      LOG,
    );
    expect(on.envs.filter((e) => e.startsWith("HERMES_DASHBOARD"))).toEqual(DASHBOARD_ENV);
  });

  it("sets HERMES_MANAGED (naming hermes-lxc) only for a managed agent, and labels the container with its agent", () => {
    const managed = gatewayContainerSpec(
      agentWith((a) => {
        a.managed = true;
      }),
      LOG,
    );
    expect(managed.envs).toContain("HERMES_MANAGED=hermes-lxc");
    expect(managed.labels).toEqual({ "hermes-lxc.agent": "hermes", "hermes-lxc.managed-by": "pulumi" });
    const unmanaged = gatewayContainerSpec(
      agentWith((a) => {
        a.managed = false;
      }),
      LOG,
    );
    expect(unmanaged.envs.filter((e) => e.startsWith("HERMES_MANAGED"))).toEqual([]);
  });
});

describe("dockerRunArgs", () => {
  const spec: GatewayContainerSpec = {
    name: "hermes-a",
    image: "nousresearch/hermes-agent@sha256:" + "a".repeat(64),
    command: ["gateway", "run"],
    envs: ["HERMES_UID=10000", "HERMES_GID=10000"],
    volumes: [
      { hostPath: "/srv/a", containerPath: "/opt/data", readOnly: false },
      { hostPath: "/srv/docs", containerPath: "/opt/docs", readOnly: true },
    ],
    ports: [{ internal: 9119, external: 9120, ip: "127.0.0.1", protocol: "tcp" }],
    restart: "unless-stopped",
    memoryMb: 2048,
    memorySwapMb: 2048,
    cpus: "2.0",
    shmSizeMb: 64,
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "3" },
    labels: { "hermes-lxc.agent": "a", "hermes-lxc.managed-by": "pulumi" },
  };

  it("runs exactly the spec: read-only mounts stay read-only, ports keep their address, no swap", () => {
    expect(dockerRunArgs(spec)).toEqual([
      "run",
      "-d",
      "--name",
      "hermes-a",
      "--restart",
      "unless-stopped",
      "-e",
      "HERMES_UID=10000",
      "-e",
      "HERMES_GID=10000",
      "-v",
      "/srv/a:/opt/data",
      "-v",
      "/srv/docs:/opt/docs:ro",
      "-p",
      "127.0.0.1:9120:9119",
      "--memory",
      "2048m",
      "--memory-swap",
      "2048m",
      "--cpus",
      "2.0",
      "--shm-size",
      "64m",
      "--log-driver",
      "json-file",
      "--log-opt",
      "max-size=10m",
      "--log-opt",
      "max-file=3",
      "--label",
      "hermes-lxc.agent=a",
      "--label",
      "hermes-lxc.managed-by=pulumi",
      spec.image,
      "gateway",
      "run",
    ]);
  });

  it("runs another image in the spec's place when asked (the system tier's stand-in)", () => {
    expect(dockerRunArgs(spec, "hermes-standin:test").slice(-3)).toEqual([
      "hermes-standin:test",
      "gateway",
      "run",
    ]);
  });
});
