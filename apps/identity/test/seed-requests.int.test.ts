/**
 * The identity store as Seed hubs call it: request shapes that Seed (Django REST framework) accepted and the hubs
 * rely on (see packages/e2e/test/seed-hubs.int.test.ts for their whole flows over the wire).
 */
import { serviceTest } from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../src/service.ts";
import { create, get, msisdn, type Svc, send } from "./helpers.ts";

const it = serviceTest(identityService);

const withAddress = async (svc: Svc) => {
  const address = msisdn(31);
  const identity = await create(svc, {
    details: { default_addr_type: "msisdn", addresses: { msisdn: { [address]: { default: true } } } },
  });
  return { address, identity };
};

/** POST /api/v1/optin/ or /api/v1/optout/ for `identity`'s msisdn `address`, from `request_source`. */
const consent = (
  svc: Svc,
  kind: "optin" | "optout",
  { identity, address }: Awaited<ReturnType<typeof withAddress>>,
  request_source: string,
  extra: Record<string, unknown> = {},
) =>
  send(svc, "POST", `/api/v1/${kind}/`, {
    identity: identity.id,
    address_type: "msisdn",
    address,
    request_source,
    ...extra,
  });

describe("Seed hubs' identity requests", () => {
  it("takes back the whole identity a hub read, ignoring its read-only fields (ndoh third-party registration)", async ({
    svc,
  }) => {
    const { identity } = await withAddress(svc);
    const read = (await get(svc, `/api/v1/identities/${identity.id}/`)).json();
    const sentBack = {
      ...read,
      id: "00000000-0000-4000-8000-000000000000",
      created_by: 99,
      created_at: "2001-01-01T00:00:00Z",
      details: { ...read.details, lang_code: "xho_ZA" },
    };
    const patched = await send(svc, "PATCH", `/api/v1/identities/${identity.id}/`, sentBack);
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      id: identity.id,
      created_at: read.created_at,
      created_by: read.created_by,
      details: { lang_code: "xho_ZA" },
    });
    const put = await send(svc, "PUT", `/api/v1/identities/${identity.id}/`, { ...sentBack, updated_by: 5 });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().id).toBe(identity.id);
    // a field that is neither writable nor read-only is still refused
    const unknown = await send(svc, "PATCH", `/api/v1/identities/${identity.id}/`, { detials: {} });
    expect(unknown.statusCode).toBe(400);
  });

  it("accepts an integer requestor_source_id (a hub's Source key) and keeps it as text", async ({ svc }) => {
    const subject = await withAddress(svc);
    const { identity } = subject;
    const optin = await consent(svc, "optin", subject, "clinic_app", { requestor_source_id: 7 });
    expect(optin.statusCode, optin.body).toBe(201);
    expect(optin.json().requestor_source_id).toBe("7");
    const optout = await consent(svc, "optout", subject, "clinic_app", { requestor_source_id: 8 });
    expect(optout.statusCode, optout.body).toBe(201);
    expect(optout.json().requestor_source_id).toBe("8");
    const found = await get(svc, `/api/v1/optouts/search/?requestor_source_id=8&identity=${identity.id}`);
    expect(found.json().results).toHaveLength(1);
  });

  it("searches opt-outs with Django's lookups on created_at, a naive time meaning UTC", async ({ svc }) => {
    const res = await consent(svc, "optout", await withAddress(svc), "lookups");
    const createdAt = new Date(res.json().created_at as string);
    const naive = (d: Date) => d.toISOString().slice(0, 19); // no offset: UTC, as Django read it
    const search = async (query: string) =>
      (await get(svc, `/api/v1/optouts/search/?request_source=lookups&${query}`)).json().results.length;
    const before = new Date(createdAt.getTime() - 60_000);
    const after = new Date(createdAt.getTime() + 60_000);
    expect(await search(`created_at__gte=${naive(before)}`)).toBe(1);
    expect(await search(`created_at__gt=${naive(after)}`)).toBe(0);
    expect(await search(`created_at__lte=${naive(after)}`)).toBe(1);
    expect(await search(`created_at__lt=${naive(before)}`)).toBe(0);
    expect(await search(`created_at__gte=${naive(before)}&created_at__lte=${naive(after)}`)).toBe(1);
    expect(await search(`created_at=${encodeURIComponent(createdAt.toISOString())}`)).toBe(1);
    const bad = await get(svc, "/api/v1/optouts/search/?created_at__year=2026");
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("created_at__year");
  });

  it("answers a missing identity with Seed's `detail` beside the error object", async ({ svc }) => {
    const res = await get(svc, "/api/v1/identities/00000000-0000-4000-8000-000000000000/");
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ detail: "Not found.", error: { code: "IDENTITY_NOT_FOUND" } });
  });

  it("answers a malformed identity id as a missing one: 404 with `detail` (get_identity takes only 200 or 404)", async ({
    svc,
  }) => {
    const { identity } = await withAddress(svc);
    const url = "/api/v1/identities/not-an-id/";
    for (const res of [
      await get(svc, url),
      await send(svc, "PATCH", url, { details: {} }),
      await send(svc, "PUT", url, { details: {} }),
      await send(svc, "DELETE", url),
    ]) {
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json()).toMatchObject({ detail: "Not found.", error: { code: "NOT_FOUND" } });
    }
    expect((await get(svc, `/api/v1/identities/${identity.id}/`)).json().details).toMatchObject({
      default_addr_type: "msisdn",
    });
  });

  it("counts an outbound's failed delivery once, however many times its report arrives", async ({ svc }) => {
    const { identity } = await withAddress(svc);
    const report = (outbound_id: string) =>
      send(svc, "POST", "/api/v1/identities/message_count/", {
        hook: { id: 1, event: "outbound.delivery_report", target: "x" },
        data: { outbound_id, delivered: false, to_addr: "", identity: identity.id },
      });
    const outbound = "11111111-1111-4111-8111-111111111111";
    expect((await report(outbound)).json().failed_message_count).toBe(1);
    expect((await report(outbound)).json().failed_message_count).toBe(1);
    expect((await report("22222222-2222-4222-8222-222222222222")).json().failed_message_count).toBe(2);
  });
});
