import type { SqlExecutor } from "@tidings/amqp";
import { closeAfter, testLogger } from "@tidings/testing";
import Type from "typebox";
import { describe, expect, test } from "vitest";
import { buildApi } from "./app.ts";
import { DEFAULT_PAGE_SIZE, pageParams, toPage } from "./pagination.ts";
import type { Api } from "./routes.ts";

const COUNT = 25;

/** An API listing 0..COUNT-1 through toPage, as a service's list route does. */
function listApi(publicUrl?: string, trustProxy?: string[]): Promise<Api> {
  const db: SqlExecutor = {
    $queryRawUnsafe: async <T>() => [] as T,
    $executeRawUnsafe: async () => 0,
  };
  return buildApi(
    { service: "svc", version: "1", logger: testLogger(), db, publicUrl, trustProxy },
    (app) => {
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
          return toPage(request, params, COUNT, all.slice(params.offset, params.offset + params.limit));
        },
      );
    },
  );
}

interface ListFixtures {
  /** A list API for the whole file. */
  app: Api;
  /** The same API behind a proxy at 10.0.0.2 (TRUST_PROXY=10.0.0.0/24). */
  proxied: Api;
  /** Builds a list API of the test's own, closed after it. */
  makeListApi: typeof listApi;
}

/** Its tests take `{ app, proxied, makeListApi }`. */
const it = test.extend<ListFixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  app: [async ({}, use) => closeAfter(await listApi(), use), { scope: "file" }],
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  proxied: [async ({}, use) => closeAfter(await listApi(undefined, ["10.0.0.0/24"]), use), { scope: "file" }],
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  makeListApi: async ({}, use) => {
    const built: Api[] = [];
    try {
      await use(async (...args) => {
        const api = await listApi(...args);
        built.push(api);
        return api;
      });
    } finally {
      await Promise.all(built.map((api) => api.close()));
    }
  },
});

describe("pageParams", () => {
  it("defaults to the first page of DEFAULT_PAGE_SIZE", () => {
    expect(pageParams({})).toEqual({ limit: DEFAULT_PAGE_SIZE, offset: 0 });
    expect(pageParams({ limit: 5, offset: 10 })).toEqual({ limit: 5, offset: 10 });
  });
});

