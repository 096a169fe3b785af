import type { Api } from "@tidings/service-kit";
import { expectError, serviceTest, userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import { contentService } from "../src/service.ts";

// Content is what every live send says: content refuses test and team keys on every route (service-kit's
// `keyKinds`), so neither can change what real subscribers receive.
const it = serviceTest(contentService);

const call = (app: Api, headers: object, method: "GET" | "POST", url: string, payload?: object) =>
  app.inject({ method, url, headers: { ...headers }, ...(payload ? { payload } : {}) });

describe("test and team keys on content", () => {
  it("are refused with 403 KEY_KIND_NOT_ALLOWED, storing nothing; live keys are not", async ({ svc }) => {
    const keys = {
      test: await userAuth(svc.app, "ci@example.org", { kind: "test" }),
      team: await userAuth(svc.app, "team@example.org", { kind: "team", allow_list: ["+27820009001"] }),
    };
    for (const [kind, key] of Object.entries(keys)) {
      for (const [method, url, payload] of [
        ["POST", "/api/v1/schedule/", { minute: "0", hour: "8" }],
        ["GET", "/api/v1/messageset/", undefined],
      ] as const) {
        const res = await call(svc.app, key, method, url, payload);
        expectError(res, 403, "KEY_KIND_NOT_ALLOWED");
        expect(res.json().error.message, `${kind} ${method} ${url}`).toContain(
          `A ${kind} key cannot be used here`,
        );
      }
    }
    expect(await svc.db.schedule.count()).toBe(0);

    const live = await userAuth(svc.app, "hub@example.org");
    expect(
      (await call(svc.app, live, "POST", "/api/v1/schedule/", { minute: "0", hour: "8" })).statusCode,
    ).toBe(201);
  });
});
