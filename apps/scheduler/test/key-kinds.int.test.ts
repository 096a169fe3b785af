import { adminAuth, callAs, expectKeyKindsRefused, userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import { schedulerTest } from "./support.ts";

// A schedule's slots fire content schedules' sends and POSTs from inside the network: the scheduler refuses test
// and team keys on every route (service-kit's `keyKinds`).
const { it } = schedulerTest("2026-05-04T10:00:30.000Z");

describe("test and team keys on the scheduler", () => {
  it("are refused with 403 KEY_KIND_NOT_ALLOWED (create, change, fire), changing nothing; live keys are not", async ({
    svc,
  }) => {
    const id = (
      await callAs(svc.app, adminAuth, ["POST", "/api/v1/schedule/", { cron_definition: "0 8 * * *" }])
    ).json().id;
    const disable = ["PATCH", `/api/v1/schedule/${id}/`, { enabled: false }] as const;
    await expectKeyKindsRefused(
      svc.app,
      [
        ["POST", "/api/v1/schedule/", { cron_definition: "0 9 * * *" }],
        disable,
        ["POST", `/api/v1/schedule/${id}/fire/`],
        ["GET", "/api/v1/schedule/"],
      ],
      ["+27820009001"],
    );
    expect(await svc.db.schedule.count()).toBe(1);
    expect(await svc.db.scheduleRun.count()).toBe(0);

    const live = await userAuth(svc.app, "hub@example.org");
    expect((await callAs(svc.app, live, disable)).statusCode).toBe(200);
  });
});
