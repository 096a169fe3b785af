/**
 * Every method of Praekelt's `seed-services-client` 0.37 (IdentityStoreApiClient, StageBasedMessagingApiClient,
 * MessageSenderApiClient, SchedulerApiClient), sent as the bytes the Python client writes (./wire.ts) to the real
 * processes, and read as the client reads the answer. The hubs' flows are in ./seed-hubs.int.test.ts.
 */
import { describe, expect } from "vitest";
import type { Platform } from "./platform.ts";
import { type Decoded, ok, SeedClient } from "./seed-client.ts";
import { platformTest } from "./support.ts";
import { sendRaw } from "./wire.ts";

const ADMIN_TOKEN = "e2e-client-admin-token-0123456789";
const MSISDN = "+27820004004";

const it = platformTest({ ADMIN_TOKEN, SCHEDULER_HTTP_ALLOWED_HOSTS: "127.0.0.1" }).extend<{
  client: SeedClient;
}>({
  client: [
    async ({ platform }, use) => {
      const client = new SeedClient(platform, ADMIN_TOKEN);
      await client.issueTokens("client@example.org");
      await use(client);
    },
    { scope: "file" },
  ],
});

describe("IdentityStoreApiClient", () => {
  it("answers each of its ten methods as the client reads them", async ({ client }) => {
    const { seed, get, paginated } = bound(client);
    // create_identity(identity)
    const created = await ok(
      seed("identity", "POST", "/identities/", {
        data: {
          details: { default_addr_type: "msisdn", addresses: { msisdn: { [MSISDN]: { default: true } } } },
        },
      }),
      201,
    );
    // get_identity(identity): the identity, and None (a "detail": "Not found." body) for a missing one
    expect((await ok(get("identity", `/identities/${created.id}/`))).id).toBe(created.id);
    const missing = await get("identity", "/identities/00000000-0000-4000-8000-000000000000/");
    expect(missing.status).toBe(404);
    expect(missing.json().detail).toBe("Not found.");
    // get_identities(params), search_identities(field, value), get_identity_by_address(type, value)
    expect((await paginated("identity", "/identities/")).map((i) => i.id)).toContain(created.id);
    expect(
      await paginated("identity", "/identities/search/", { details__default_addr_type: "msisdn" }),
    ).toHaveLength(1);
    expect(
      await paginated("identity", "/identities/search/", { details__addresses__msisdn: MSISDN }),
    ).toHaveLength(1);
    // get_identity_address(identity_id, address_type="msisdn", params={"default": True}): results[0].address
    const address = await ok(
      get("identity", `/identities/${created.id}/addresses/msisdn`, { default: true }),
    );
    expect(address.results[0].address).toBe(MSISDN);
    // update_identity(identity, data)
    const updated = await ok(
      seed("identity", "PATCH", `/identities/${created.id}/`, {
        data: { details: { ...created.details, lang_code: "eng_ZA" } },
      }),
    );
    expect(updated.details.lang_code).toBe("eng_ZA");
    // create_optout(optout), create_optin(optin), get_optouts(params)
    const optout = {
      identity: created.id,
      address_type: "msisdn",
      address: MSISDN,
      request_source: "client",
    };
    await ok(seed("identity", "POST", "/optout/", { data: { optout_type: "stop", ...optout } }), 201);
    await ok(seed("identity", "POST", "/optin/", { data: optout }), 201);
    expect(await paginated("identity", "/optouts/search/", { identity: created.id })).toHaveLength(1);
  });
});

