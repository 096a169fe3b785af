import { randomUUID } from "node:crypto";
import type { TopicUnsubscribed } from "@tidings/contracts";
import { expectError, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { signUnsubscribeToken } from "../src/services/unsubscribe-token.ts";
import type { api } from "./content-helpers.ts";
import { topicsTest } from "./support.ts";
import { address, announceIdentity, tokenIn, UNSUBSCRIBE_SECRET } from "./topics-helpers.ts";

const topic = "<b>alerts</b>&more";
const grace = randomUUID();

/** The unsubscribe page of token `t`: GET, or POST with a form `payload`. */
type Page = (method: "GET" | "POST", t: string, payload?: string, type?: string) => ReturnType<typeof api>;

const it = topicsTest(
  { PUBLIC_URL: "https://tidings.example.org", TOPIC_CHANNELS: "email=EMAIL", SEND_BATCH_SIZE: "2" },
  ["outbound.send", "topic.unsubscribed"],
).extend<{ token: string; page: Page }>({
  // The token of the link in grace's message on the topic (she is subscribed to another one too).
  token: [
    async ({ svc, subscribe, publish, sendsOf }, use) => {
      await announceIdentity(svc, grace, { first_name: "Grace" }, [address("email", "grace@example.org")]);
      await subscribe(topic, grace);
      await subscribe("other-topic", grace);
      await publish(topic, { publish_id: "alerts-1", content: "Alert for <<first_name>>" });
      const [sent] = await waitFor(() => sendsOf("alerts-1").length === 1 && sendsOf("alerts-1"), {
        timeoutMs: 30_000,
      });
      await use(tokenIn(sent?.content));
    },
    { scope: "file" },
  ],
  page: [
    async ({ svc }, use) =>
      use((method, t, payload, type = "application/x-www-form-urlencoded") =>
        svc.app.inject({
          method,
          url: `/unsubscribe/${t}`,
          ...(payload === undefined ? {} : { payload, headers: { "content-type": type } }),
        }),
      ),
    { scope: "file" },
  ],
});

describe("topic subscriptions", () => {
  it("subscribes, lists (paginated), lists an identity's topics and unsubscribes", async ({
    call,
    subscribe,
  }) => {
    const topic = "outbreak/ke/nairobi";
    const [a, b] = [randomUUID(), randomUUID()];
    expect((await subscribe(topic, a)).statusCode).toBe(201);
    expect((await subscribe(topic, b, ["email"])).statusCode).toBe(201);
    const again = await subscribe(topic, b, ["msisdn"]);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ topic, identity: b, channels: ["msisdn"] });
    await subscribe("weather", a);

    const page = await call("GET", `/api/v1/topics/${encodeURIComponent(topic)}/subscribers/?limit=1`);
    expect(page.statusCode).toBe(200);
    expect(page.json()).toMatchObject({ count: 2, previous: null, results: [{ topic }] });
    expect(page.json().next).toContain("offset=1");

    const topics = await call("GET", `/api/v1/identities/${a}/topics/`);
    expect(topics.json().results.map((t: { topic: string }) => t.topic)).toEqual([topic, "weather"]);

    const removed = await call("DELETE", `/api/v1/topics/${encodeURIComponent(topic)}/subscribers/${a}/`);
    expect(removed.statusCode).toBe(204);
    const gone = await call("DELETE", `/api/v1/topics/${encodeURIComponent(topic)}/subscribers/${a}/`);
    expectError(gone, 404, "TOPIC_SUBSCRIPTION_NOT_FOUND");
    expect((await call("GET", `/api/v1/identities/${a}/topics/`)).json().count).toBe(1);
  });

  it("refuses bad input with the one error shape and changes nothing", async ({ svc, call }) => {
    const bad = await call("POST", "/api/v1/topics/news/subscribers/", { identity: "nope", extra: 1 });
    expectError(bad, 400, "VALIDATION_FAILED");
    const both = await call("POST", "/api/v1/topics/news/publish/", {
      publish_id: "p-both",
      content: "x",
      template: 1,
    });
    expectError(both, 400, "TOPIC_CONTENT_REQUIRED");
    const unknownTemplate = await call("POST", "/api/v1/topics/news/publish/", {
      publish_id: "p-tpl",
      template: 999,
    });
    expect(unknownTemplate.json().error.code).toBe("TOPIC_UNKNOWN_TEMPLATE");
    expect((await call("GET", "/api/v1/publishes/p-both/")).statusCode).toBe(404);
    expect((await call("GET", "/api/v1/topics/news/subscribers/")).json().count).toBe(0);
    const noAuth = await svc.app.inject({ method: "GET", url: "/api/v1/topics/news/subscribers/" });
    expect(noAuth.statusCode).toBe(401);
  });
});

