import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn, statusesOf } from "./helpers.ts";
import { call } from "./support.ts";

/** A provider that is down until `up` is set: every send fails with a passing error. */
let up = false;
const sent: string[] = [];

const it = serviceTest(
  createMessageSenderService({
    channels: () => ({
      DOWN: {
        send: async (outbound) => {
          if (!up) {
            throw new Error("provider unavailable");
          }
          sent.push(outbound.id);
          return { providerId: `down-${outbound.id}`, delivered: true };
        },
      },
    }),
  }),
  { worker: true, env: { OUTBOUND_RETRY_DELAYS_MS: "50,50,50,50" } },
  ["outbound.failed", "outbound.delivery_report"],
);

describe("failed tasks", () => {
  it("records an outbound not sent after every attempt, and requeues it by POST", async ({
    svc,
    capture,
  }) => {
    const res = await call(svc, "POST", "/api/v1/outbound/", {
      to_addr: msisdn(),
      content: "x",
      metadata: {},
      channel: "DOWN",
    });
    const { id } = res.json();
    const tasks = await waitFor(
      async () => {
        const page = (await call(svc, "GET", "/api/v1/failed-tasks/")).json();
        return page.count === 1 && page.results;
      },
      { what: "a failed task" },
    );
    expect(tasks[0]).toMatchObject({ outbound: id, reason: "provider unavailable", attempts: 5 });
    expect((await call(svc, "GET", `/api/v1/failed-tasks/${tasks[0].id}/`)).json().outbound).toBe(id);
    // Failed with its reason (nothing was sent: attempts 0, the address kept so it can be requeued), and
    // announced as outbound.failed without a delivery report (an outage says nothing about the address).
    const failed = (await call(svc, "GET", `/api/v1/outbound/${id}/`)).json();
    expect(failed).toMatchObject({ status: "failed", last_error: "provider unavailable", attempts: 0 });
    expect(failed.to_addr).not.toBe("");
    await waitFor(() => capture.named<{ id: string }>("outbound.failed").some((m) => m.id === id), {
      what: "outbound.failed",
    });
    expect(capture.named<{ outbound_id: string }>("outbound.delivery_report")).toEqual([]);

    up = true;
    const requeued = await call(svc, "POST", "/api/v1/failed-tasks/");
    expect(requeued.statusCode).toBe(201);
    expect(requeued.json()).toEqual({ requeued_failed_tasks: true });
    await waitFor(
      async () => (await call(svc, "GET", `/api/v1/outbound/${id}/`)).json().status === "delivered",
      {
        what: "the requeued outbound to be delivered",
      },
    );
    expect(sent.filter((s) => s === id)).toHaveLength(1);
    // The history shows the one backwards move: failed -> queued by the requeue.
    expect(await statusesOf(svc.db, id)).toEqual(["failed", "queued", "submitted", "delivered"]);
    expect((await call(svc, "GET", "/api/v1/failed-tasks/")).json().count).toBe(0);
    // Requeueing again has nothing to send.
    expect((await call(svc, "POST", "/api/v1/failed-tasks/")).statusCode).toBe(201);
  });

  it("drops the failed tasks of a sensitive outbound and of one redacted since, and sends neither", async ({
    svc,
  }) => {
    up = false;
    const send = async (fields: object) =>
      (
        await call(svc, "POST", "/api/v1/outbound/", {
          to_addr: msisdn(),
          content: "Your code is 123456",
          metadata: {},
          channel: "DOWN",
          ...fields,
        })
      ).json().id as string;
    const id = await send({});
    const code = await send({ sensitive: true });
    await waitFor(async () => (await call(svc, "GET", "/api/v1/failed-tasks/")).json().count === 2, {
      what: "two failed tasks",
    });
    expect((await call(svc, "DELETE", `/api/v1/outbound/${id}/`)).statusCode).toBe(204);
    up = true;
    expect((await call(svc, "POST", "/api/v1/failed-tasks/")).statusCode).toBe(201);
    expect((await call(svc, "GET", "/api/v1/failed-tasks/")).json().count).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await call(svc, "GET", `/api/v1/outbound/${id}/`)).json()).toMatchObject({
      status: "failed",
      content: null,
      redacted: true,
    });
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: code } })).toMatchObject({
      status: "failed",
      content: null,
    });
    expect(sent).not.toContain(id);
    expect(sent).not.toContain(code);
  });
});