describe("StageBasedMessagingApiClient", () => {
  it("answers each of its nineteen methods as the client reads them", async ({ platform, client }) => {
    const { seed, get, paginated } = bound(client);
    // (set-up as the content operators do, through the same URL)
    const schedule = await ok(
      seed("subscription", "POST", "/schedule/", { data: { minute: "0", hour: "9" } }),
      201,
    );
    const set = await ok(
      seed("subscription", "POST", "/messageset/", {
        data: { short_name: "client.set", content_type: "text", default_schedule: schedule.id },
      }),
      201,
    );
    // get_schedules, get_schedule, get_messagesets, get_messageset, get_messageset_languages
    expect((await paginated("subscription", "/schedule/")).map((s) => s.id)).toContain(schedule.id);
    expect((await ok(get("subscription", `/schedule/${schedule.id}/`))).hour).toBe("9");
    expect(await paginated("subscription", "/messageset/", { short_name: "client.set" })).toHaveLength(1);
    expect((await ok(get("subscription", `/messageset/${set.id}/`))).short_name).toBe("client.set");
    // create_message, get_messages, get_message, update_message, delete_message
    const message = await ok(
      seed("subscription", "POST", "/message/", {
        data: { messageset: set.id, sequence_number: 1, lang: "eng_ZA", text_content: "One" },
      }),
      201,
    );
    expect(await paginated("subscription", "/message/", { messageset: set.id })).toHaveLength(1);
    expect((await ok(get("subscription", `/message/${message.id}/`))).text_content).toBe("One");
    await ok(seed("subscription", "PATCH", `/message/${message.id}/`, { data: { text_content: "Uno" } }));
    expect(await ok(get("subscription", "/messageset_languages/"))).toMatchObject({ [set.id]: ["eng_ZA"] });
    await ok(seed("subscription", "DELETE", `/message/${message.id}/`));
    // create_binarycontent(content): HTTPServiceClient, multipart `files=`; delete_binarycontent
    const binary = await uploadAudio(platform, client);
    expect(binary.content).toMatch(/\/media\//);
    await ok(seed("subscription", "DELETE", `/binarycontent/${binary.id}/`));
    // create_subscription, get_subscription, get_subscriptions, update_subscription, resend_subscription
    const identity = "5f1e5b4a-3c2d-4e1f-8a9b-0c1d2e3f4a5b";
    await ok(
      seed("subscription", "POST", "/message/", {
        data: { messageset: set.id, sequence_number: 1, lang: "eng_ZA", text_content: "One again" },
      }),
      201,
    );
    const sub = await ok(
      seed("subscription", "POST", "/subscriptions/", {
        data: {
          identity,
          messageset: set.id,
          lang: "eng_ZA",
          schedule: schedule.id,
          next_sequence_number: 1,
        },
      }),
      201,
    );
    expect((await ok(get("subscription", `/subscriptions/${sub.id}/`))).identity).toBe(identity);
    expect(await paginated("subscription", "/subscriptions/", { identity, active: true })).toHaveLength(1);
    await ok(
      seed("subscription", "PATCH", `/subscriptions/${sub.id}/`, { data: { next_sequence_number: 1 } }),
    );
    expect((await ok(seed("subscription", "POST", `/subscriptions/${sub.id}/resend`), 202)).accepted).toBe(
      true,
    );
    // get_failed_tasks, requeue_failed_tasks (a body-less POST: the text `null`)
    expect(await paginated("subscription", "/failed-tasks/")).toEqual([]);
    expect(await ok(seed("subscription", "POST", "/failed-tasks/"), 201)).toMatchObject({
      requeued_failed_tasks: true,
    });
  });
});

describe("MessageSenderApiClient", () => {
  it("answers each of its six methods as the client reads them", async ({ client }) => {
    const { seed, paginated } = bound(client);
    // create_outbound(payload), get_outbounds(params). Not by to_addr: the log channel may deliver the outbound
    // before the list is read, and a delivered outbound's to_addr is wiped (as Seed's was).
    const before = new Date(Date.now() - 1_000).toISOString();
    const outbound = await ok(
      seed("message-sender", "POST", "/outbound/", {
        data: { to_addr: MSISDN, content: "Hi", metadata: {} },
      }),
      201,
    );
    expect(
      (await paginated("message-sender", "/outbound/", { created_at__gte: before })).map((o) => o.id),
    ).toContain(outbound.id);
    // create_inbound(payload), get_inbounds(params)
    await ok(
      seed("message-sender", "POST", "/inbound/", {
        data: {
          message_id: "vumi-1",
          to_addr: "12345",
          from_addr: MSISDN,
          content: "hello",
          transport_name: "x",
        },
      }),
      201,
    );
    expect(await paginated("message-sender", "/inbound/", { message_id: "vumi-1" })).toHaveLength(1);
    // get_failed_tasks(params), requeue_failed_tasks()
    expect(await paginated("message-sender", "/failed-tasks/")).toEqual([]);
    expect(await ok(seed("message-sender", "POST", "/failed-tasks/"), 201)).toEqual({
      requeued_failed_tasks: true,
    });
  });
});

describe("SchedulerApiClient", () => {
  it("answers each of its seven methods as the client reads them", async ({ client }) => {
    const { seed, get, paginated } = bound(client);
    // create_schedule(schedule): Seed's body for a per-subscription schedule
    const created = await ok(
      seed("scheduler", "POST", "/schedule/", {
        data: {
          frequency: 10,
          cron_definition: "0 8 * * 1",
          endpoint: "http://127.0.0.1:9/api/v1/subscriptions/x/send",
          payload: {},
          auth_token: "hub-token-0123456789",
        },
      }),
      201,
    );
    expect(created).toMatchObject({ frequency: 10, triggered: 0, enabled: true });
    // get_schedules, get_schedule, update_schedule, delete_schedule
    expect((await paginated("scheduler", "/schedule/")).map((s) => s.id)).toContain(created.id);
    expect((await ok(get("scheduler", `/schedule/${created.id}/`))).cron_definition).toBe("0 8 * * 1");
    expect(
      (await ok(seed("scheduler", "PATCH", `/schedule/${created.id}/`, { data: { enabled: false } })))
        .enabled,
    ).toBe(false);
    await ok(seed("scheduler", "DELETE", `/schedule/${created.id}/`));
    expect((await get("scheduler", `/schedule/${created.id}/`)).json().detail).toBe("Not found.");
    // get_failed_tasks, requeue_failed_tasks
    expect(await paginated("scheduler", "/failed-tasks/")).toEqual([]);
    expect(await ok(seed("scheduler", "POST", "/failed-tasks/"), 201)).toEqual({
      requeued_failed_tasks: true,
    });
  });
});

/** The client's calls, bound. */
const bound = (client: SeedClient) => ({
  seed: client.seed.bind(client),
  get: client.get.bind(client),
  paginated: client.paginated.bind(client),
});

/** `session_http.post('/binarycontent/', files=content).json()`: requests' multipart body, as it writes it. */
async function uploadAudio(platform: Platform, client: SeedClient): Promise<Decoded> {
  const origin = platform.base.subscription;
  const boundary = "3d6b6a416f9b5ac7e4a4e5c2b1f0a9d8";
  const body = [
    `--${boundary}`,
    'Content-Disposition: form-data; name="content"; filename="week1.mp3"',
    "",
    "ID3-audio-bytes",
    `--${boundary}--`,
    "",
  ].join("\r\n");
  const raw = [
    "POST /api/v1/binarycontent/ HTTP/1.1",
    `Host: ${new URL(origin).host}`,
    "User-Agent: python-requests/2.31.0",
    "Accept-Encoding: gzip, deflate",
    "Accept: */*",
    "Connection: keep-alive",
    `Authorization: Token ${client.tokens.subscription}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    `Content-Type: multipart/form-data; boundary=${boundary}`,
    "",
    body,
  ].join("\r\n");
  return ok(sendRaw(origin, raw), 201);
}
