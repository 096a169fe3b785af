/**
 * One URL for Seed's stage-based messaging API: the subscription API forwards content's paths to the content
 * service (a real content API on a port), as a Seed hub with one STAGE_BASED_MESSAGING_URL expects.
 */
import {
  adminAuth,
  closeAfter,
  closing,
  expectError,
  sendRaw,
  startTestService,
  type TestService,
} from "@tidings/testing";
import { describe, expect, test } from "vitest";
import type { ContentConfig } from "../../content/src/config.ts";
import type { Db as ContentDb } from "../../content/src/db.ts";
import { contentService } from "../../content/src/service.ts";
import { subscriptionService } from "../src/service.ts";
import type { api, Svc } from "./content-helpers.ts";

type Content = TestService<ContentConfig, ContentDb>;

/** The subscription service in `content`'s namespace, forwarding content's paths to it (listening on a port). */
async function forwardingTo(content: Content): Promise<Svc> {
  const address = await content.app.listen({ port: 0, host: "127.0.0.1" });
  return startTestService(subscriptionService, {
    namespace: content.namespace,
    env: { CONTENT_URL: address },
  });
}

interface ProxyFixtures {
  /** The content service, its API listening on a port. */
  content: Content;
  /** The subscription service in content's namespace, forwarding content's paths to it. */
  subscription: Svc;
  /** The subscription API listening on a port: for requests over a real socket, sent as written. */
  origin: string;
  /** A hub's own (non-admin) token of the subscription service: what a Seed hub would hold. */
  hubToken: string;
  /** A request to the subscription API as a Seed hub sends it (its token, a JSON body, its host). */
  viaSbm: (
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    payload?: unknown,
  ) => ReturnType<typeof api>;
  /** The content service with PUBLIC_URL=https://content.example.org (the URL its media files are served on). */
  publicContent: Content;
  /** A GET to a subscription service forwarding to `publicContent`, on the host sbm.example.org. */
  viaPublicContent: (url: string) => ReturnType<typeof api>;
}

const it = test.extend<ProxyFixtures>({
  content: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => closeAfter(await startTestService(contentService), use),
    { scope: "file" },
  ],
  subscription: [
    async ({ content }, use) => closeAfter(await forwardingTo(content), use),
    { scope: "file", auto: true },
  ],
  origin: [
    async ({ subscription }, use) => use(await subscription.app.listen({ port: 0, host: "127.0.0.1" })),
    { scope: "file" },
  ],
  publicContent: closing(() =>
    startTestService(contentService, { env: { PUBLIC_URL: "https://content.example.org" } }),
  ),
  viaPublicContent: async ({ publicContent }, use) =>
    closeAfter(await forwardingTo(publicContent), (subscription) =>
      use((url) => subscription.app.inject({ url, headers: { ...adminAuth, host: "sbm.example.org" } })),
    ),
  hubToken: [
    async ({ subscription }, use) => {
      const issued = await subscription.app.inject({
        method: "POST",
        url: "/api/v1/user/token/",
        headers: adminAuth,
        payload: { email: "hub@example.org" },
      });
      expect(issued.statusCode, issued.body).toBe(201);
      await use(issued.json().token);
    },
    { scope: "file" },
  ],
  viaSbm: [
    async ({ subscription, hubToken }, use) =>
      use((method, url, payload) =>
        subscription.app.inject({
          method,
          url,
          headers: {
            authorization: `Token ${hubToken}`,
            host: "sbm.example.org",
            "content-type": "application/json",
          },
          payload: payload === undefined ? "" : JSON.stringify(payload),
        }),
      ),
    { scope: "file" },
  ],
});

