/**
 * Seed hubs, as they are: the requests of Praekelt's `seed-services-client` (0.37, on `demands` and `requests`) and
 * the call patterns of two real hubs (praekeltfoundation/ndoh-hub, praekelt/hellomama-registration), replayed as
 * the bytes those Python clients write (see ./wire.ts) against the real processes. Only URLs and tokens differ
 * from what the hubs sent to the Seed Stack. Each request names the hub code it comes from.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "./platform.ts";
import { type Decoded, ok, SeedClient, type Service } from "./seed-client.ts";
import { pyJson } from "./wire.ts";

const ADMIN_TOKEN = "e2e-seed-admin-token-0123456789";
const MSISDN = "+27820001001";
let platform: Platform;
interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}
/** The hub's side: its webhook receivers, recording what the Seed services POST to them. */
const received: Received[] = [];
let hub: Server;
let hubUrl: string;

let client: SeedClient;

/** A hub's `DeliverHook`: `requests.post(target, data=json.dumps(payload), headers=...)` to an SBM receiver. */
const hookPost = (service: Service, path: string, payload: unknown) =>
  client.seed(service, "POST", path, { data: payload });

const waitForHook = async (path: string, count = 1, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hits = received.filter((r) => r.path.startsWith(path));
    if (hits.length >= count) {
      return hits;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${count} hook deliveries to ${path}: ${JSON.stringify(received.map((r) => r.path))}`);
};

beforeAll(async () => {
  hub = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => {
      text += chunk;
    });
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: text ? JSON.parse(text) : {} });
      // ndoh's change/inactive answers 201 with an empty body; HelloMama's optout receiver 200.
      res.writeHead(req.url?.startsWith("/api/v1/change/inactive/") ? 201 : 200).end();
    });
  });
  await new Promise<void>((resolve) => hub.listen(0, "127.0.0.1", resolve));
  hubUrl = `http://127.0.0.1:${(hub.address() as { port: number }).port}`;

  platform = await startPlatform({
    ADMIN_TOKEN,
    TICK_INTERVAL_MS: "200",
    HOOK_POLL_INTERVAL_MS: "100",
    HOOK_RETRY_BASE_MS: "100",
    SCHEDULER_HTTP_ALLOWED_HOSTS: "127.0.0.1",
  });
  client = new SeedClient(platform, ADMIN_TOKEN);
  await client.issueTokens("hub@momconnect.example.org");
  // The programme's content, as its operators loaded it (through the one SBM URL).
  const schedule = await ok(
    client.seed("subscription", "POST", "/schedule/", {
      data: { minute: "0", hour: "8", day_of_week: "1,3" },
    }),
    201,
  );
  for (const shortName of [
    "momconnect_prebirth.hw_full.1",
    "momconnect_postbirth.hw_full.1",
    "nurseconnect.hw_full.1",
    "popi.hw_full.1",
  ]) {
    const set = await ok(
      client.seed("subscription", "POST", "/messageset/", {
        data: { short_name: shortName, content_type: "text", default_schedule: schedule.id },
      }),
      201,
    );
    for (const lang of ["eng_ZA", "zul_ZA"]) {
      for (const sequence_number of [1, 2, 3]) {
        await ok(
          client.seed("subscription", "POST", "/message/", {
            data: {
              messageset: set.id,
              sequence_number,
              lang,
              text_content: `${shortName} ${lang} ${sequence_number}`,
            },
          }),
          201,
        );
      }
    }
  }
  // ndoh sends its welcome through the channel it named at Seed: JUNE_TEXT.
  await client.asAdmin("message-sender", "/channel/", {
    channel_id: "JUNE_TEXT",
    channel_type: "log",
    default: true,
  });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await new Promise((resolve) => hub?.close(resolve));
  const errors = platform?.errors() ?? [];
  expect(errors, errors.join("\n")).toEqual([]);
}, 60_000);

