import { callAs, expectKeyKindsRefused, serviceTest, userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import { contentService } from "../src/service.ts";

// Content is what every live send says: content refuses test and team keys on every route (service-kit's
// `keyKinds`), so neither can change what real subscribers receive.
const it = serviceTest(contentService);

describe("test and team keys on content", () => {
  it("are refused with 403 KEY_KIND_NOT_ALLOWED, storing nothing; live keys are not", async ({ svc }) => {
    const schedule = ["POST", "/api/v1/schedule/", { minute: "0", hour: "8" }] as const;
    await expectKeyKindsRefused(svc.app, [schedule, ["GET", "/api/v1/messageset/"]], ["+27820009001"]);
    expect(await svc.db.schedule.count()).toBe(0);

    const live = await userAuth(svc.app, "hub@example.org");
    expect((await callAs(svc.app, live, schedule)).statusCode).toBe(201);
  });
});
