import type { Api } from "@tidings/service-kit";
import { expectError, serviceTest, userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import { subscriptionService } from "../src/service.ts";

// Subscriptions and topic publishes become real sends to whoever subscribed, past any key's log channel or
// allow-list: subscription refuses test and team keys on every route (service-kit's `keyKinds`).
const it = serviceTest(subscriptionService);

const call = (app: Api, headers: object, method: "GET" | "POST", url: string, payload?: object) =>
  app.inject({ method, url, headers: { ...headers }, ...(payload ? { payload } : {}) });

describe("test and team keys on subscription", () => {
  it("are refused with 403 KEY_KIND_NOT_ALLOWED (a topic publish, a subscription, a send); live keys are not", async ({
    svc,
  }) => {
    const subscriber = "6f1c3a52-4d0e-4f5a-9b1e-1c2d3e4f5a6b";
    const keys = {
      test: await userAuth(svc.app, "ci@example.org", { kind: "test" }),
      team: await userAuth(svc.app, "team@example.org", { kind: "team", allow_list: [subscriber] }),
    };
    for (const [kind, key] of Object.entries(keys)) {
      for (const [method, url, payload] of [
        ["POST", "/api/v1/topics/outbreak%2Fke/publish/", { content: "Boil your water" }],
        ["POST", "/api/v1/topics/outbreak%2Fke/subscribers/", { identity: subscriber }],
        [
          "POST",
          "/api/v1/subscriptions/",
          { identity: subscriber, messageset: 1, lang: "eng_ZA", schedule: 1 },
        ],
        ["POST", `/api/v1/subscriptions/${subscriber}/send`, {}],
        ["GET", "/api/v1/subscriptions/", undefined],
      ] as const) {
        const res = await call(svc.app, key, method, url, payload);
        expectError(res, 403, "KEY_KIND_NOT_ALLOWED");
        expect(res.json().error.message, `${kind} ${method} ${url}`).toContain(
          `A ${kind} key cannot be used here`,
        );
      }
    }
    expect(await svc.db.topicPublish.count()).toBe(0);
    expect(await svc.db.topicSubscription.count()).toBe(0);

    const live = await userAuth(svc.app, "hub@example.org");
    expect((await call(svc.app, live, "GET", "/api/v1/subscriptions/")).statusCode).toBe(200);
  });
});