const setByName = async (shortName: string) => {
  // ndoh: next(sbm_client.get_messagesets({"short_name": short_name})["results"])
  const [set] = await client.paginated("subscription", "/messageset/", { short_name: shortName });
  expect(set, shortName).toBeDefined();
  return set as { id: number; short_name: string; default_schedule: number };
};

/** ndoh's hook to SBM for a subscription request (`serialize_hook`): metadata null, isoformat() times. */
const subscriptionRequest = (data: Record<string, unknown>) =>
  hookPost("subscription", "/subscriptions/request", {
    hook: {
      id: 4,
      event: "subscriptionrequest.added",
      target: `${platform.base.subscription}/api/v1/subscriptions/request`,
    },
    data: {
      id: crypto.randomUUID(),
      metadata: null,
      created_at: "2019-02-22T10:00:00.123456+00:00",
      updated_at: "2019-02-22T10:00:00.123456+00:00",
      ...data,
    },
  });

let mom: string;

describe("ndoh-hub: registration, identity, subscription request (registrations/tasks.py)", () => {
  it("finds no identity by msisdn, creates one, and subscribes her to the prebirth set", async () => {
    // get_or_create_identity_from_msisdn
    expect(
      await client.paginated("identity", "/identities/search/", { details__addresses__msisdn: MSISDN }),
    ).toEqual([]);
    const created = await ok(
      client.seed("identity", "POST", "/identities/", {
        data: {
          details: { default_addr_type: "msisdn", addresses: { msisdn: { [MSISDN]: { default: true } } } },
        },
      }),
      201,
    );
    mom = created.id;
    const found = await client.paginated("identity", "/identities/search/", {
      details__addresses__msisdn: MSISDN,
    });
    expect(found.map((i) => i.id)).toEqual([mom]);
    expect(found[0]?.details.addresses.msisdn[MSISDN]).toMatchObject({ default: true });

    // is_identity_subscribed: params dict {"identity": ..., "active": True}
    expect(
      await client.paginated("subscription", "/subscriptions/", { identity: mom, active: true }),
    ).toEqual([]);
    const sets = await client.paginated("subscription", "/messageset/");
    expect(sets.filter((s) => /prebirth\.hw_full/.test(s.short_name))).toHaveLength(1);

    // mom_opt_in: the hub's Source pk is an integer
    await ok(
      client.seed("identity", "POST", "/optin/", {
        data: {
          identity: mom,
          address_type: "msisdn",
          address: MSISDN,
          request_source: "clinic_app",
          requestor_source_id: 7,
        },
      }),
      201,
    );

    const set = await setByName("momconnect_prebirth.hw_full.1");
    const schedule = await ok(client.get("subscription", `/schedule/${set.default_schedule}/`));
    expect(schedule.day_of_week.split(",")).toEqual(["1", "3"]);

    await ok(
      subscriptionRequest({
        identity: mom,
        messageset: set.id,
        next_sequence_number: 2,
        lang: "eng_ZA",
        schedule: set.default_schedule,
      }),
      201,
    );
    const subs = await client.paginated("subscription", "/subscriptions/", { identity: mom, active: true });
    expect(subs).toEqual([
      expect.objectContaining({ identity: mom, messageset: set.id, next_sequence_number: 2, lang: "eng_ZA" }),
    ]);

    // the welcome: always JUNE_TEXT, to_addr and to_identity
    await ok(
      client.seed("message-sender", "POST", "/outbound/", {
        data: {
          to_addr: MSISDN,
          to_identity: mom,
          content: "Welcome! MomConnect",
          channel: "JUNE_TEXT",
          metadata: {},
        },
      }),
      201,
    );
  });

  it("updates the identity's details, also by PATCHing back the whole identity it read (third-party registration)", async () => {
    // set_risk_status: GET, then PATCH the whole details
    const identity = await ok(client.get("identity", `/identities/${mom}/`));
    await ok(
      client.seed("identity", "PATCH", `/identities/${mom}/`, {
        data: { details: { ...identity.details, pmtct: { risk_status: "high" } } },
      }),
    );
    // ThirdPartyRegistration: is_client.update_identity(mom_identity["id"], data=mom_identity)
    const whole = await ok(client.get("identity", `/identities/${mom}/`));
    whole.details.lang_code = "zul_ZA";
    const patched = await ok(client.seed("identity", "PATCH", `/identities/${mom}/`, { data: whole }));
    expect(patched.details).toMatchObject({ pmtct: { risk_status: "high" }, lang_code: "zul_ZA" });
    expect(patched.id).toBe(mom);
  });

  it("answers a missing identity with Seed's 404 body, which get_identity reads as None", async () => {
    const res = await client.get("identity", `/identities/${crypto.randomUUID()}/`);
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ detail: "Not found." });
  });

  it("reads the default address as get_identity_address does (no trailing slash, ?default=True)", async () => {
    const page = await ok(client.get("identity", `/identities/${mom}/addresses/msisdn`, { default: true }));
    expect(page.results[0]).toEqual({ address: MSISDN });
  });
});

