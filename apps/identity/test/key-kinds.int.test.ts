import type { Api } from "@tidings/service-kit";
import { adminAuth, expectError, serviceTest, userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../src/service.ts";

// A test key promises that nothing reaches a provider, a team key that it sends only to its allow-list: identity
// cannot keep either (a verification SMS, another person's addresses, everyone's PII in a search), so it refuses
// them on every route (service-kit's `keyKinds`).
const it = serviceTest(identityService);

const call = (app: Api, headers: object, method: "GET" | "POST" | "PATCH", url: string, payload?: object) =>
  app.inject({ method, url, headers: { ...headers }, ...(payload ? { payload } : {}) });

describe("test and team keys on identity", () => {
  it("are refused with 403 KEY_KIND_NOT_ALLOWED on every route, changing nothing; live keys are not", async ({
    svc,
  }) => {
    const person = await call(svc.app, adminAuth, "POST", "/api/v1/identities/", {
      details: { addresses: { msisdn: { "+27820009001": { default: true } } } },
    });
    expect(person.statusCode, person.body).toBe(201);
    const id = person.json().id;
    const keys = {
      test: await userAuth(svc.app, "ci@example.org", { kind: "test" }),
      team: await userAuth(svc.app, "team@example.org", { kind: "team", allow_list: [id, "+27820009001"] }),
    };
    for (const [kind, key] of Object.entries(keys)) {
      for (const [method, url, payload] of [
        ["GET", "/api/v1/identities/search/?details__addresses__msisdn=%2B27820009001", undefined],
        ["GET", `/api/v1/identities/${id}/`, undefined],
        ["POST", `/api/v1/identities/${id}/verify/`, { address_type: "msisdn", address: "+27820009001" }],
        [
          "PATCH",
          `/api/v1/identities/${id}/`,
          { details: { addresses: { msisdn: { "+27820009999": {} } } } },
        ],
        ["POST", "/api/v1/optout/", { identity: id, address_type: "msisdn", address: "+27820009001" }],
      ] as const) {
        const res = await call(svc.app, key, method, url, payload);
        expectError(res, 403, "KEY_KIND_NOT_ALLOWED");
        expect(res.json().error.message, `${kind} ${method} ${url}`).toContain(
          `A ${kind} key cannot be used here`,
        );
      }
    }
    const stored = await call(svc.app, adminAuth, "GET", `/api/v1/identities/${id}/`);
    expect(Object.keys(stored.json().details.addresses.msisdn)).toEqual(["+27820009001"]);

    const live = await userAuth(svc.app, "hub@example.org");
    const found = await call(
      svc.app,
      live,
      "GET",
      "/api/v1/identities/search/?details__addresses__msisdn=%2B27820009001",
    );
    expect(found.statusCode).toBe(200);
    expect(found.json().results.map((r: { id: string }) => r.id)).toEqual([id]);
  });
});
