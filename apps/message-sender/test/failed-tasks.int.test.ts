import { adminAuth, startTestService, type TestService } from "@tidings/service-kit/testing";
import { waitFor } from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";

/** A provider that is down until `up` is set: every send fails with a passing error. */
let up = false;
const sent: string[] = [];

let svc: TestService<MessageSenderConfig, Db>;

beforeAll(async () => {
  svc = await startTestService(
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
  );
});
afterAll(async () => {
  await svc?.close();
});

const call = (method: "GET" | "POST", url: string, payload?: object) =>
  svc.app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) });

describe("failed tasks", () => {
  it("records an outbound not sent after every attempt, and requeues it by POST", async () => {
    const res = await call("POST", "/api/v1/outbound/", {
      to_addr: msisdn(),
      content: "x",
      metadata: {},
      channel: "DOWN",
    });
    const { id } = res.json();
    const tasks = await waitFor(
      async () => {
        const page = (await call("GET", "/api/v1/failed-tasks/")).json();
        return page.count === 1 && page.results;
      },
      { what: "a failed task" },
    );
    expect(tasks[0]).toMatchObject({ outbound: id, reason: "provider unavailable", attempts: 5 });
    expect((await call("GET", `/api/v1/failed-tasks/${tasks[0].id}/`)).json().outbound).toBe(id);
    expect((await call("GET", `/api/v1/outbound/${id}/`)).json()).toMatchObject({
      status: "queued",
      last_error: "provider unavailable",
      attempts: 0,
    });

    up = true;
    const requeued = await call("POST", "/api/v1/failed-tasks/");
    expect(requeued.statusCode).toBe(201);
    expect(requeued.json()).toEqual({ requeued_failed_tasks: true });
    await waitFor(async () => (await call("GET", `/api/v1/outbound/${id}/`)).json().status === "delivered", {
      what: "the requeued outbound to be delivered",
    });
    expect(sent.filter((s) => s === id)).toHaveLength(1);
    expect((await call("GET", "/api/v1/failed-tasks/")).json().count).toBe(0);
    // Requeueing again has nothing to send.
    expect((await call("POST", "/api/v1/failed-tasks/")).statusCode).toBe(201);
  });
});
