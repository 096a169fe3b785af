import type { Api } from "@tidings/service-kit";
import { adminAuth, expectError, userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import { schedulerTest } from "./support.ts";

// A schedule's slots fire content schedules' sends and POSTs from inside the network: the scheduler refuses test
// and team keys on every route (service-kit's `keyKinds`).
const { it } = schedulerTest("2026-05-04T10:00:30.000Z");

const call = (app: Api, headers: object, method: "GET" | "POST" | "PATCH", url: string, payload?: object) =>
  app.inject({ method, url, headers: { ...headers }, ...(payload ? { payload } : {}) });

describe("test and team keys on the scheduler", () => {
  it("are refused with 403 KEY_KIND_NOT_ALLOWED (create, change, fire), changing nothing; live keys are not", async ({
    svc,
  }) => {
    const id = (
      await call(svc.app, adminAuth, "POST", "/api/v1/schedule/", { cron_definition: "0 8 * * *" })
    ).json().id;
    const keys = {
      test: await userAuth(svc.app, "ci@example.org", { kind: "test" }),
      team: await userAuth(svc.app, "team@example.org", { kind: "team", allow_list: ["+27820009001"] }),
    };
    for (const [kind, key] of Object.entries(keys)) {
      for (const [method, url, payload] of [
        ["POST", "/api/v1/schedule/", { cron_definition: "0 9 * * *" }],
        ["PATCH", `/api/v1/schedule/${id}/`, { enabled: false }],
        ["POST", `/api/v1/schedule/${id}/fire/`, undefined],
        ["GET", "/api/v1/schedule/", undefined],
      ] as const) {
        const res = await call(svc.app, key, method, url, payload);
        expectError(res, 403, "KEY_KIND_NOT_ALLOWED");
        expect(res.json().error.message, `${kind} ${method} ${url}`).toContain(
          `A ${kind} key cannot be used here`,
        );
      }
    }
    expect(await svc.db.schedule.count()).toBe(1);
    expect(await svc.db.scheduleRun.count()).toBe(0);

    const live = await userAuth(svc.app, "hub@example.org");
    expect(
      (await call(svc.app, live, "PATCH", `/api/v1/schedule/${id}/`, { enabled: false })).statusCode,
    ).toBe(200);
  });
});