describe("unsubscribe links", () => {
  it("serves an escaped confirmation page with a form, without a token", async ({ page, token }) => {
    const res = await page("GET", token);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.body).toContain('<html lang="en">');
    expect(res.body).toContain("&lt;b&gt;alerts&lt;/b&gt;&amp;more");
    expect(res.body).not.toContain("<b>alerts</b>");
    expect(res.body).toMatch(/<form method="post">/);
    expect(res.body).toMatch(/<button type="submit">Unsubscribe<\/button>/);
  });

  it("rejects forged and expired tokens with a page, changing nothing", async ({ svc, page, token }) => {
    const [payload, signature] = token.split(".") as [string, string];
    const forged = `${payload}.${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    const otherSecret = signUnsubscribeToken("another-secret-another-secret-another-secret", {
      identity: grace,
      topic,
      channel: "email",
      expires: Math.floor(Date.now() / 1000) + 3600,
    });
    const expired = signUnsubscribeToken(UNSUBSCRIBE_SECRET, {
      identity: grace,
      topic,
      channel: "email",
      expires: Math.floor(Date.now() / 1000) - 60,
    });
    for (const [t, status] of [
      [forged, 403],
      [otherSecret, 403],
      [expired, 400],
      ["not-a-token", 400],
    ] as const) {
      expect((await page("GET", t)).statusCode).toBe(status);
      const post = await page("POST", t, "List-Unsubscribe=One-Click");
      expect(post.statusCode).toBe(status);
      expect(post.body).toContain("Link not valid");
    }
    expect(await svc.db.topicSubscription.count({ where: { identity: grace } })).toBe(2);
  });

  it("unsubscribes by RFC 8058 one-click POST, announces it once, and later publishes skip the identity", async ({
    svc,
    capture,
    publish,
    sendsOf,
    page,
    token,
  }) => {
    const res = await page("POST", token, "List-Unsubscribe=One-Click");
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("You are unsubscribed");
    expect(await svc.db.topicSubscription.count({ where: { identity: grace, topic } })).toBe(0);
    expect(await svc.db.topicSubscription.count({ where: { identity: grace } })).toBe(1);
    const events = await waitFor(
      () => {
        const e = capture.named<TopicUnsubscribed>("topic.unsubscribed").filter((u) => u.identity === grace);
        return e.length > 0 && e;
      },
      { timeoutMs: 30_000 },
    );
    expect(events[0]).toMatchObject({ identity: grace, topic, channel: "email", method: "one-click" });
    // Again: nothing left to unsubscribe, nothing recorded.
    expect((await page("POST", token, "List-Unsubscribe=One-Click")).statusCode).toBe(200);

    expect((await publish(topic, { publish_id: "alerts-2", content: "Later" })).recipients).toBe(0);
    const other = await publish("other-topic", { publish_id: "other-1", content: "Still here" });
    expect(other.recipients).toBe(1);
    await waitFor(() => sendsOf("other-1").length === 1, { timeoutMs: 30_000 });
    expect(sendsOf("alerts-2")).toHaveLength(0);
    expect(
      capture.named<TopicUnsubscribed>("topic.unsubscribed").filter((u) => u.identity === grace),
    ).toHaveLength(1);
  });

  it("takes the one-click body multipart-encoded too (RFC 8058 allows both)", async ({
    capture,
    subscribe,
    page,
  }) => {
    const hugo = randomUUID();
    await subscribe(topic, hugo);
    const hugoToken = signUnsubscribeToken(UNSUBSCRIBE_SECRET, {
      identity: hugo,
      topic,
      channel: "email",
      expires: Math.floor(Date.now() / 1000) + 3600,
    });
    const body =
      '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n';
    expect((await page("POST", hugoToken, body, "multipart/form-data; boundary=b")).statusCode).toBe(200);
    const [event] = await waitFor(
      () => {
        const e = capture.named<TopicUnsubscribed>("topic.unsubscribed").filter((u) => u.identity === hugo);
        return e.length > 0 && e;
      },
      { timeoutMs: 30_000 },
    );
    expect(event).toMatchObject({ topic, method: "one-click" });
  });

  it("unsubscribes from everything through the form", async ({ svc, capture, sendsOf, page }) => {
    const [sent] = sendsOf("other-1");
    const res = await page("POST", tokenIn(sent?.content), "scope=all");
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("any of your subscriptions");
    expect(await svc.db.topicSubscription.count({ where: { identity: grace } })).toBe(0);
    await waitFor(
      () =>
        capture
          .named<TopicUnsubscribed>("topic.unsubscribed")
          .some((u) => u.identity === grace && u.topic === null && u.method === "link"),
      { timeoutMs: 30_000 },
    );
    expect((await page("POST", tokenIn(sent?.content), "scope=bogus")).statusCode).toBe(400);
  });
});
