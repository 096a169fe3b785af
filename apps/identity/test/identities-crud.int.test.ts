import type { IdentityChanged } from "@tidings/contracts";
import { adminAuth, expectError, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../src/service.ts";
import { create, eventAddress, get, msisdn, type Svc, send } from "./helpers.ts";

/** GET /api/v1/identities/search/ for an msisdn (as the query writes it) and further `query`, its body. */
const byMsisdn = async (svc: Svc, address: string, query = "") =>
  (await get(svc, `/api/v1/identities/search/?details__addresses__msisdn=${address}${query}`)).json();

const it = serviceTest(identityService, { worker: true, env: { DEFAULT_COUNTRY: "ZA" } }, [
  "identity.created",
  "identity.updated",
  "identity.deleted",
]);

describe("addresses are validated and normalised", () => {
  it("normalises msisdns to E.164 and lower-cases emails", async ({ svc }) => {
    const identity = await create(svc, {
      details: {
        addresses: { msisdn: { "082 000 9001": { default: true } }, email: { " Ann@Example.ORG": {} } },
      },
    });
    expect(identity.details.addresses).toEqual({
      msisdn: { "+27820009001": { default: true } },
      email: { "ann@example.org": {} },
    });
  });

  it("answers 400 naming every bad address, and stores nothing", async ({ svc }) => {
    const before = await svc.db.identity.count();
    const res = await send(svc, "POST", "/api/v1/identities/", {
      details: { addresses: { msisdn: { "12345": {} }, email: { "not-an-email": {} } } },
    });
    expectError(res, 400, "IDENTITY_INVALID_ADDRESS");
    expect(res.json().error.details).toEqual(
      expect.arrayContaining([
        { field: "body.details.addresses.msisdn.12345", message: expect.any(String) },
        { field: "body.details.addresses.email.not-an-email", message: expect.any(String) },
      ]),
    );
    expect(await svc.db.identity.count()).toBe(before);
  });

  it("refuses unknown body fields", async ({ svc }) => {
    const res = await send(svc, "POST", "/api/v1/identities/", { details: { addresses: {} }, colour: "red" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe("body.colour");
  });
});

describe("update and delete", () => {
  it("PATCH replaces details, sets updated_by, registers new keys and publishes identity.updated", async ({
    svc,
    capture,
  }) => {
    const tokenRes = await send(svc, "POST", "/api/v1/user/token/", { email: "updater@example.org" });
    const asUser = { authorization: `Token ${tokenRes.json().token}` };
    const identity = await create(svc, { details: { addresses: { msisdn: { [msisdn(1)]: {} } } } });
    const res = await svc.app.inject({
      method: "PATCH",
      url: `/api/v1/identities/${identity.id}/`,
      headers: asUser,
      payload: { details: { addresses: { msisdn: { "0820009002": {} } }, favourite_colour_key: "blue" } },
    });
    expect(res.statusCode).toBe(200);
    const updated = res.json();
    expect(updated.details).toEqual({
      addresses: { msisdn: { "+27820009002": {} } },
      favourite_colour_key: "blue",
    });
    expect(updated.updated_by).toEqual(expect.any(Number));
    expect(updated.created_by).toBeNull();
    const keys = (await get(svc, "/api/v1/detailkeys/")).json();
    expect(keys.key_names).toContain("favourite_colour_key");
    const event = await waitFor(
      () => capture.named<IdentityChanged>("identity.updated").find((e) => e.id === identity.id),
      { what: "identity.updated" },
    );
    expect(event.addresses).toEqual([eventAddress("msisdn", "+27820009002")]);
  });

  it("PUT needs details; PATCH needs at least one field; an unknown identity is 404", async ({ svc }) => {
    const identity = await create(svc, { details: { addresses: {} } });
    const put = await send(svc, "PUT", `/api/v1/identities/${identity.id}/`, { version: 3 });
    expect(put.statusCode).toBe(400);
    const empty = await send(svc, "PATCH", `/api/v1/identities/${identity.id}/`, {});
    expect(empty.statusCode).toBe(400);
    const ok = await send(svc, "PUT", `/api/v1/identities/${identity.id}/`, {
      version: 3,
      details: { addresses: {}, role: "nurse" },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ version: 3, details: { role: "nurse" } });
    const missing = await send(svc, "PATCH", "/api/v1/identities/00000000-0000-4000-8000-000000000000/", {
      version: 2,
    });
    expectError(missing, 404, "IDENTITY_NOT_FOUND");
  });

  it("DELETE removes the identity and publishes identity.deleted", async ({ svc, capture }) => {
    const identity = await create(svc, { details: { addresses: {} } });
    const res = await send(svc, "DELETE", `/api/v1/identities/${identity.id}/`);
    expect(res.statusCode).toBe(204);
    expect((await get(svc, `/api/v1/identities/${identity.id}/`)).statusCode).toBe(404);
    expect((await send(svc, "DELETE", `/api/v1/identities/${identity.id}/`)).statusCode).toBe(404);
    await waitFor(() => capture.named<{ id: string }>("identity.deleted").find((e) => e.id === identity.id), {
      what: "identity.deleted",
    });
  });

  it("concurrent PATCHes and opt-outs lose no write", async ({ svc }) => {
    const a = msisdn(1);
    const b = msisdn(1);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {}, [b]: {} } } } });
    const results = await Promise.all([
      send(svc, "POST", "/api/v1/optout/", {
        identity: identity.id,
        address_type: "msisdn",
        address: a,
        request_source: "t",
      }),
      send(svc, "POST", "/api/v1/optout/", {
        identity: identity.id,
        address_type: "msisdn",
        address: b,
        request_source: "t",
      }),
    ]);
    expect(results.map((r) => r.statusCode)).toEqual([201, 201]);
    const stored = (await get(svc, `/api/v1/identities/${identity.id}/`)).json();
    expect(stored.details.addresses.msisdn).toEqual({ [a]: { optedout: true }, [b]: { optedout: true } });
  });
});

