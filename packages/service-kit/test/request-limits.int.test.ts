import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityService } from "../../../apps/identity/src/service.ts";
import { adminAuth, startTestService } from "../src/testing.ts";

/** A real service's API (identity) on its own database, driven as a client would. */
const start = (env: Record<string, string> = {}) => startTestService(identityService, { env });
let svc: Awaited<ReturnType<typeof start>>;

beforeAll(async () => {
  svc = await start();
});
afterAll(async () => {
  await svc?.close();
});

const identityCount = async () =>
  (await svc.db.$queryRawUnsafe<{ n: number }[]>("SELECT count(*)::int AS n FROM identity"))[0]?.n;

describe("JSON depth", () => {
  it("answers an identity 3,000 levels deep with 400 BODY_TOO_DEEP, and stores nothing", async () => {
    const deep = `${'{"a": '.repeat(3000)}1${"}".repeat(3000)}`;
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/identities/",
      headers: { ...adminAuth, "content-type": "application/json" },
      payload: `{"details": {"addresses": {"msisdn": {"+27820001001": {"default": true}}}, "deep": ${deep}}}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "BODY_TOO_DEEP", requestId: expect.any(String) });
    expect(await identityCount()).toBe(0);
  });
});