describe("toPage", () => {
  const get = async (api: Api, url: string, headers: Record<string, string> = {}, remoteAddress?: string) => {
    const res = await api.inject({ url, headers: { host: "svc.local:3001", ...headers }, remoteAddress });
    expect(res.statusCode).toBe(200);
    return res.json() as { count: number; next: string | null; previous: string | null; results: number[] };
  };

  it("links the first page to the next, with no previous", async ({ app }) => {
    const page = await get(app, "/api/v1/items/?limit=10");
    expect(page).toEqual({
      count: COUNT,
      next: "http://svc.local:3001/api/v1/items/?limit=10&offset=10",
      previous: null,
      results: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    });
  });

  it("links a middle page both ways, the previous one without an offset", async ({ app }) => {
    const page = await get(app, "/api/v1/items/?limit=10&offset=10");
    expect(page.next).toBe("http://svc.local:3001/api/v1/items/?limit=10&offset=20");
    expect(page.previous).toBe("http://svc.local:3001/api/v1/items/?limit=10");
    expect(page.results[0]).toBe(10);
  });

  it("has no next on the last page, and a previous clamped at 0", async ({ app }) => {
    const last = await get(app, "/api/v1/items/?limit=10&offset=20");
    expect(last.next).toBeNull();
    expect(last.previous).toBe("http://svc.local:3001/api/v1/items/?limit=10&offset=10");
    expect(last.results).toEqual([20, 21, 22, 23, 24]);

    const odd = await get(app, "/api/v1/items/?limit=10&offset=5");
    expect(odd.previous).toBe("http://svc.local:3001/api/v1/items/?limit=10");

    const exact = await get(app, "/api/v1/items/?limit=5&offset=20");
    expect(exact.next).toBeNull();
  });

  it("has no links when everything fits on one page, and uses the default limit", async ({ app }) => {
    const page = await get(app, "/api/v1/items/");
    expect(page).toMatchObject({ count: COUNT, next: null, previous: null });
    expect(page.results).toHaveLength(COUNT);
  });

  it("keeps the other query parameters", async ({ app }) => {
    const page = await get(app, "/api/v1/items/?kind=a%20b&limit=10");
    const next = new URL(page.next as string);
    expect(next.pathname).toBe("/api/v1/items/");
    expect(Object.fromEntries(next.searchParams)).toEqual({ kind: "a b", limit: "10", offset: "10" });
  });

  const forwarded = { "x-forwarded-proto": "https", "x-forwarded-host": "api.example.org" };

  it("follows X-Forwarded-Proto and X-Forwarded-Host from a proxy in TRUST_PROXY", async ({ proxied }) => {
    const page = await get(proxied, "/api/v1/items/?limit=10", forwarded, "10.0.0.2");
    expect(page.next).toBe("https://api.example.org/api/v1/items/?limit=10&offset=10");
  });

  it("ignores X-Forwarded-* without TRUST_PROXY, and from a peer that is not in it", async ({
    app,
    proxied,
  }) => {
    const direct = await get(app, "/api/v1/items/?limit=10", forwarded, "10.0.0.2");
    expect(direct.next).toBe("http://svc.local:3001/api/v1/items/?limit=10&offset=10");
    const stranger = await get(proxied, "/api/v1/items/?limit=10", forwarded, "203.0.113.7");
    expect(stranger.next).toBe("http://svc.local:3001/api/v1/items/?limit=10&offset=10");
  });

  const malformedHosts = [
    "evil.example.org/phish?x=",
    "api.example.org:443:1",
    "a b",
    "user@evil.example.org",
    "api.example.org\\evil",
    "[::1",
    "%65vil.org",
    "x:99999",
    "api.example.org:65536",
    "[:::::]",
    "[1.2.3.4]",
  ];

  it.for(malformedHosts)(
    "answers 400 INVALID_HOST, never a 500 or a link, for X-Forwarded-Host %j",
    async (host, { proxied }) => {
      const res = await proxied.inject({
        url: "/api/v1/items/?limit=10",
        headers: { host: "svc.local:3001", "x-forwarded-host": host },
        remoteAddress: "10.0.0.2",
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: "INVALID_HOST", requestId: expect.any(String) });
      expect(res.body).not.toContain("evil");
    },
  );

  it.for(["a b/c", "x:99999", "[:::::]"])(
    "answers 400 INVALID_HOST for a malformed Host header %j",
    async (host, { app }) => {
      const res = await app.inject({ url: "/api/v1/items/?limit=10", headers: { host } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("INVALID_HOST");
    },
  );

  it.for(["[::1]:3001", "10.0.0.5:65535", "svc.local."])(
    "takes the Host header %j",
    async (host, { app }) => {
      const res = await app.inject({ url: "/api/v1/items/?limit=10", headers: { host } });
      expect(res.statusCode).toBe(200);
      expect(res.json().next).toBe(`http://${host}/api/v1/items/?limit=10&offset=10`);
    },
  );

  it("uses PUBLIC_URL whatever the forwarded host", async ({ makeListApi }) => {
    const behindProxy = await makeListApi("https://public.example.org", ["10.0.0.0/24"]);
    const res = await behindProxy.inject({
      url: "/api/v1/items/?limit=10",
      headers: { "x-forwarded-host": "a b/evil" },
      remoteAddress: "10.0.0.2",
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().next).toBe("https://public.example.org/api/v1/items/?limit=10&offset=10");
  });

  it.for<[string, string]>([
    ["https://public.example.org", "https://public.example.org/api/v1/items/?limit=10&offset=20"],
    ["https://public.example.org/", "https://public.example.org/api/v1/items/?limit=10&offset=20"],
    [
      "https://public.example.org/identity",
      "https://public.example.org/identity/api/v1/items/?limit=10&offset=20",
    ],
  ])("builds the links on PUBLIC_URL %s", async ([publicUrl, next], { makeListApi }) => {
    const behindProxy = await makeListApi(publicUrl);
    const res = await behindProxy.inject({
      url: "/api/v1/items/?limit=10&offset=10",
      headers: { host: "10.0.0.5:3001" },
    });
    const page = res.json();
    expect(page.next).toBe(next);
    expect(page.previous).toBe(next.replace("&offset=20", ""));
  });
});