describe("consent and verification flags survive updates", () => {
  it("a PATCH built from a stale read cannot undo an opt-out or mark an address verified", async ({
    svc,
  }) => {
    const [a, b] = [msisdn(5), msisdn(5)];
    const identity = await create(svc, {
      details: { addresses: { msisdn: { [a]: {} } }, lang_code: "eng_ZA" },
    });
    const stop = await send(svc, "POST", "/api/v1/optout/", {
      identity: identity.id,
      address_type: "msisdn",
      address: a,
      request_source: "t",
    });
    expect(stop.statusCode).toBe(201);
    // The client still holds the details from before the opt-out, and tries to add flags of its own.
    const res = await send(svc, "PATCH", `/api/v1/identities/${identity.id}/`, {
      details: {
        addresses: {
          msisdn: { [a]: { optedout: false, verified: true, default: true }, [b]: { verified: true } },
        },
        lang_code: "zul_ZA",
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().details).toEqual({
      addresses: { msisdn: { [a]: { optedout: true, default: true }, [b]: {} } },
      lang_code: "zul_ZA",
    });
  });
});

describe("GET /api/v1/identities/ filters and cursor pages", () => {
  it("filters by operator, communicate_through, created_by, updated_by and updated range", async ({
    svc,
  }) => {
    const operator = await create(svc, { details: { addresses: {} } });
    const through = await create(svc, { details: { addresses: {} } });
    const child = await create(svc, {
      details: { addresses: {} },
      operator: operator.id,
      communicate_through: through.id,
    });
    const byOperator = (await get(svc, `/api/v1/identities/?operator=${operator.id}`)).json();
    expect(byOperator.results.map((i: { id: string }) => i.id)).toEqual([child.id]);
    const byThrough = (await get(svc, `/api/v1/identities/?communicate_through=${through.id}`)).json();
    expect(byThrough.results.map((i: { id: string }) => i.id)).toEqual([child.id]);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await get(svc, `/api/v1/identities/?updated_from=${future}`)).json().count).toBe(0);
    const since = new Date(Date.parse(child.updated_at) - 1).toISOString();
    const recent = (await get(svc, `/api/v1/identities/?updated_from=${since}`)).json();
    expect(recent.results.map((i: { id: string }) => i.id)).toContain(child.id);
    expect((await get(svc, "/api/v1/identities/?created_by=999999")).json().count).toBe(0);
    expect((await get(svc, "/api/v1/identities/?updated_by=999999")).json().count).toBe(0);
    expect((await get(svc, "/api/v1/identities/?created_from=yesterday")).statusCode).toBe(400);
  });

  it("walks every identity with cursor pages, without duplicates", async ({ svc }) => {
    for (let i = 0; i < 3; i++) {
      await create(svc, { details: { addresses: {} } });
    }
    const all = (await get(svc, "/api/v1/identities/?limit=1000")).json();
    const seen: string[] = [];
    let url: string | null = "/api/v1/identities/?limit=2&cursor=";
    while (url) {
      const page: { results: { id: string }[]; next: string | null } = (await get(svc, url)).json();
      expect(page.results.length).toBeLessThanOrEqual(2);
      seen.push(...page.results.map((i: { id: string }) => i.id));
      url = page.next && new URL(page.next).pathname + new URL(page.next).search;
    }
    expect(seen).toEqual(all.results.map((i: { id: string }) => i.id));
    expect((await get(svc, "/api/v1/identities/?cursor=garbage")).json().error.code).toBe("INVALID_CURSOR");
    // A cursor is ours to read only when it holds a time Postgres takes and a uuid: anything else is the same 400,
    // never a failed ::uuid cast or date (a 500).
    const id = all.results[0].id as string;
    for (const position of [
      ["2026-01-01T00:00:00.000Z", "------------------------------------"],
      ["2026-01-01T00:00:00.000Z", "0123456789abcdef0123456789abcdef0123"],
      ["0000-01-01T00:00:00.000Z", id],
      ["+010000-01-01T00:00:00.000Z", id],
      [0, id],
    ]) {
      const cursor = Buffer.from(JSON.stringify(position)).toString("base64url");
      const res = await get(svc, `/api/v1/identities/?cursor=${cursor}`);
      expect(res.statusCode, JSON.stringify(position)).toBe(400);
      expect(res.json().error.code).toBe("INVALID_CURSOR");
    }
  });

  it("follows a counted first page's next and previous as cursor pages that keep their place", async ({
    svc,
  }) => {
    const follow = async (link: string) =>
      (await get(svc, new URL(link).pathname + new URL(link).search)).json();
    const ids = (page: { results: { id: string }[] }) => page.results.map((i) => i.id);
    for (let i = 0; i < 4; i++) {
      await create(svc, { details: { addresses: {} } });
    }
    const all = ids((await get(svc, "/api/v1/identities/?limit=1000")).json());
    const first = (await get(svc, "/api/v1/identities/?limit=2")).json();
    expect(first).toMatchObject({ count: all.length, previous: null });
    expect(first.next).toMatch(/\?limit=2&cursor=[\w-]+$/);
    // an identity made meanwhile shifts no page; the cursor pages are not counted
    await create(svc, { details: { addresses: {} } });
    const second = await follow(first.next);
    expect(second).not.toHaveProperty("count");
    expect(ids(second)).toEqual(all.slice(2, 4));
    expect(ids(await follow(second.previous))).toEqual(all.slice(0, 2));
    // an offset page links by cursors too
    const third = (await get(svc, "/api/v1/identities/?limit=2&offset=5")).json();
    expect(ids(await follow(third.previous))).toEqual(all.slice(2, 4));
  });
});

