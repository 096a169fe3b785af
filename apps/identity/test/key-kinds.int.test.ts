import { adminAuth, callAs, expectKeyKindsRefused, serviceTest, userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../src/service.ts";

// A test key promises that nothing reaches a provider, a team key that it sends only to its allow-list: identity
// cannot keep either (a verification SMS, another person's addresses, everyone's PII in a search), so it refuses
// them on every route (service-kit's `keyKinds`).
const it = serviceTest(identityService);

describe("test and team keys on identity", () => {
  it("are refused with 403 KEY_KIND_NOT_ALLOWED on every route, changing nothing; live keys are not", async ({
    svc,
  }) => {
    const person = await callAs(svc.app, adminAuth, [
      "POST",
      "/api/v1/identities/",
      { details: { addresses: { msisdn: { "+27820009001": { default: true } } } } },
    ]);
    expect(person.statusCode, person.body).toBe(201);
    const id = person.json().id;
    const search = ["GET", "/api/v1/identities/search/?details__addresses__msisdn=%2B27820009001"] as const;
    await expectKeyKindsRefused(
      svc.app,
      [
        search,
        ["GET", `/api/v1/identities/${id}/`],
        ["POST", `/api/v1/identities/${id}/verify/`, { address_type: "msisdn", address: "+27820009001" }],
        [
          "PATCH",
          `/api/v1/identities/${id}/`,
          { details: { addresses: { msisdn: { "+27820009999": {} } } } },
        ],
        ["POST", "/api/v1/optout/", { identity: id, address_type: "msisdn", address: "+27820009001" }],
      ],
      [id, "+27820009001"],
    );
    const stored = await callAs(svc.app, adminAuth, ["GET", `/api/v1/identities/${id}/`]);
    expect(Object.keys(stored.json().details.addresses.msisdn)).toEqual(["+27820009001"]);

    const found = await callAs(svc.app, await userAuth(svc.app, "hub@example.org"), search);
    expect(found.statusCode).toBe(200);
    expect(found.json().results.map((r: { id: string }) => r.id)).toEqual([id]);
  });
});
