/**
 * Seed hubs, as they are (see ./seed-hubs.ts): the message side of the hubs' flows, failure counting through
 * delivery reports, finding an outbound by its vumi_message_id, message-sender's Seed surface, the filters the
 * hubs rely on, and every service's times as the hubs read them (Seed's six fraction digits).
 */
import { describe, expect } from "vitest";
import { type Decoded, ok, type Service } from "./seed-client.ts";
import { it } from "./seed-hubs.ts";
import { type PyParam, pyJson } from "./wire.ts";

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

/** A time as Seed's services wrote it (DRF's `isoformat()` with `Z`): six fraction digits, always. */
const SEED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Every string in a decoded answer or hook body that a hub would take for a time, by where it is. */
function timesIn(value: unknown, path: string, into: Map<string, string>): void {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) {
    into.set(path, value);
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      timesIn(item, `${path}[${i}]`, into);
    }
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      timesIn(item, `${path}.${key}`, into);
    }
  }
}

/** Python's `datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")` (`%f`: one to six digits), as a UTC time. */
function strptime(s: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{1,6})Z$/.exec(s);
  if (!m) {
    throw new Error(`ValueError: time data '${s}' does not match format '%Y-%m-%dT%H:%M:%S.%fZ'`);
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const millis = Math.floor(Number((m[7] as string).padEnd(6, "0")) / 1000);
  return new Date(Date.UTC(year as number, (month as number) - 1, day, hour, minute, second, millis));
}