describe("content's Seed paths on the subscription API", () => {
  it("creates, lists, reads, updates and deletes message sets and messages through the subscription API", async ({
    content,
    viaSbm,
  }) => {
    const schedule = await viaSbm("POST", "/api/v1/schedule/", { minute: "0", hour: "8", day_of_week: "1" });
    expect(schedule.statusCode, schedule.body).toBe(201);
    const set = await viaSbm("POST", "/api/v1/messageset/", {
      short_name: "proxy.prebirth",
      content_type: "text",
      default_schedule: schedule.json().id,
    });
    expect(set.statusCode, set.body).toBe(201);
    const setId = set.json().id as number;

    const message = await viaSbm("POST", "/api/v1/message/", {
      messageset: setId,
      sequence_number: 1,
      lang: "eng_ZA",
      text_content: "Week 1",
    });
    expect(message.statusCode, message.body).toBe(201);

    // served by content: it is there when content is asked directly
    const direct = await content.app.inject({
      url: `/api/v1/messageset/${setId}/messages`,
      headers: adminAuth,
    });
    expect(direct.json().messages).toHaveLength(1);

    const list = await viaSbm("GET", `/api/v1/message/?messageset=${setId}&limit=1`);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ count: 1, results: [{ text_content: "Week 1" }] });

    const patched = await viaSbm("PATCH", `/api/v1/message/${message.json().id}/`, {
      text_content: "Week one",
    });
    expect(patched.json()).toMatchObject({ text_content: "Week one" });

    const languages = await viaSbm("GET", "/api/v1/messageset_languages/");
    expect(languages.json()).toEqual({ [setId]: ["eng_ZA"] });

    // Seed's client: DELETE with Content-Type: application/json and no body
    const deleted = await viaSbm("DELETE", `/api/v1/message/${message.json().id}/`);
    expect(deleted.statusCode).toBe(204);
  });

  it("forwards a body that arrived over a real socket (a stream, not an injected payload)", async ({
    origin,
    hubToken,
  }) => {
    const res = await fetch(`${origin}/api/v1/schedule/`, {
      method: "POST",
      headers: { authorization: `Token ${hubToken}`, "content-type": "application/json" },
      body: JSON.stringify({ minute: "30", hour: "9" }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toMatchObject({ minute: "30", hour: "9" });
  });

  it("builds content's pagination links on the host the hub called", async ({ viaSbm }) => {
    for (const i of [1, 2]) {
      await viaSbm("POST", "/api/v1/schedule/", { minute: String(i), hour: "8" });
    }
    const page = await viaSbm("GET", "/api/v1/schedule/?limit=1");
    expect(page.statusCode).toBe(200);
    expect(page.json().count).toBeGreaterThanOrEqual(2);
    expect(page.json().next).toMatch(/^http:\/\/sbm\.example\.org\/api\/v1\/schedule\/\?/);
  });

  it("puts the links of content's lists on the subscription API when content has a PUBLIC_URL of its own", async ({
    publicContent,
    viaPublicContent,
  }) => {
    for (const i of [1, 2, 3]) {
      const made = await publicContent.app.inject({
        method: "POST",
        url: "/api/v1/schedule/",
        headers: adminAuth,
        payload: { minute: String(i), hour: "8" },
      });
      expect(made.statusCode, made.body).toBe(201);
    }
    // content's own answer links to its PUBLIC_URL, which seed-services-client cannot strip its SBM URL from
    const direct = await publicContent.app.inject({ url: "/api/v1/schedule/?limit=1", headers: adminAuth });
    expect(direct.json().next).toBe("https://content.example.org/api/v1/schedule/?limit=1&offset=1");

    const first = await viaPublicContent("/api/v1/schedule/?limit=1");
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ count: 3, previous: null, results: [direct.json().results[0]] });
    expect(first.json().next).toBe("http://sbm.example.org/api/v1/schedule/?limit=1&offset=1");
    const second = await viaPublicContent(first.json().next.replace("http://sbm.example.org", ""));
    expect(second.json()).toMatchObject({
      count: 3,
      next: "http://sbm.example.org/api/v1/schedule/?limit=1&offset=2",
      previous: "http://sbm.example.org/api/v1/schedule/?limit=1",
    });
    // an answer that is not a list, and an error, come back as content gave them
    const one = await viaPublicContent(`/api/v1/schedule/${direct.json().results[0].id}/`);
    expect(one.json()).toEqual(direct.json().results[0]);
    expect((await viaPublicContent("/api/v1/schedule/?limit=0")).statusCode).toBe(400);
  });

  it("relays content's errors as content answered them", async ({ viaSbm }) => {
    const missing = await viaSbm("GET", "/api/v1/messageset/999999/");
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String) });

    const invalid = await viaSbm("POST", "/api/v1/message/", { messageset: "x" });
    expectError(invalid, 400, "VALIDATION_FAILED");
  });

  it("uploads binary content (multipart) through the subscription API, and serves its media", async ({
    subscription,
    hubToken,
  }) => {
    const boundary = "----seedboundary";
    const body = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="content"; filename="week1.mp3"',
      "Content-Type: audio/mpeg",
      "",
      "ID3fake-audio-bytes",
      `--${boundary}--`,
      "",
    ].join("\r\n");
    const res = await subscription.app.inject({
      method: "POST",
      url: "/api/v1/binarycontent/",
      headers: {
        authorization: `Token ${hubToken}`,
        host: "sbm.example.org",
        "content-type": `multipart/form-data; boundary=${boundary}`,
      },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(201);
    const media = await subscription.app.inject({ url: res.json().content as string });
    expect(media.statusCode).toBe(200);
    expect(media.body).toBe("ID3fake-audio-bytes");
  });

  it("refuses a caller without a subscription token before anything reaches content", async ({
    subscription,
  }) => {
    const anonymous = await subscription.app.inject({ url: "/api/v1/messageset/" });
    expect(anonymous.statusCode).toBe(401);
    const wrong = await subscription.app.inject({
      url: "/api/v1/messageset/",
      headers: { authorization: "Token not-a-token-of-this-service" },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it("keeps the subscription service's own paths beside content's", async ({ viaSbm }) => {
    const subs = await viaSbm("GET", "/api/v1/subscriptions/?active=True");
    expect(subs.statusCode).toBe(200);
    expect(subs.json()).toMatchObject({ results: [] });
  });
});

describe("a path that leaves content's Seed paths once resolved", () => {
  /** Paths under forwarded prefixes that `new URL()` resolves to `to` (`\\` is `/` there, and `..` climbs). */
  const escapesTo = (to: string) => [
    `/api/v1/message/\\..\\..\\${to}`,
    `/api/v1/template/x/\\..\\..\\..\\${to}`,
    `/api/v1/schedule/..\\..\\${to}`,
  ];

  it("answers a hub's GET and POST to content's admin-only token routes with 404, and content issues no token", async ({
    content,
    origin,
    hubToken,
  }) => {
    const contentTokens = async () => {
      const listed = await content.app.inject({ url: "/api/v1/user/tokens/", headers: adminAuth });
      expect(listed.statusCode).toBe(200);
      return listed.json().count as number;
    };
    const before = await contentTokens();
    const requests = [
      ...escapesTo("user\\tokens\\").map((path) => ({ method: "GET", path })),
      ...escapesTo("user\\token\\").map((path) => ({ method: "POST", path })),
    ];
    for (const { method, path } of requests) {
      const res = await sendRaw(origin, {
        method,
        path,
        headers: { authorization: `Token ${hubToken}`, "content-type": "application/json" },
        body: method === "POST" ? JSON.stringify({ email: "attacker@example.org" }) : [],
      });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      expect(JSON.parse(res.body).error).toMatchObject({ code: "NOT_FOUND", requestId: expect.any(String) });
    }
    expect(await contentTokens()).toBe(before);
  });

  it("answers a public media path that resolves outside /media/ with 404", async ({ origin }) => {
    // (`/media/\\..\\metrics` resolves to /media/metrics: `\\..` climbs out of the empty segment `/\\` makes.)
    for (const path of [
      "/media/\\..\\..\\metrics",
      "/media/x\\..\\..\\metrics",
      "/media/x/..\\..\\api\\health\\",
    ]) {
      const res = await sendRaw(origin, { path });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(JSON.parse(res.body).error).toMatchObject({ code: "NOT_FOUND" });
    }
  });

  it("answers a malformed percent-encoding in the path or the query with 400 in the one error shape", async ({
    origin,
    hubToken,
  }) => {
    for (const [path, code] of [
      ["/api/v1/messageset/?limit=1&x=%E0%A4%A", "VALIDATION_FAILED"],
      ["/api/v1/messageset/%E0%A4%A/", "INVALID_URL"],
      ["/api/v1/subscriptions/%ZZ/", "INVALID_URL"],
      ["/media/%E0%A4%A", "INVALID_URL"],
    ] as const) {
      const res = await sendRaw(origin, { path, headers: { authorization: `Token ${hubToken}` } });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(JSON.parse(res.body).error).toMatchObject({ code, requestId: expect.any(String) });
    }
  });

  it("still forwards a path whose dot segments stay inside content's paths, with its query", async ({
    origin,
    hubToken,
    viaSbm,
  }) => {
    await viaSbm("POST", "/api/v1/schedule/", { minute: "15", hour: "7" });
    const res = await sendRaw(origin, {
      path: "/api/v1/message/x\\..\\..\\schedule/?limit=1",
      headers: { authorization: `Token ${hubToken}` },
    });
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ results: [{ id: expect.any(Number) }] });
  });
});