describe("GET /api/v1/identities/search/", () => {
  it("finds by address (normalised), by other details, and include_inactive=false drops inactive matches", async ({
    svc,
  }) => {
    const a = msisdn(2);
    const match = await create(svc, { details: { addresses: { msisdn: { [a]: {} } }, lang_code: "zul_ZA" } });
    const inactive = await create(svc, {
      details: { addresses: { msisdn: { [a]: { inactive: true } } }, lang_code: "eng_ZA" },
    });
    const byAddress = await byMsisdn(svc, encodeURIComponent(a));
    expect(byAddress.results.map((i: { id: string }) => i.id).sort()).toEqual([match.id, inactive.id].sort());
    const national = `0${a.slice(3)}`;
    const byNational = await byMsisdn(svc, national);
    expect(byNational.count).toBe(2);
    const active = await byMsisdn(svc, encodeURIComponent(a), "&include_inactive=false");
    expect(active.results.map((i: { id: string }) => i.id)).toEqual([match.id]);
    const both = await byMsisdn(svc, encodeURIComponent(a), "&details__lang_code=eng_ZA");
    expect(both.results.map((i: { id: string }) => i.id)).toEqual([inactive.id]);
    const first = await byMsisdn(svc, encodeURIComponent(a), "&limit=1&cursor=");
    expect(first.results).toHaveLength(1);
    expect(first.next).toContain("cursor=");
    const second = (await get(svc, new URL(first.next).pathname + new URL(first.next).search)).json();
    expect(second.next).toBeNull();
    expect([...first.results, ...second.results].map((i: { id: string }) => i.id)).toEqual(
      byAddress.results.map((i: { id: string }) => i.id),
    );
  });

  it("details__has_key=<key> finds the identities whose details have that key (HelloMama's personnel codes)", async ({
    svc,
  }) => {
    const code = `PC${msisdn(4).slice(-6)}`;
    const worker = await create(svc, {
      details: { addresses: {}, personnel_code: code, role: { name: "nurse" } },
    });
    const noCode = await create(svc, { details: { addresses: {}, personnel_code: null } });
    await create(svc, { details: { addresses: {}, role: { name: "personnel_code" }, lang_code: "eng_ZA" } });
    await create(svc, { details: { addresses: {}, personnel_code_old: code } });
    const ids = async (query: string) => {
      const res = await get(svc, `/api/v1/identities/search/?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().results.map((i: { id: string }) => i.id);
    };
    // Every identity with the key, whatever its value (as Django's has_key): here, only these two.
    const withCode = await ids("details__has_key=personnel_code");
    expect(withCode).toEqual(expect.arrayContaining([worker.id, noCode.id]));
    const rows = await svc.db.identity.findMany({ where: { id: { in: withCode } } });
    expect(rows.every((r) => Object.hasOwn(r.details as object, "personnel_code"))).toBe(true);
    // With a value filter as well; nested (the object at details.role has the key); cursor paging.
    expect(await ids(`details__has_key=personnel_code&details__personnel_code=${code}`)).toEqual([worker.id]);
    expect(await ids(`details__role__has_key=name&details__personnel_code=${code}`)).toEqual([worker.id]);
    expect(await ids(`details__role__has_key=title&details__personnel_code=${code}`)).toEqual([]);
    expect(await ids(`details__personnel_code__exact=${code}`)).toEqual([worker.id]);
    const paged = await get(
      svc,
      "/api/v1/identities/search/?details__has_key=personnel_code&cursor=&limit=1",
    );
    expect(paged.json().results).toHaveLength(1);
  });

  it("keeps its place while the identities it pages through stop matching", async ({ svc }) => {
    for (let i = 0; i < 5; i++) {
      await create(svc, { details: { addresses: {}, to_move: "yes" } });
    }
    const visited: string[] = [];
    let url: string | null = "/api/v1/identities/search/?details__to_move=yes&limit=2";
    while (url) {
      const page: { results: { id: string }[]; next: string | null } = (await get(svc, url)).json();
      for (const identity of page.results) {
        visited.push(identity.id);
        await send(svc, "PATCH", `/api/v1/identities/${identity.id}/`, { details: { addresses: {} } });
      }
      url = page.next && new URL(page.next).pathname + new URL(page.next).search;
    }
    expect(new Set(visited).size).toBe(5);
    expect((await get(svc, "/api/v1/identities/search/?details__to_move=yes")).json().count).toBe(0);
  });

  it.for([
    "details__lang_code__icontains=eng",
    "details__personnel_code__in=a,b",
    "details__age__gt=3",
    "details__contains=x",
    "details__role__name__startswith=n",
    "details__has_keys=a",
    "details__addresses__msisdn__isnull=false",
  ])(
    "answers 400 IDENTITY_UNSUPPORTED_LOOKUP for %s, not a search of a key of that name",
    async (query, { svc }) => {
      const res = await get(svc, `/api/v1/identities/search/?${query}`);
      expect(res.statusCode).toBe(400);
      const param = query.split("=")[0];
      expect(res.json().error).toMatchObject({
        code: "IDENTITY_UNSUPPORTED_LOOKUP",
        message: expect.stringContaining(param as string),
        details: [{ field: `querystring.${param}`, message: expect.any(String) }],
        requestId: expect.any(String),
      });
    },
  );

  it("answers 400 for a has_key naming no key", async ({ svc }) => {
    const res = await get(svc, "/api/v1/identities/search/?details__has_key=");
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "IDENTITY_INVALID_FILTER" });
  });

  it("answers 400, not 500, for an unknown filter field", async ({ svc }) => {
    const res = await get(svc, "/api/v1/identities/search/?password__startswith=a");
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: "IDENTITY_UNKNOWN_FILTER",
      details: [{ field: "querystring.password__startswith", message: expect.any(String) }],
    });
    expect((await get(svc, "/api/v1/identities/search/?details__addresses__msisdn__x=1")).statusCode).toBe(
      400,
    );
    expect((await get(svc, "/api/v1/identities/search/?include_inactive=maybe")).statusCode).toBe(400);
  });

  it("searches a details key named after an object's inherited property as any other key, changing nothing else", async ({
    svc,
  }) => {
    const { id } = await create(svc, {
      details: { addresses: {}, constructor: { entries: "x" }, prototype: "y" },
    });
    // Walking the pattern through `constructor` reached the global Object and replaced Object.entries: every
    // later request of the process answered 500.
    for (const query of ["details__constructor__entries=x", "details__prototype=y"]) {
      const res = await get(svc, `/api/v1/identities/search/?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().results.map((r: { id: string }) => r.id)).toEqual([id]);
    }
    expect(typeof Object.entries).toBe("function");
    expect((await svc.app.inject({ url: "/api/health/" })).statusCode).toBe(200);
  });
});

