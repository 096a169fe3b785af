import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ScheduleAdded, ScheduleDeliver } from "@tidings/contracts";
import { startHttpReceiver, waitFor } from "@tidings/testing";
import { describe, expect, onTestFinished } from "vitest";
import { schedulerTest } from "./support.ts";

const TOKEN = "callback-token-5f3a9c";

const { it, clock, ticker } = schedulerTest("2026-05-04T10:00:30.000Z", {
  events: ["schedule.added", "schedule.deliver", "schedule.fired"],
  env: { HTTP_RETRY_DELAYS_MS: "30,60,90,120" },
});

/**
 * A callback endpoint (a real local HTTP server, closed after the test) answering `status(n)` to its n-th request
 * (1-based); `received` reads what each request carried.
 */
async function endpoint(status: (n: number) => number) {
  let n = 0;
  const receiver = await startHttpReceiver(() => status(++n));
  onTestFinished(() => receiver.close());
  return {
    url: `${receiver.url}/api/v1/callback/`,
    received: () =>
      receiver.received.map((r) => ({
        authorization: r.headers.authorization,
        contentType: r.headers["content-type"],
        body: JSON.parse(r.body || "null"),
      })),
  };
}

describe("HTTP targets", () => {
  it("POSTs the payload with the token, retrying until the endpoint succeeds, then sets last_run", async ({
    svc,
    capture,
    api,
  }) => {
    const flaky = await endpoint((n) => (n <= 2 ? 503 : 201));
    const created = await api.create({
      cron_definition: "*/5 * * * *",
      endpoint: flaky.url,
      auth_token: TOKEN,
      payload: { hello: "world" },
      timeout_seconds: 5,
    });
    expect(created.statusCode).toBe(201);
    const schedule = created.json();
    expect(schedule).toMatchObject({ endpoint: flaky.url, has_auth_token: true, timeout_seconds: 5 });
    expect(created.body).not.toContain(TOKEN);
    expect((await api.call("GET", `/api/v1/schedule/${schedule.id}/`)).body).not.toContain(TOKEN);
    expect((await api.call("GET", "/api/v1/schedule/")).body).not.toContain(TOKEN);

    clock.now = new Date("2026-05-04T10:05:10.000Z");
    expect(await ticker(svc.db).tick()).toBe(1);
    await waitFor(() => flaky.received().length >= 3, { what: "three POSTs" });
    const run = await waitFor(
      async () =>
        (await svc.db.scheduleRun.findFirst({
          where: { scheduleId: schedule.id, deliveredAt: { not: null } },
        })) ?? undefined,
      { what: "delivered run" },
    );
    expect(run).toMatchObject({ slot: new Date("2026-05-04T10:05:00.000Z"), trigger: "cron", manual: false });
    expect(flaky.received()).toHaveLength(3);
    for (const r of flaky.received()) {
      expect(r).toEqual({
        authorization: `Token ${TOKEN}`,
        contentType: "application/json",
        body: { hello: "world" },
      });
    }
    const after = (await api.call("GET", `/api/v1/schedule/${schedule.id}/`)).json();
    expect(after.last_run).toBe("2026-05-04T10:05:10.000000Z");
    expect(after.next_send_at).toBe("2026-05-04T10:10:00.000000Z");
    expect((await api.call("GET", "/api/v1/failed-tasks/")).json().count).toBe(0);

    // The delivery command and the creation event never carry the token; HTTP slots publish no schedule.fired.
    const added = capture.named<ScheduleAdded>("schedule.added").find((m) => m.id === schedule.id);
    expect(added).toMatchObject({ id: schedule.id, endpoint: flaky.url, cron_definition: "*/5 * * * *" });
    const deliver = capture
      .named<ScheduleDeliver>("schedule.deliver")
      .find((m) => m.schedule_id === schedule.id);
    expect(deliver).toMatchObject({
      run_id: run.id,
      slot: "2026-05-04T10:05:00.000Z",
      payload: { hello: "world" },
    });
    expect(JSON.stringify(capture.messages)).not.toContain(TOKEN);
    expect(
      capture.named<{ schedule_id: string }>("schedule.fired").some((m) => m.schedule_id === schedule.id),
    ).toBe(false);
  });

  it("records a failure after the 5th failed attempt, lists it, and requeues it with the schedule's current data", async ({
    svc,
    api,
  }) => {
    const broken = await endpoint(() => 500);
    const healthy = await endpoint(() => 200);
    const schedule = (
      await api.create({
        cron_definition: "0 0 1 1 *",
        endpoint: broken.url,
        payload: { v: 1 },
      })
    ).json();
    clock.now = new Date("2026-05-04T11:00:00.000Z");
    const fired = await api.fire(schedule.id);
    expect(fired.statusCode).toBe(202);

    const failures = await waitFor(
      async () => {
        const page = (await api.call("GET", "/api/v1/failed-tasks/")).json();
        return page.count === 1 ? page : undefined;
      },
      { what: "failure record" },
    );
    expect(broken.received()).toHaveLength(5);
    expect(broken.received()[0]).toEqual({
      authorization: undefined,
      contentType: "application/json",
      body: { v: 1 },
    });
    const run = await svc.db.scheduleRun.findFirstOrThrow({ where: { scheduleId: schedule.id } });
    expect(run).toMatchObject({ manual: true, trigger: "manual", deliveredAt: null });
    expect(failures.results).toEqual([
      {
        id: expect.any(String),
        schedule: schedule.id,
        task_id: run.id,
        initiated_at: "2026-05-04T11:00:00.000000Z",
        reason: "HTTP 500 Internal Server Error",
        attempts: 5,
        created_at: expect.any(String),
      },
    ]);
    // No further attempts after the failure was recorded, and nothing in the dead-letter queue path.
    await new Promise((r) => setTimeout(r, 400));
    expect(broken.received()).toHaveLength(5);
    expect((await api.call("GET", `/api/v1/schedule/${schedule.id}/`)).json().last_run).toBeNull();

    const one = await api.call("GET", `/api/v1/failed-tasks/${failures.results[0].id}/`);
    expect(one.json()).toEqual(failures.results[0]);
    expect(
      (await api.call("GET", "/api/v1/failed-tasks/00000000-0000-4000-8000-000000000000/")).statusCode,
    ).toBe(404);
    // Pagination of the failed-tasks list.
    const paged = (await api.call("GET", "/api/v1/failed-tasks/?limit=1")).json();
    expect(paged).toMatchObject({ count: 1, next: null, previous: null });

    // Fix the schedule, then requeue: the current endpoint, payload and token are used.
    await api.call("PATCH", `/api/v1/schedule/${schedule.id}/`, {
      endpoint: healthy.url,
      payload: { v: 2 },
      auth_token: TOKEN,
    });
    clock.now = new Date("2026-05-04T11:30:00.000Z");
    const requeued = await api.call("POST", "/api/v1/failed-tasks/");
    expect(requeued.statusCode).toBe(201);
    expect(requeued.json()).toEqual({ requeued_failed_tasks: true });
    expect((await api.call("GET", "/api/v1/failed-tasks/")).json().count).toBe(0);
    await waitFor(() => healthy.received().length === 1, { what: "requeued delivery" });
    expect(healthy.received()[0]).toEqual({
      authorization: `Token ${TOKEN}`,
      contentType: "application/json",
      body: { v: 2 },
    });
    await waitFor(
      async () =>
        (await api.call("GET", `/api/v1/schedule/${schedule.id}/`)).json().last_run ===
        "2026-05-04T11:30:00.000000Z",
      { what: "last_run after requeue" },
    );
    expect(broken.received()).toHaveLength(5);
  });

  it("treats a timeout as a failure", async ({ svc, api }) => {
    const slow = createServer((_req, res) => {
      setTimeout(() => res.end("{}"), 3_000).unref();
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => {
      slow.closeAllConnections();
      slow.close();
    });
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
    const schedule = (
      await api.create({
        interval_definition: "1 days",
        endpoint: url,
        timeout_seconds: 1,
      })
    ).json();
    await api.fire(schedule.id);
    const failure = await waitFor(
      () => svc.db.scheduleFailure.findFirst({ where: { scheduleId: schedule.id } }),
      { what: "timeout failure", timeoutMs: 20_000 },
    );
    expect(failure.reason).toBe("timeout: no answer within 1 s");
  }, 30_000);

  it("rejects a bad endpoint with 400", async ({ api }) => {
    const res = await api.create({
      cron_definition: "0 9 * * 1",
      endpoint: "ftp://x",
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json().error)).toContain("endpoint");
  });
});