describe("change of message set and language (ndoh changes/tasks.py, HelloMama change_admin)", () => {
  it("switches her from prebirth to postbirth and changes her language", async () => {
    // baby_switch
    const active = await client.paginated("subscription", "/subscriptions/", { identity: mom, active: true });
    for (const sub of active) {
      const set = await ok(client.get("subscription", `/messageset/${sub.messageset}/`));
      if (set.short_name.includes("prebirth")) {
        await ok(
          client.seed("subscription", "PATCH", `/subscriptions/${sub.id}/`, { data: { active: false } }),
        );
      }
    }
    const postbirth = await setByName("momconnect_postbirth.hw_full.1");
    await ok(client.get("subscription", `/schedule/${postbirth.default_schedule}/`));
    await ok(
      subscriptionRequest({
        identity: mom,
        messageset: postbirth.id,
        next_sequence_number: 1,
        lang: "eng_ZA",
        schedule: postbirth.default_schedule,
      }),
      201,
    );
    // momconnect_change_language
    const now = await client.paginated("subscription", "/subscriptions/", { identity: mom, active: true });
    expect(now.map((s) => s.messageset)).toEqual([postbirth.id]);
    await ok(
      client.seed("subscription", "PATCH", `/subscriptions/${now[0]?.id}/`, { data: { lang: "zul_ZA" } }),
    );
    // HelloMama's admin language change checks the languages first; the keys are strings
    const languages = await ok(client.get("subscription", "/messageset_languages/"));
    expect(languages[String(postbirth.id)]).toEqual(["eng_ZA", "zul_ZA"]);
    // ops: ?active=True&messageset_contains=nurseconnect
    expect(
      await client.paginated("subscription", "/subscriptions/", {
        active: true,
        messageset_contains: "nurseconnect",
      }),
    ).toEqual([]);
    const inactive = await client.paginated("subscription", "/subscriptions/", {
      identity: mom,
      active: false,
    });
    expect(inactive).toHaveLength(1);
  });

  it("asks SBM to resend her last message (HelloMama resend_last_message: POST .../resend, no body)", async () => {
    const [sub] = await client.paginated("subscription", "/subscriptions/", { identity: mom, active: true });
    const res = await client.seed("subscription", "POST", `/subscriptions/${sub?.id}/resend`);
    expect(res.status, res.text).toBe(202);
    expect(res.json()).toMatchObject({ accepted: true });
  });
});

