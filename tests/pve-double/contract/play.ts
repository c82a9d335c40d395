/** Plays a fixture sequence (fixtures.ts) against the double as the provider would, checking every answer. */
import type { Answer } from "./client";
import type { Step } from "./fixtures";
import type { World } from "./world";

export interface Played {
  step: Step;
  answer: Answer;
  /** Final task status for task steps. */
  task?: any;
}

export function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
}

/** UPID with at least 8 colon-separated fields and a node name (provider tasks_types.go:54-97). */
export function expectUpid(upid: unknown, node: string): void {
  expect(typeof upid).toBe("string");
  const fields = (upid as string).split(":");
  expect(fields.length).toBeGreaterThanOrEqual(8);
  expect(fields[0]).toBe("UPID");
  expect(fields[1]).toBe(node);
}

export async function play(
  w: World,
  steps: Step[],
  vars: Record<string, string>,
  body: Record<string, string> = {},
): Promise<Played[]> {
  const out: Played[] = [];
  for (const step of steps) {
    const p = step.path === "/nodes/{node}/lxc" && step.method === "POST" ? body : (step.params ?? {});
    const params = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, fill(v, vars)]));
    const path = fill(step.path, vars);
    const answer =
      step.path === "/access/ticket"
        ? await w.client.login("root@pam", params.password ?? "correct horse battery staple")
        : await w.client.call(step.method, path, params);
    const where = `${step.method} ${path} (${step.source})`;
    expect({ where, status: answer.status }).toEqual({ where, status: step.status });
    if (step.reason) {
      const reason = fill(step.reason, vars);
      expect({ where, reason: answer.reason }).toEqual({ where, reason });
      expect(answer.body.message).toBe(`${reason}\n`);
      expect(answer.body.data).toBeNull();
    }
    const played: Played = { step, answer };
    if (step.task) {
      const upid = answer.body.data;
      expectUpid(upid, vars.node);
      played.task = await w.client.waitTask(vars.node, upid);
      const exit = fill(step.task, vars);
      expect({ where, exitstatus: played.task.exitstatus }).toEqual({ where, exitstatus: exit });
      if (exit !== "OK") {
        // After a failed task the provider reads the log and deletes the task (§3.3, B4).
        const log = await w.client.call("GET", `/nodes/${vars.node}/tasks/${encodeURIComponent(upid)}/log`);
        expect(log.status).toBe(200);
        expect(log.body.data[log.body.data.length - 1].t).toBe(`TASK ERROR: ${exit}`);
        const del = await w.client.call("DELETE", `/nodes/${vars.node}/tasks/${encodeURIComponent(upid)}`);
        expect(del.status).toBe(200);
      }
    }
    out.push(played);
  }
  return out;
}
