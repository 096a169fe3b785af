/**
 * Seed's delivery-report chain through REST hooks alone, as a hub operator wires it: message-sender's
 * `outbound.delivery_report` hook targets identity's `POST /api/v1/identities/message_count/` (with an identity
 * token as HOOK_AUTH_TOKEN), and identity's `identity.max_failures` hook targets the hub. Five sends the provider
 * (the Twilio simulator) refuses make identity call the hub. (Tidings' identity also counts the broker's delivery
 * reports, so here each failure counts twice.)
 */
import { startTwilioSimulator, TWILIO_ERRORS, type TwilioSimulator } from "@tidings/provider-simulators";
import { closing, type HttpReceiver, startHttpReceiver, waitFor } from "@tidings/testing";
import pg from "pg";
import { describe, expect } from "vitest";
import type { Platform, ServiceName } from "./platform.ts";
import { platformTest } from "./support.ts";

const ADMIN_TOKEN = "e2e-sender-hooks-admin-token-0123456789";
const MSISDN = "+27820001234";
const SID = `AC${"5".repeat(32)}`;
const TWILIO_TOKEN = "twilio-auth-token-e2e";

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as a hub reads them
type Decoded = Record<string, any>;

/** The admin's calls to the platform's APIs, each expected to succeed. */
const admin =
  (platform: Platform) =>
  async (service: ServiceName, method: "GET" | "POST", path: string, body?: unknown) => {
    const res = await fetch(`${platform.base[service]}/api/v1${path}`, {
      method,
      headers: { authorization: `Token ${ADMIN_TOKEN}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    expect(res.status, text).toBeLessThan(300);
    return JSON.parse(text) as Decoded;
  };

const it = platformTest({
  ADMIN_TOKEN,
  // message-sender's deliveries to identity's message_count authenticate with an identity token.
  HOOK_AUTH_TOKEN: ADMIN_TOKEN,
  HOOK_POLL_INTERVAL_MS: "100",
  HOOK_RETRY_BASE_MS: "100",
}).extend<{ hub: HttpReceiver; sim: TwilioSimulator }>({
  hub: [closing(() => startHttpReceiver(() => 201)), { scope: "file" }], // ndoh's change/inactive: 201, empty body
  sim: [closing(() => startTwilioSimulator({ accounts: { [SID]: TWILIO_TOKEN } })), { scope: "file" }],
});

describe("message-sender's outbound.delivery_report hook -> identity's message_count -> the hub", () => {
  it("five failed sends make identity fire identity.max_failures to the hub", async ({
    platform,
    hub,
    sim,
  }) => {
    const call = admin(platform);
    const hubUrl = hub.url;
    const identity = await call("identity", "POST", "/identities/", {
      details: { default_addr_type: "msisdn", addresses: { msisdn: { [MSISDN]: { default: true } } } },
    });
    await call("identity", "POST", "/webhook/", {
      event: "identity.max_failures",
      target: `${hubUrl}/api/v1/change/inactive/`,
    });
    await call("message-sender", "POST", "/webhook/", {
      event: "outbound.delivery_report",
      target: `${platform.base.identity}/api/v1/identities/message_count/`,
    });
    await call("message-sender", "POST", "/channel/", {
      channel_id: "TWILIO",
      channel_type: "twilio",
      configuration: { account_sid: SID, auth_token: TWILIO_TOKEN, from: "+15005550006", api_url: sim.url },
    });
    // The provider refuses every one of them for good (21211): each fails at once, with a delivery report.
    sim.failNext(TWILIO_ERRORS.invalidTo(MSISDN), 5);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const outbound = await call("message-sender", "POST", "/outbound/", {
        to_identity: identity.id,
        content: `message ${i}`,
        metadata: {},
        channel: "TWILIO",
      });
      ids.push(outbound.id);
    }

    const change = await waitFor(() => hub.received.find((r) => r.path === "/api/v1/change/inactive/"), {
      what: "identity.max_failures at the hub",
      timeoutMs: 60_000,
    });
    expect(JSON.parse(change.body)).toEqual({
      hook: {
        id: expect.any(Number),
        event: "identity.max_failures",
        target: `${hubUrl}/api/v1/change/inactive/`,
      },
      data: { identity_id: identity.id, failure_count: 5 },
    });
    // Every failure reached message_count through the hook (identity answered 200).
    const deliveries = await waitFor(
      async () => {
        const page = await call(
          "message-sender",
          "GET",
          "/webhook/deliveries/?event=outbound.delivery_report&status=delivered",
        );
        return page.count === 5 && page.results;
      },
      { what: "five delivery reports delivered to message_count", timeoutMs: 30_000 },
    );
    expect(deliveries.map((d: Decoded) => d.last_status_code)).toEqual([200, 200, 200, 200, 200]);
    const client = new pg.Client({ connectionString: platform.databaseUrl("identity") });
    await client.connect();
    const count = await client.query("SELECT failed_message_count FROM identity WHERE id = $1", [
      identity.id,
    ]);
    await client.end();
    // Counted once each: identity also receives the broker's outbound.delivery_report of every outbound, and an
    // outbound's result counts once whichever way it arrives first.
    expect(count.rows).toEqual([{ failed_message_count: 5 }]);
    for (const id of ids) {
      expect(await call("message-sender", "GET", `/outbound/${id}/`)).toMatchObject({
        status: "failed",
        to_addr: "",
      });
    }
  });
});
