import { expectError, serviceTest } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { callWithKey, issueKey } from "./helpers.ts";
import { call, type Svc } from "./support.ts";

const it = serviceTest(createMessageSenderService());

const SID = `AC${"0123456789abcdef".repeat(2)}`;
const twilio = (channel_id: string, extra: Record<string, unknown> = {}) => ({
  channel_id,
  channel_type: "twilio",
  configuration: { account_sid: SID, auth_token: "s3cret-token", from: "+15005550006" },
  ...extra,
});

const defaults = async (svc: Svc) =>
  (await svc.db.channel.findMany({ where: { default: true } })).map((c) => c.id);

describe("channels", () => {
  it("has the built-in LOG channel as the default", async ({ svc }) => {
    const res = await call(svc, "GET", "/api/v1/channel/LOG/");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      channel_id: "LOG",
      channel_type: "log",
      default: true,
      configuration: {},
    });
  });

  it("stores a twilio channel and never returns its auth token", async ({ svc }) => {
    const res = await call(
      svc,
      "POST",
      "/api/v1/channel/",
      twilio("TW1", { concurrency_limit: 5, rate_limit: 10 }),
    );
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      channel_id: "TW1",
      channel_type: "twilio",
      default: false,
      concurrency_limit: 5,
      rate_limit: 10,
      fallback: null,
      configuration: { account_sid: SID, auth_token: "********", from: "+15005550006" },
    });
    for (const shown of [
      res.body,
      (await call(svc, "GET", "/api/v1/channel/TW1/")).body,
      (await call(svc, "GET", "/api/v1/channel/")).body,
    ]) {
      expect(shown).not.toContain("s3cret-token");
    }
    const row = await svc.db.channel.findUniqueOrThrow({ where: { id: "TW1" } });
    expect(row.configuration).toMatchObject({ auth_token: "s3cret-token" });
  });

  it.for<[string, object]>([
    ["a missing auth token", { account_sid: SID, from: "+15005550006" }],
    ["a malformed account sid", { account_sid: "XX1", auth_token: "t", from: "+15005550006" }],
    ["an unknown field", { account_sid: SID, auth_token: "t", from: "+1500", region: "ie1" }],
    [
      "both from and messaging_service_sid",
      { account_sid: SID, auth_token: "t", from: "+1", messaging_service_sid: `MG${"a".repeat(32)}` },
    ],
    ["neither from nor messaging_service_sid", { account_sid: SID, auth_token: "t" }],
  ])("refuses a twilio configuration with %s", async ([_, configuration], { svc }) => {
    const res = await call(svc, "POST", "/api/v1/channel/", {
      channel_id: "BAD",
      channel_type: "twilio",
      configuration,
    });
    expect(res.statusCode).toBe(400);
    expect(await svc.db.channel.findUnique({ where: { id: "BAD" } })).toBeNull();
  });

  it("validates smtp and vonage configurations by type", async ({ svc }) => {
    const smtp = {
      host: "127.0.0.1",
      port: 2525,
      from: "Tidings <noreply@example.org>",
      user: "u",
      password: "pw-secret",
    };
    const ok = await call(svc, "POST", "/api/v1/channel/", {
      channel_id: "MAIL",
      channel_type: "smtp",
      configuration: smtp,
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().configuration).toEqual({ ...smtp, password: "********" });
    const bad = await call(svc, "POST", "/api/v1/channel/", {
      channel_id: "MAIL2",
      channel_type: "smtp",
      configuration: { host: "x" },
    });
    expect(bad.statusCode).toBe(400);
    const vonage = await call(svc, "POST", "/api/v1/channel/", {
      channel_id: "VON",
      channel_type: "vonage",
      configuration: { api_key: "k", api_secret: "vonage-secret", from: "Tidings" },
    });
    expect(vonage.statusCode).toBe(201);
    expect(vonage.body).not.toContain("vonage-secret");
  });

  it("refuses a duplicate id and an unknown fallback", async ({ svc }) => {
    expect((await call(svc, "POST", "/api/v1/channel/", twilio("TW1"))).json().error.code).toBe(
      "MESSAGE_SENDER_CHANNEL_EXISTS",
    );
    const res = await call(svc, "POST", "/api/v1/channel/", twilio("TW9", { fallback: "NOPE" }));
    expectError(res, 400, "MESSAGE_SENDER_INVALID_FALLBACK");
  });

  it("merges a configuration patch: the secret is kept unless given, and validated", async ({ svc }) => {
    const res = await call(svc, "PATCH", "/api/v1/channel/TW1/", {
      configuration: { from: "+15005550009", auth_token: "********" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().configuration).toMatchObject({ from: "+15005550009", auth_token: "********" });
    let row = await svc.db.channel.findUniqueOrThrow({ where: { id: "TW1" } });
    expect(row.configuration).toMatchObject({ from: "+15005550009", auth_token: "s3cret-token" });
    await call(svc, "PATCH", "/api/v1/channel/TW1/", { configuration: { auth_token: "new-token" } });
    row = await svc.db.channel.findUniqueOrThrow({ where: { id: "TW1" } });
    expect(row.configuration).toMatchObject({ auth_token: "new-token" });
    const bad = await call(svc, "PATCH", "/api/v1/channel/TW1/", { configuration: { account_sid: "nope" } });
    expectError(bad, 400, "MESSAGE_SENDER_INVALID_CHANNEL_CONFIGURATION");
  });

  it("keeps a redelivery policy: validated, shown with the defaults filled in, reset by null", async ({
    svc,
  }) => {
    const created = await call(
      svc,
      "POST",
      "/api/v1/channel/",
      twilio("TW_POLICY", { redelivery: { max_attempts: 5, backoff_seconds: [60, 600] } }),
    );
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().redelivery).toEqual({
      max_attempts: 5,
      backoff_seconds: [60, 600],
      retry_on: ["network", "absent_subscriber", "queue_full", "expired", "unknown"],
      no_report_timeout_seconds: 172_800,
    });
    for (const redelivery of [
      { max_attempts: 0 },
      { retry_on: ["opted_out"] },
      { backoff_seconds: [] },
      { no_report_timeout_seconds: 0 },
      { tries: 2 },
    ]) {
      const res = await call(svc, "PATCH", "/api/v1/channel/TW_POLICY/", { redelivery });
      expect(res.statusCode, JSON.stringify(redelivery)).toBe(400);
    }
    const patched = await call(svc, "PATCH", "/api/v1/channel/TW_POLICY/", {
      redelivery: { retry_on: ["network"], no_report_timeout_seconds: 3600 },
    });
    expect(patched.json().redelivery).toMatchObject({
      max_attempts: 3,
      retry_on: ["network"],
      no_report_timeout_seconds: 3600,
    });
    const reset = await call(svc, "PATCH", "/api/v1/channel/TW_POLICY/", { redelivery: null });
    expect(reset.json().redelivery).toMatchObject({ max_attempts: 3, backoff_seconds: [300, 1800] });
    expect((await svc.db.channel.findUniqueOrThrow({ where: { id: "TW_POLICY" } })).redelivery).toBeNull();
  });

  it("keeps exactly one default, also when several channels are made default at once", async ({ svc }) => {
    await call(svc, "POST", "/api/v1/channel/", twilio("TW2"));
    await call(svc, "POST", "/api/v1/channel/", twilio("TW3", { default: true }));
    expect(await defaults(svc)).toEqual(["TW3"]);
    const results = await Promise.all(
      ["TW1", "TW2", "LOG", "TW3"].map((id) =>
        call(svc, "PATCH", `/api/v1/channel/${id}/`, { default: true }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect(await defaults(svc)).toHaveLength(1);
    await call(svc, "PATCH", "/api/v1/channel/TW2/", { default: true });
    expect(await defaults(svc)).toEqual(["TW2"]);
    const listed = (await call(svc, "GET", "/api/v1/channel/")).json();
    expect(
      listed.results
        .filter((c: { default: boolean }) => c.default)
        .map((c: { channel_id: string }) => c.channel_id),
    ).toEqual(["TW2"]);
  });

  it("sends an outbound with no channel through the default channel", async ({ svc }) => {
    const res = await call(svc, "POST", "/api/v1/outbound/", { to_addr: "+27820000001", metadata: {} });
    expect(res.statusCode).toBe(201);
    expect(res.json().channel).toBe("TW2");
    await call(svc, "PATCH", "/api/v1/channel/LOG/", { default: true });
    expect(
      (await call(svc, "POST", "/api/v1/outbound/", { to_addr: "+27820000001", metadata: {} })).json()
        .channel,
    ).toBe("LOG");
  });

  it("deletes a channel, but not LOG nor the default", async ({ svc }) => {
    await call(svc, "PATCH", "/api/v1/channel/TW2/", { default: true });
    expect((await call(svc, "DELETE", "/api/v1/channel/LOG/")).json().error.code).toBe(
      "MESSAGE_SENDER_CHANNEL_BUILT_IN",
    );
    expect((await call(svc, "DELETE", "/api/v1/channel/TW2/")).json().error.code).toBe(
      "MESSAGE_SENDER_CHANNEL_IS_DEFAULT",
    );
    await call(svc, "PATCH", "/api/v1/channel/TW3/", { fallback: "TW1" });
    expect((await call(svc, "DELETE", "/api/v1/channel/TW1/")).statusCode).toBe(204);
    expect((await call(svc, "GET", "/api/v1/channel/TW1/")).statusCode).toBe(404);
    expect((await call(svc, "GET", "/api/v1/channel/TW3/")).json().fallback).toBeNull();
  });

  it("needs a token", async ({ svc }) => {
    expect((await svc.app.inject({ url: "/api/v1/channel/" })).statusCode).toBe(401);
  });
});

describe("changing channels", () => {
  it.for(["live", "team", "test"] as const)(
    "is refused to a %s key with 403, and changes nothing",
    async (kind, { svc }) => {
      const key = await issueKey(svc, kind, kind === "team" ? ["+27820000001"] : undefined);
      const as = (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object) =>
        callWithKey(svc, key, method, url, payload);
      await call(svc, "POST", "/api/v1/channel/", twilio(`KEEP_${kind}`));
      const before = await svc.db.channel.findMany({ orderBy: { id: "asc" } });
      const attempts = [
        await as("POST", "/api/v1/channel/", twilio(`NEW_${kind}`)),
        // An invalid body too: refused for the key, before it is even validated.
        await as("POST", "/api/v1/channel/", { channel_id: "X" }),
        await as("PATCH", `/api/v1/channel/KEEP_${kind}/`, {
          configuration: { api_url: "http://127.0.0.1:9/listener" },
        }),
        await as("PATCH", `/api/v1/channel/KEEP_${kind}/`, { default: true }),
        await as("DELETE", `/api/v1/channel/KEEP_${kind}/`),
      ];
      for (const res of attempts) {
        expect(res.statusCode).toBe(403);
        expect(res.json()).toEqual({
          error: { code: "FORBIDDEN", message: expect.any(String), requestId: expect.any(String) },
        });
      }
      expect(await svc.db.channel.findMany({ orderBy: { id: "asc" } })).toEqual(before);
      // Reading stays open to every key, secrets masked.
      const read = await as("GET", `/api/v1/channel/KEEP_${kind}/`);
      expect(read.statusCode).toBe(200);
      expect(read.json().configuration.auth_token).toBe("********");
      expect((await as("GET", "/api/v1/channel/")).body).not.toContain("s3cret-token");
    },
  );

  it.for<[string, string, object, string, Record<string, unknown>, string[]]>([
    [
      "twilio api_url",
      "TWR",
      twilio("TWR").configuration,
      "twilio",
      { api_url: "http://127.0.0.1:9" },
      ["auth_token"],
    ],
    [
      "twilio status_callback",
      "TWS",
      twilio("TWS").configuration,
      "twilio",
      { status_callback: "https://elsewhere.example" },
      ["auth_token"],
    ],
    [
      "vonage rest_url",
      "VNR",
      { api_key: "k", api_secret: "vonage-secret", from: "T", signature_secret: "sig-secret" },
      "vonage",
      { rest_url: "http://127.0.0.1:9" },
      ["api_secret", "signature_secret"],
    ],
    [
      "smtp host",
      "SMR",
      { host: "smtp.example.org", port: 587, from: "T <t@example.org>", user: "u", password: "pw-secret" },
      "smtp",
      { host: "127.0.0.1", port: 2525 },
      ["password"],
    ],
  ])(
    "needs the secrets again to change the %s, else 400 naming them",
    async ([_, id, configuration, type, endpoint, secrets], { svc }) => {
      expect(
        (await call(svc, "POST", "/api/v1/channel/", { channel_id: id, channel_type: type, configuration }))
          .statusCode,
      ).toBe(201);
      const stored = await svc.db.channel.findUniqueOrThrow({ where: { id } });
      const masked = Object.fromEntries(secrets.map((secret) => [secret, "********"]));
      for (const patch of [endpoint, { ...endpoint, ...masked }]) {
        const res = await call(svc, "PATCH", `/api/v1/channel/${id}/`, { configuration: patch });
        expect(res.statusCode).toBe(400);
        expect(res.json().error).toMatchObject({
          code: "MESSAGE_SENDER_SECRETS_REQUIRED",
          details: secrets.map((secret) => ({
            field: `body.configuration.${secret}`,
            message: expect.any(String),
          })),
        });
        expect(await svc.db.channel.findUniqueOrThrow({ where: { id } })).toEqual(stored);
      }
      // The same value again is no change; other fields change without the secrets.
      const same = Object.fromEntries(
        Object.keys(endpoint).map((field) => [field, (configuration as Record<string, unknown>)[field]]),
      );
      expect(
        (
          await call(svc, "PATCH", `/api/v1/channel/${id}/`, {
            configuration: { ...same, from: "T2 <t@example.org>" },
          })
        ).statusCode,
      ).toBe(200);
      const given = Object.fromEntries(secrets.map((secret) => [secret, `new-${secret}`]));
      const res = await call(svc, "PATCH", `/api/v1/channel/${id}/`, {
        configuration: { ...endpoint, ...given },
      });
      expect(res.statusCode).toBe(200);
      const row = await svc.db.channel.findUniqueOrThrow({ where: { id } });
      expect(row.configuration).toMatchObject({ ...endpoint, ...given });
      for (const secret of secrets) {
        expect(res.json().configuration[secret]).toBe("********");
      }
      expect(res.body).not.toContain("new-");
    },
  );
});
