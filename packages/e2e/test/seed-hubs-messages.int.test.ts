/**
 * Seed hubs, as they are (see ./seed-hubs.ts): the message side of the hubs' flows, failure counting through
 * delivery reports, finding an outbound by its vumi_message_id, message-sender's Seed surface, and the filters the
 * hubs rely on.
 */
import { describe, expect } from "vitest";
import { type Decoded, ok } from "./seed-client.ts";
import { it } from "./seed-hubs.ts";
import { pyJson } from "./wire.ts";

describe("delivery reports and failure counting (Seed message sender -> identity store -> ndoh)", () => {
  it("counts failed deliveries posted to message_count and calls the hub's change/inactive hook at the limit", async ({
    platform,
    client,
    hub,
  }) => {
    // ndoh registers its receiver at the identity store, with its own token (the hook is scoped to its user)
    await client.asAdmin("identity", "/webhook/", {
      owner: client.users.identity,
      event: "identity.max_failures",
      target: `${hub.url}/api/v1/change/inactive/`,
    });
    // Someone with no messages of her own in flight: a delivered report of one (mom's resend) would reset the count.
    const number = "+27820001002";
    const someone = await ok(
      client.seed("identity", "POST", "/identities/", {
        data: {
          details: { default_addr_type: "msisdn", addresses: { msisdn: { [number]: { default: true } } } },
        },
      }),
      201,
    );
    for (let i = 0; i < 5; i++) {
      await ok(
        hub.hookPost("identity", "/identities/message_count/", {
          hook: {
            id: 3,
            event: "outbound.delivery_report",
            target: `${platform.base.identity}/api/v1/identities/message_count/`,
          },
          data: { outbound_id: crypto.randomUUID(), delivered: false, to_addr: number, identity: someone.id },
        }),
      );
    }
    const [delivery] = await hub.waitForHook("/api/v1/change/inactive/");
    expect(delivery?.body).toEqual({
      hook: {
        id: expect.anything(),
        event: "identity.max_failures",
        target: `${hub.url}/api/v1/change/inactive/`,
      },
      data: { identity_id: someone.id, failure_count: 5 },
    });
  });
});

describe("events and replies (ndoh process_whatsapp_unsent_event)", () => {
  it("finds the person of an outbound by its vumi_message_id, and only that outbound", async ({ client }) => {
    const other = await ok(
      client.seed("message-sender", "POST", "/outbound/", {
        data: { to_addr: "+27820009998", content: "someone else", metadata: {} },
      }),
      201,
    );
    expect(other.vumi_message_id === undefined || other.vumi_message_id === null).toBe(true);
    const none = await client.paginated("message-sender", "/outbound/", {
      vumi_message_id: "gBGGJ3EVEUV_AgkLEFYRAAMAAAAA",
    });
    expect(none).toEqual([]);
  });
});

describe("message-sender's Seed surface (ndoh get_outbounds, Vumi Go and Junebug inbound pushes)", () => {
  it("answers an outbound with Seed's url, and finds it by the vumi_message_id it was sent with", async ({
    platform,
    client,
  }) => {
    const created = await ok(
      client.seed("message-sender", "POST", "/outbound/", {
        data: {
          to_addr: "+27820009997",
          content: "Your clinic visit is tomorrow",
          metadata: {},
          delivered: "False",
          attempts: 0,
          resend: "False",
        },
      }),
      201,
    );
    expect(created).toMatchObject({ delivered: false, attempts: 0, resend: false, vumi_message_id: null });
    expect(created.url).toBe(`${platform.base["message-sender"]}/api/v1/outbound/${created.id}/`);
    let sent: Decoded = created;
    const deadline = Date.now() + 20_000;
    while (!sent.vumi_message_id && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      sent = await ok(client.get("message-sender", `/outbound/${created.id}/`));
    }
    expect(sent.vumi_message_id, "the outbound to be submitted").toBeTruthy();
    const found = await client.paginated("message-sender", "/outbound/", {
      vumi_message_id: sent.vumi_message_id,
    });
    expect(found.map((o) => o.id)).toEqual([created.id]);
    expect(found[0]).toHaveProperty("to_identity");
    const oldestFirst = await client.paginated("message-sender", "/outbound/", {
      created_at__gte: "2020-01-01T00:00:00",
      ordering: "created_at",
      delivered: "True",
    });
    expect(oldestFirst.map((o) => o.id)).toContain(created.id);
  });

  it("stores what a Vumi Go transport and a Junebug channel push, and lists it by Seed's filters", async ({
    client,
  }) => {
    const vumi = {
      message_type: "user_message",
      message_version: "20110921",
      message_id: "3f0c3e9a1a7a4f0c9d1b2e3f4a5b6c7d",
      timestamp: "2026-01-01 10:00:00.000000",
      routing_metadata: { endpoint_name: "default" },
      helper_metadata: {},
      transport_metadata: {},
      transport_name: "ndoh_ussd_transport",
      transport_type: "ussd",
      from_addr: "+27820009996",
      from_addr_type: "msisdn",
      to_addr: "*134*550#",
      to_addr_type: null,
      in_reply_to: null,
      session_event: "new",
      content: null,
      group: null,
      provider: "vodacom",
    };
    const fromVumi = await ok(client.seed("message-sender", "POST", "/inbound/", { data: vumi }), 201);
    expect(fromVumi).toMatchObject({
      message_id: vumi.message_id,
      transport_name: "ndoh_ussd_transport",
      transport_type: "ussd",
      helper_metadata: { session_event: "new" },
    });
    const junebug = {
      message_id: "c1a0e8f2-8d0b-4c55-9a8e-0d5b0e6f7a11",
      channel_id: "JUNE_TEXT",
      from: "+27820009995",
      to: "+27820001000",
      group: null,
      reply_to: null,
      timestamp: "2026-01-01 10:00:01.000000",
      content: "STOP",
      channel_data: { session_event: "resume" },
    };
    const fromJunebug = await ok(
      client.seed("message-sender", "POST", "/inbound/LOG/", { data: junebug }),
      201,
    );
    expect(fromJunebug).toMatchObject({
      message_id: junebug.message_id,
      to_addr: "+27820001000",
      transport_name: "JUNE_TEXT",
      keyword: "stop",
      helper_metadata: { session_event: "resume" },
    });
    expect(
      (await client.seed("message-sender", "POST", "/inbound/NO_SUCH_CHANNEL/", { data: junebug })).status,
    ).toBe(404);
    const listed = await client.paginated("message-sender", "/inbound/", {
      transport_name: "ndoh_ussd_transport",
      transport_type: "ussd",
      to_addr: "*134*550#",
      ordering: "-created_at",
    });
    expect(listed.map((i) => i.id)).toEqual([fromVumi.id]);
  });
});

describe("filters Seed hubs rely on", () => {
  it("refuses an unknown filter with a 400 naming it instead of returning every record", async ({
    client,
  }) => {
    const res = await client.get("message-sender", "/outbound/", { stauts: "failed" });
    expect(res.status).toBe(400);
    expect(res.text).toContain("stauts");
  });

  it("sends Python's JSON as Python writes it", () => {
    expect(pyJson({ a: true, b: [1, "é"] })).toBe('{"a": true, "b": [1, "\\u00e9"]}');
  });
});