describe("times as Seed's services wrote them (hubs read them by position)", () => {
  it("answers and hook bodies carry six fraction digits: HelloMama's report keeps its seconds, strptime reads them", async ({
    client,
    hub,
  }) => {
    const seen = new Map<string, string>();
    const read = <T extends Decoded | Decoded[]>(what: string, body: T): T => {
      timesIn(body, what, seen);
      return body;
    };
    const post = async (what: string, service: Service, path: string, data: unknown) =>
      read(what, await ok(client.seed(service, "POST", path, { data }), 201));
    const list = async (what: string, service: Service, path: string, params: Record<string, PyParam>) =>
      read(what, await client.paginated(service, path, params));
    // The hub's receivers for one hook of each service (the registration answers are read too).
    for (const [service, event] of [
      ["identity", "identity.created"],
      ["subscription", "subscription.created"],
      ["scheduler", "schedule.added"],
      ["message-sender", "inbound.received"],
    ] as const) {
      read(
        `webhook ${event}`,
        await client.asAdmin(service, "/webhook/", {
          owner: client.users[service],
          event,
          target: `${hub.url}/times/${event}`,
        }),
      );
    }
    const number = "+27820007001";
    const identity = await post("identity", "identity", "/identities/", {
      details: { default_addr_type: "msisdn", addresses: { msisdn: { [number]: { default: true } } } },
    });
    await list("identities/search", "identity", "/identities/search/", {
      details__addresses__msisdn: number,
    });
    await post("optout", "identity", "/optout/", {
      optout_type: "unsubscribe",
      identity: identity.id,
      address_type: "msisdn",
      address: number,
      request_source: "times",
    });
    await list("optouts/search", "identity", "/optouts/search/", { request_source: "times" });
    const set = await hub.setByName("popi.hw_full.1");
    await post("subscription", "subscription", "/subscriptions/", {
      identity: identity.id,
      messageset: set.id,
      lang: "eng_ZA",
      schedule: set.default_schedule,
      next_sequence_number: 1,
    });
    await list("subscriptions", "subscription", "/subscriptions/", { identity: identity.id });
    await list("messageset", "subscription", "/messageset/", { short_name: set.short_name });
    await post("scheduler schedule", "scheduler", "/schedule/", {
      cron_definition: "0 8 * * 1",
      endpoint: `${hub.url}/times/cron`,
      payload: {},
    });
    const outbound = await post("outbound", "message-sender", "/outbound/", {
      to_identity: identity.id,
      content: "Week 12",
      metadata: {},
    });
    await post("inbound", "message-sender", "/inbound/", {
      message_id: "7d6c5b4a39281706f5e4d3c2b1a09f8e",
      transport_name: "times_transport",
      transport_type: "sms",
      from_addr: number,
      to_addr: "+27820001000",
      content: "Thanks",
      helper_metadata: {},
    });
    // HelloMama's msisdn_message_report: ms_client.get_outbounds({"to_identity", "after", "before"}) over whole days
    const day = new Date(`${outbound.created_at.slice(0, 10)}T00:00:00Z`);
    const outbounds = await list("get_outbounds", "message-sender", "/outbound/", {
      to_identity: identity.id,
      after: day.toISOString().slice(0, 19), // start_date.strftime("%Y-%m-%dT00:00:00")
      before: new Date(day.getTime() + 86_400_000).toISOString().slice(0, 19),
    });
    expect(outbounds.map((o) => o.id)).toEqual([outbound.id]);
    // "date_sent": message['created_at'].replace('T', ' ')[:-8]: the seconds, as with Seed's answer
    for (const message of outbounds) {
      const dateSent = message.created_at.replace("T", " ").slice(0, -8);
      expect(dateSent).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(dateSent).toBe(new Date(outbound.created_at).toISOString().replace("T", " ").slice(0, 19));
    }

    for (const [event, path] of [
      ["identity.created", "identity"],
      ["subscription.created", "subscription"],
      ["schedule.added", "scheduler schedule"],
      ["inbound.received", "inbound"],
    ]) {
      const [delivery] = await hub.waitForHook(`/times/${event}`);
      read(`hook ${event}`, delivery?.body as Decoded);
      expect(seen.get(`hook ${event}.data.created_at`), event).toBe(seen.get(`${path}.created_at`));
    }
    for (const must of [
      "identity.created_at",
      "identity.updated_at",
      "optout.created_at",
      "subscription.updated_at",
      "messageset[0].created_at",
      "scheduler schedule.next_send_at",
      "outbound.created_at",
      "inbound.created_at",
      "webhook identity.created.created_at",
      "hook subscription.created.data.updated_at",
      "hook schedule.added.data.next_send_at",
    ]) {
      expect(seen.has(must), `${must} in ${[...seen.keys()].join(", ")}`).toBe(true);
    }
    for (const [path, time] of seen) {
      expect(time, path).toMatch(SEED_TIME);
      expect(strptime(time).getTime(), path).toBe(new Date(time).getTime());
      expect(time.replace("T", " ").slice(0, -8), path).toBe(time.slice(0, 19).replace("T", " "));
    }
  });

  it("takes its own times back in filters, and the next links that carry them", async ({ client }) => {
    const identity = await ok(
      client.seed("identity", "POST", "/identities/", {
        data: { details: { addresses: { msisdn: { "+27820007002": { default: true } } } } },
      }),
      201,
    );
    const send = async (content: string) =>
      ok(
        client.seed("message-sender", "POST", "/outbound/", {
          data: { to_identity: identity.id, content, metadata: {} },
        }),
        201,
      );
    const first = await send("one");
    await new Promise((r) => setTimeout(r, 5));
    const second = await send("two");
    expect(first.created_at).toMatch(SEED_TIME);
    const ids = async (params: Record<string, string | number>) =>
      (await client.paginated("message-sender", "/outbound/", { to_identity: identity.id, ...params })).map(
        (o) => o.id,
      );
    // Exactly the stored time (milliseconds, padded): __gte finds the record, __gt does not.
    expect(await ids({ created_at__gte: first.created_at, ordering: "created_at" })).toEqual([
      first.id,
      second.id,
    ]);
    expect(await ids({ created_at__gt: first.created_at })).toEqual([second.id]);
    expect(await ids({ created_at__lte: first.created_at })).toEqual([first.id]);
    expect(await ids({ created_at: second.created_at })).toEqual([second.id]);
    // A page at a time: each next link carries the six-digit filter back
    expect(await ids({ after: first.created_at, ordering: "created_at", limit: 1 })).toEqual([
      first.id,
      second.id,
    ]);
    // identity's keyset pages (cursor=) from a time it answered
    await new Promise((r) => setTimeout(r, 5));
    const other = await ok(
      client.seed("identity", "POST", "/identities/", {
        data: { details: { addresses: { msisdn: { "+27820007003": { default: true } } } } },
      }),
      201,
    );
    const pages = await client.paginated("identity", "/identities/", {
      created_from: identity.created_at,
      cursor: "",
      limit: 1,
    });
    expect(pages.map((i) => i.id)).toEqual([other.id, identity.id]);
  });
});