describe("delivery reports and failure counting (Seed message sender -> identity store -> ndoh)", () => {
  it("counts failed deliveries posted to message_count and calls the hub's change/inactive hook at the limit", async () => {
    // ndoh registers its receiver at the identity store, with its own token (the hook is scoped to its user)
    await client.asAdmin("identity", "/webhook/", {
      owner: client.users.identity,
      event: "identity.max_failures",
      target: `${hubUrl}/api/v1/change/inactive/`,
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
        hookPost("identity", "/identities/message_count/", {
          hook: {
            id: 3,
            event: "outbound.delivery_report",
            target: `${platform.base.identity}/api/v1/identities/message_count/`,
          },
          data: { outbound_id: crypto.randomUUID(), delivered: false, to_addr: number, identity: someone.id },
        }),
      );
    }
    const [delivery] = await waitForHook("/api/v1/change/inactive/");
    expect(delivery?.body).toEqual({
      hook: {
        id: expect.anything(),
        event: "identity.max_failures",
        target: `${hubUrl}/api/v1/change/inactive/`,
      },
      data: { identity_id: someone.id, failure_count: 5 },
    });
  });
});

describe("events and replies (ndoh process_whatsapp_unsent_event)", () => {
  it("finds the person of an outbound by its vumi_message_id, and only that outbound", async () => {
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

describe("opt-out (ndoh PushOptoutToIdentityStore, HelloMama's optout hook and metrics)", () => {
  it("deactivates her subscriptions, records the opt-out, and calls the hub's optout hook in Seed's raw shape", async () => {
    await client.asAdmin("identity", "/webhook/", {
      owner: client.users.identity,
      event: "optout.requested",
      target: `${hubUrl}/api/v1/optout/`,
    });
    for (const sub of await client.paginated("subscription", "/subscriptions/", {
      identity: mom,
      active: true,
    })) {
      await ok(
        client.seed("subscription", "PATCH", `/subscriptions/${sub.id}/`, { data: { active: false } }),
      );
    }
    await ok(
      client.seed("identity", "POST", "/optout/", {
        data: {
          optout_type: "stop",
          identity: mom,
          reason: "miscarriage",
          address_type: "msisdn",
          address: MSISDN,
          request_source: "ussd_public",
          requestor_source_id: "gBGGJ3EVEUV_AgkLEFYRAAMAAAAA",
        },
      }),
      201,
    );
    const [hook] = await waitForHook("/api/v1/optout/");
    // raw, no hook/data envelope; HelloMama requires identity, optout_reason and optout_source
    expect(hook?.body).toMatchObject({
      identity: mom,
      optout_type: "stop",
      optout_reason: "miscarriage",
      optout_source: "ussd_public",
    });
    expect(hook?.body.identity_details).toMatchObject({ default_addr_type: "msisdn" });

    // HelloMama's metrics: three searches it counts
    expect(await client.paginated("identity", "/optouts/search/", { reason: "miscarriage" })).toHaveLength(1);
    expect(await client.paginated("identity", "/optouts/search/")).toHaveLength(1);
    expect(
      await client.paginated("identity", "/optouts/search/", { request_source: "ussd_public" }),
    ).toHaveLength(1);
    // Django lookups on /optouts/search/, naive date-times meaning UTC
    expect(
      await client.paginated("identity", "/optouts/search/", { created_at__gte: "2020-01-01T00:00:00" }),
    ).toHaveLength(1);
    expect(
      await client.paginated("identity", "/optouts/search/", { created_at__lte: "2020-01-01T00:00:00" }),
    ).toHaveLength(0);
  });
});

describe("message-sender's Seed surface (ndoh get_outbounds, Vumi Go and Junebug inbound pushes)", () => {
  it("answers an outbound with Seed's url, and finds it by the vumi_message_id it was sent with", async () => {
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

  it("stores what a Vumi Go transport and a Junebug channel push, and lists it by Seed's filters", async () => {
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
  it("refuses an unknown filter with a 400 naming it instead of returning every record", async () => {
    const res = await client.get("message-sender", "/outbound/", { stauts: "failed" });
    expect(res.status).toBe(400);
    expect(res.text).toContain("stauts");
  });

  it("sends Python's JSON as Python writes it", () => {
    expect(pyJson({ a: true, b: [1, "é"] })).toBe('{"a": true, "b": [1, "\\u00e9"]}');
  });
});