describe("GET /api/v1/identities/{id}/addresses/{type}", () => {
  it("lists usable addresses; an opted-out address does not hide the ones after it", async ({ svc }) => {
    const [a, b, c, d] = [msisdn(3), msisdn(3), msisdn(3), msisdn(3)];
    const identity = await create(svc, {
      details: {
        addresses: {
          msisdn: { [a]: { optedout: true }, [b]: {}, [c]: { inactive: true }, [d]: { default: true } },
        },
      },
    });
    const res = (await get(svc, `/api/v1/identities/${identity.id}/addresses/msisdn`)).json();
    expect(res).toMatchObject({ count: 2, results: [{ address: b }, { address: d }] });
    const defaults = (await get(svc, `/api/v1/identities/${identity.id}/addresses/msisdn?default=1`)).json();
    expect(defaults.results).toEqual([{ address: d }]);
    expect((await get(svc, `/api/v1/identities/${identity.id}/addresses/email`)).json().count).toBe(0);
  });

  it("default returns the only address; use_communicate_through resolves the other identity", async ({
    svc,
  }) => {
    const [a, b] = [msisdn(4), msisdn(4)];
    const owner = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    const dependant = await create(svc, {
      details: { addresses: { msisdn: { [b]: {} } } },
      communicate_through: owner.id,
    });
    const own = (await get(svc, `/api/v1/identities/${dependant.id}/addresses/msisdn?default`)).json();
    expect(own.results).toEqual([{ address: b }]);
    const through = (
      await get(svc, `/api/v1/identities/${dependant.id}/addresses/msisdn?use_communicate_through&default`)
    ).json();
    expect(through.results).toEqual([{ address: a }]);
  });

  it("answers 404, not 500, for an unknown identity", async ({ svc }) => {
    const res = await get(svc, "/api/v1/identities/00000000-0000-4000-8000-000000000000/addresses/msisdn");
    expectError(res, 404, "IDENTITY_NOT_FOUND");
  });
});

describe("GET /api/v1/detailkeys/", () => {
  it("lists every top-level key seen on create", async ({ svc }) => {
    await create(svc, { details: { addresses: {}, pmtct: { risk: "high" }, preferred_language: "eng" } });
    const res = await get(svc, "/api/v1/detailkeys/");
    expect(res.statusCode).toBe(200);
    expect(res.json().key_names).toEqual(
      expect.arrayContaining(["addresses", "pmtct", "preferred_language"]),
    );
  });

  it("needs a token", async ({ svc }) => {
    expect((await svc.app.inject({ url: "/api/v1/detailkeys/" })).statusCode).toBe(401);
    expect((await svc.app.inject({ url: "/api/v1/detailkeys/", headers: adminAuth })).statusCode).toBe(200);
  });
});
