/** The ready-to-paste API server URL and dashboard tunnel of the stack outputs, for each way they can be published. */
import { parseStackConfig } from "../../components/config/stack";
import { apiServerUrl, dashboardTunnel } from "../../components/gateway/agentOutputs";
import { homelabWithSecrets, readProjectFile } from "../helpers/stackFile";

type Mutable = any;
function agentWith(mutate: (a: Mutable, secrets: Mutable) => void) {
  const raw = homelabWithSecrets() as Mutable;
  mutate(raw.agents.hermes, raw.agentSecrets.hermes);
  return parseStackConfig(raw, { readFile: readProjectFile }).config.agents[0];
}
const SSH =
  "ssh -o StrictHostKeyChecking=yes -o HostKeyAlias=x -o UserKnownHostsFile='/home/me/.ssh/hermes-lxc/x' root@10.1.10.57";

describe("agent endpoints in the stack outputs", () => {
  it("nothing when the API server and the dashboard are off", () => {
    const agent = agentWith((a) => {
      a.apiServer = { enabled: false };
    });
    expect(apiServerUrl(agent, "10.1.10.57")).toBeUndefined();
    expect(dashboardTunnel(agent, SSH)).toBeUndefined();
  });

  it("the API server on all addresses: the Docker host's address; on one address: that one", () => {
    const all = agentWith((a, s) => {
      a.apiServer = { enabled: true, port: 8650 };
      s.apiServerKey = "0123456789abcdef0123";
    });
    expect(apiServerUrl(all, "10.1.10.57")).toBe("http://10.1.10.57:8650/v1");
    const one = agentWith((a, s) => {
      a.apiServer = { enabled: true, bind: "192.168.5.5" };
      s.apiServerKey = "0123456789abcdef0123";
    });
    expect(apiServerUrl(one, "10.1.10.57")).toBe("http://192.168.5.5:8642/v1");
  });

  it("the dashboard: an ssh -L tunnel to where it is published, through the pinned ssh command", () => {
    const agent = agentWith((a, s) => {
      a.dashboard = { enabled: true, basicAuthUser: "me", port: 9200 };
      s.dashboardPassword = "a-long-dashboard-password";
    });
    expect(dashboardTunnel(agent, SSH)).toBe(
      "ssh -N -L 9200:127.0.0.1:9200 -o StrictHostKeyChecking=yes -o HostKeyAlias=x -o UserKnownHostsFile='/home/me/.ssh/hermes-lxc/x' " +
        "root@10.1.10.57   # then open http://localhost:9200/",
    );
  });

  it("the dashboard published on every address is tunnelled to the host's loopback; on one address, to that one", () => {
    const on = (bind: string) =>
      agentWith((a, s) => {
        a.dashboard = { enabled: true, basicAuthUser: "me", bind };
        s.dashboardPassword = "a-long-dashboard-password";
      });
    expect(dashboardTunnel(on("0.0.0.0"), SSH)).toMatch(/^ssh -N -L 9119:127\.0\.0\.1:9119 -o /);
    expect(dashboardTunnel(on("10.1.10.57"), SSH)).toMatch(/^ssh -N -L 9119:10\.1\.10\.57:9119 -o /);
  });

  it("refuses to build a tunnel from anything but an ssh command", () => {
    const agent = agentWith((a, s) => {
      a.dashboard = { enabled: true, basicAuthUser: "me" };
      s.dashboardPassword = "a-long-dashboard-password";
    });
    expect(() => dashboardTunnel(agent, "scp root@10.1.10.57")).toThrow(
      "the dashboard tunnel needs an ssh command",
    );
  });
});
