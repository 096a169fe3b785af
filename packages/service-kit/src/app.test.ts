import { describe, expect } from "vitest";
import {
  ADMIN,
  errorOf,
  type FakeApiFixtures,
  type FakeDb,
  fakeBroker,
  fakeApiTest as it,
} from "../test/fake-api.ts";
import type { ApiDeps } from "./app.ts";

describe("buildApi", () => {
  describe("GET /metrics", () => {
    it("returns Prometheus text with the request durations", async ({ api }) => {
      await api.app.inject({ url: "/open" });
      await api.app.inject({ url: "/api/v1/nothing/?secret=1" });
      const res = await api.app.inject({ url: "/metrics" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toContain("text/plain");
      expect(res.body).toContain("# TYPE http_request_duration_seconds histogram");
      const counts = res.body.split("\n").filter((l) => l.startsWith("http_request_duration_seconds_count{"));
      const count = (...labels: string[]) =>
        counts.find((l) => labels.every((label) => l.includes(label)))?.split(" ")[1];
      expect(Number(count('route="/open"', 'method="GET"', 'status="200"', 'service="svc"'))).toBeGreaterThan(
        0,
      );
      // Unknown paths share one label, so they cannot blow up the series count.
      expect(Number(count('route="unmatched"', 'status="404"'))).toBeGreaterThan(0);
      expect(counts.some((l) => l.includes("/api/v1/nothing"))).toBe(false);
      expect(res.body).toContain("process_cpu_user_seconds_total");
    });

    it("is refused with 403 when X-Forwarded-For lists several hops", async ({ api }) => {
      const res = await api.app.inject({
        url: "/metrics",
        headers: { "x-forwarded-for": "203.0.113.9, 10.0.0.2" },
      });
      expect(res.statusCode).toBe(403);
      expect(errorOf(res).code).toBe("FORBIDDEN");
      const oneHop = await api.app.inject({ url: "/metrics", headers: { "x-forwarded-for": "10.0.0.2" } });
      expect(oneHop.statusCode).toBe(200);
    });
  });
});

describe("/api/metrics/ (Seed's, polled by its Control Interface)", () => {
  // The headers Seed's Control Interface service sends (requests, a service token).
  const seedHeaders = { authorization: `Token ${ADMIN}`, "content-type": "application/json" };

  it("GET lists the names of the service's Prometheus metrics, its own among them", async ({ api }) => {
    const res = await api.app.inject({ method: "GET", url: "/api/metrics/", headers: seedHeaders });
    expect(res.statusCode).toBe(200);
    const { metrics_available } = res.json() as { metrics_available: string[] };
    expect(Object.keys(res.json())).toEqual(["metrics_available"]);
    expect(metrics_available).toEqual(
      expect.arrayContaining(["http_request_duration_seconds", "svc_send_estimate"]),
    );
    expect(metrics_available).toContain("process_cpu_user_seconds_total");
  });

  it("POST runs the service's scheduled metrics and answers 201", async ({ api }) => {
    const before = api.runs.scheduled;
    const res = await api.app.inject({ method: "POST", url: "/api/metrics/", headers: seedHeaders });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ scheduled_metrics_initiated: true });
    expect(api.runs.scheduled).toBe(before + 1);
    expect((await api.app.inject({ url: "/metrics" })).body).toContain('svc_send_estimate{service="svc"} 7');
  });

  it("needs a token, as the other routes do", async ({ api }) => {
    for (const method of ["GET", "POST"] as const) {
      const res = await api.app.inject({ method, url: "/api/metrics" });
      expect(res.statusCode).toBe(401);
    }
  });
});

describe("request validation", () => {
  it("takes JSON bodies as sent: null stays null, 0 stays 0, and a string is not a number", async ({
    api,
  }) => {
    const post = (payload: object) => api.app.inject({ method: "POST", url: "/nullable", payload });
    expect((await post({ name: null, count: 0 })).json()).toEqual({ name: null, count: 0 });
    expect((await post({ name: "", count: null })).json()).toEqual({ name: "", count: null });
    const wrong = await post({ name: "a", count: "5" });
    expect(wrong.statusCode).toBe(400);
    expect(errorOf(wrong).details).toEqual([{ field: "body.count", message: "must be integer or null" }]);
  });

  it("coerces query strings and path parameters, which are always text", async ({ api }) => {
    const res = await api.app.inject({ method: "POST", url: "/things/7?dry=true", payload: { x: 1 } });
    expect(res.json()).toEqual({ id: 7, body: { x: 1 } });
    expect((await api.app.inject({ url: "/search?x=42" })).json()).toEqual({ x: 42 });
  });

  it("leaves out a parameter sent empty that cannot be empty, as Seed's filters did (`?identity=&active=True`)", async ({
    api,
  }) => {
    const all = await api.app.inject({ url: "/flags?identity=&active=True&after=" });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ active: true });
    // a string that may be empty keeps its "" (identity's `cursor=`, `default=`), and a bad value is still refused
    expect((await api.app.inject({ url: "/flags?name=&active=" })).json()).toEqual({ name: "" });
    const bad = await api.app.inject({ url: "/flags?identity=x" });
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).details).toEqual([
      { field: "querystring.identity", message: 'must match format "uuid"' },
    ]);
  });
});

describe("request logs", () => {
  it("log the path and query parameter names, never their values", async ({ makeApi }) => {
    const api = await makeApi();
    await api.app.inject({ url: "/search?x=1&details__addresses__msisdn=%2B27820001001&email=a%40b.org" });
    const incoming = api.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "incoming request");
    expect(incoming.req.url).toBe(
      "/search?x=[redacted]&details__addresses__msisdn=[redacted]&email=[redacted]",
    );
    expect(api.logs.join("\n")).not.toMatch(/27820001001|a%40b\.org|a@b\.org/);
  });
});

describe("GET /api/health/", () => {
  const health = async (
    makeApi: FakeApiFixtures["makeApi"],
    deps: Partial<ApiDeps>,
    setup?: (db: FakeDb) => void,
  ) => {
    const api = await makeApi(deps);
    setup?.(api.db);
    const res = await api.app.inject({ url: "/api/health/" });
    return { status: res.statusCode, body: res.json(), queries: api.db.queries };
  };

  it("is 200 and up when the database answers and the broker is connected", async ({ makeApi }) => {
    const res = await health(makeApi, { broker: fakeBroker(true) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      up: true,
      result: { database: "Accessible", broker: "Connected", version: "1.2.3" },
    });
    expect(res.queries).toEqual(["SELECT 1"]);
  });

  it("is 503 and down when the database query fails", async ({ makeApi }) => {
    const res = await health(makeApi, { broker: fakeBroker(true) }, (db) => {
      db.failing = true;
    });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      up: false,
      result: { database: "Inaccessible", broker: "Connected", version: "1.2.3" },
    });
  });

  it("is 503 and down when the broker is disconnected", async ({ makeApi }) => {
    const res = await health(makeApi, { broker: fakeBroker(false) });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ up: false, result: { database: "Accessible", broker: "Disconnected" } });
  });

  it("reports a missing broker as not configured and stays up", async ({ makeApi }) => {
    const res = await health(makeApi, {});
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ up: true, result: { broker: "Not configured" } });
  });
});
