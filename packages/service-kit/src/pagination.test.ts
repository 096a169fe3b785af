import type { SqlExecutor } from "@tidings/amqp";
import { testLogger } from "@tidings/testing";
import Type from "typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApi } from "./app.ts";
import { DEFAULT_PAGE_SIZE, pageParams, toPage } from "./pagination.ts";
import type { Api } from "./routes.ts";

const COUNT = 25;

/** An API listing 0..COUNT-1 through toPage, as a service's list route does. */
function listApi(publicUrl?: string): Promise<Api> {
  const db: SqlExecutor = {
    $queryRawUnsafe: async <T>() => [] as T,
    $executeRawUnsafe: async () => 0,
  };
  return buildApi({ service: "svc", version: "1", logger: testLogger(), db, publicUrl }, (app) => {
    app.get(
      "/api/v1/items/",
      {
        config: { public: true },
        schema: {
          querystring: Type.Object({
            limit: Type.Optional(Type.Integer({ minimum: 1 })),
            offset: Type.Optional(Type.Integer({ minimum: 0 })),
            kind: Type.Optional(Type.String()),
          }),
        },
      },
      async (request) => {
        const params = pageParams(request.query);
        const all = Array.from({ length: COUNT }, (_, i) => i);
        return toPage(
          request,
          params,
          COUNT,
          all.slice(params.offset, params.offset + params.limit),
          publicUrl,
        );
      },
    );
  });
}

describe("pageParams", () => {
  it("defaults to the first page of DEFAULT_PAGE_SIZE", () => {
    expect(pageParams({})).toEqual({ limit: DEFAULT_PAGE_SIZE, offset: 0 });
    expect(pageParams({ limit: 5, offset: 10 })).toEqual({ limit: 5, offset: 10 });
  });
});

describe("toPage", () => {
  let app: Api;
  beforeAll(async () => {
    app = await listApi();
  });
  afterAll(async () => {
    await app?.close();
  });

  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await app.inject({ url, headers: { host: "svc.local:3001", ...headers } });
    expect(res.statusCode).toBe(200);
    return res.json() as { count: number; next: string | null; previous: string | null; results: number[] };
  };

  it("links the first page to the next, with no previous", async () => {
    const page = await get("/api/v1/items/?limit=10");
    expect(page).toEqual({
      count: COUNT,
      next: "http://svc.local:3001/api/v1/items/?limit=10&offset=10",
      previous: null,
      results: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    });
  });

  it("links a middle page both ways, the previous one without an offset", async () => {
    const page = await get("/api/v1/items/?limit=10&offset=10");
    expect(page.next).toBe("http://svc.local:3001/api/v1/items/?limit=10&offset=20");
    expect(page.previous).toBe("http://svc.local:3001/api/v1/items/?limit=10");
    expect(page.results[0]).toBe(10);
  });

  it("has no next on the last page, and a previous clamped at 0", async () => {
    const last = await get("/api/v1/items/?limit=10&offset=20");
    expect(last.next).toBeNull();
    expect(last.previous).toBe("http://svc.local:3001/api/v1/items/?limit=10&offset=10");
    expect(last.results).toEqual([20, 21, 22, 23, 24]);

    const odd = await get("/api/v1/items/?limit=10&offset=5");
    expect(odd.previous).toBe("http://svc.local:3001/api/v1/items/?limit=10");

    const exact = await get("/api/v1/items/?limit=5&offset=20");
    expect(exact.next).toBeNull();
  });

  it("has no links when everything fits on one page, and uses the default limit", async () => {
    const page = await get("/api/v1/items/");
    expect(page).toMatchObject({ count: COUNT, next: null, previous: null });
    expect(page.results).toHaveLength(COUNT);
  });

  it("keeps the other query parameters", async () => {
    const page = await get("/api/v1/items/?kind=a%20b&limit=10");
    const next = new URL(page.next as string);
    expect(next.pathname).toBe("/api/v1/items/");
    expect(Object.fromEntries(next.searchParams)).toEqual({ kind: "a b", limit: "10", offset: "10" });
  });

  it("follows X-Forwarded-Proto and X-Forwarded-Host from a proxy", async () => {
    const page = await get("/api/v1/items/?limit=10", {
      "x-forwarded-proto": "https",
      "x-forwarded-host": "api.example.org",
    });
    expect(page.next).toBe("https://api.example.org/api/v1/items/?limit=10&offset=10");
  });

  it.each([
    ["https://public.example.org", "https://public.example.org/api/v1/items/?limit=10&offset=20"],
    ["https://public.example.org/", "https://public.example.org/api/v1/items/?limit=10&offset=20"],
    [
      "https://public.example.org/identity",
      "https://public.example.org/identity/api/v1/items/?limit=10&offset=20",
    ],
  ])("builds the links on PUBLIC_URL %s", async (publicUrl, next) => {
    const behindProxy = await listApi(publicUrl);
    try {
      const res = await behindProxy.inject({
        url: "/api/v1/items/?limit=10&offset=10",
        headers: { host: "10.0.0.5:3001" },
      });
      const page = res.json();
      expect(page.next).toBe(next);
      expect(page.previous).toBe(next.replace("&offset=20", ""));
    } finally {
      await behindProxy.close();
    }
  });
});
