import { callAs, expectKeyKindsRefused, serviceTest, userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import { subscriptionService } from "../src/service.ts";

// Subscriptions and topic publishes become real sends to whoever subscribed, past any key's log channel or
// allow-list: subscription refuses test and team keys on every route (service-kit's `keyKinds`).
const it = serviceTest(subscriptionService);

describe("test and team keys on subscription", () => {
  it("are refused with 403 KEY_KIND_NOT_ALLOWED (a topic publish, a subscription, a send); live keys are not", async ({
    svc,
  }) => {
    const subscriber = "6f1c3a52-4d0e-4f5a-9b1e-1c2d3e4f5a6b";
    const list = ["GET", "/api/v1/subscriptions/"] as const;
    await expectKeyKindsRefused(
      svc.app,
      [
        ["POST", "/api/v1/topics/outbreak%2Fke/publish/", { content: "Boil your water" }],
        ["POST", "/api/v1/topics/outbreak%2Fke/subscribers/", { identity: subscriber }],
        [
          "POST",
          "/api/v1/subscriptions/",
          { identity: subscriber, messageset: 1, lang: "eng_ZA", schedule: 1 },
        ],
        ["POST", `/api/v1/subscriptions/${subscriber}/send`, {}],
        list,
      ],
      [subscriber],
    );
    expect(await svc.db.topicPublish.count()).toBe(0);
    expect(await svc.db.topicSubscription.count()).toBe(0);

    const live = await userAuth(svc.app, "hub@example.org");
    expect((await callAs(svc.app, live, list)).statusCode).toBe(200);
  });
});
