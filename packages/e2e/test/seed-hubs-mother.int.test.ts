/**
 * Seed hubs, as they are (see ./seed-hubs.ts): one mother's life in the hubs' flows, from registration through a
 * change of message set and language to opting out (ndoh-hub's registrations and changes, HelloMama's admin, resend
 * and opt-out hook).
 */
import { describe, expect } from "vitest";
import { ok } from "./seed-client.ts";
import { it } from "./seed-hubs.ts";

const MSISDN = "+27820001001";
let mom: string;

describe("ndoh-hub: registration, identity, subscription request (registrations/tasks.py)", () => {
  it("finds no identity by msisdn, creates one, and subscribes her to the prebirth set", async ({
    client,
    hub,
  }) => {
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

    const set = await hub.setByName("momconnect_prebirth.hw_full.1");
    const schedule = await ok(client.get("subscription", `/schedule/${set.default_schedule}/`));
    expect(schedule.day_of_week.split(",")).toEqual(["1", "3"]);

    await ok(
      hub.subscriptionRequest({
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

  it("updates the identity's details, also by PATCHing back the whole identity it read (third-party registration)", async ({
    client,
  }) => {
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

  it("answers a missing identity with Seed's 404 body, which get_identity reads as None", async ({
    client,
  }) => {
    const res = await client.get("identity", `/identities/${crypto.randomUUID()}/`);
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ detail: "Not found." });
  });

  it("reads the default address as get_identity_address does (no trailing slash, ?default=True)", async ({
    client,
  }) => {
    const page = await ok(client.get("identity", `/identities/${mom}/addresses/msisdn`, { default: true }));
    expect(page.results[0]).toEqual({ address: MSISDN });
  });
});

describe("change of message set and language (ndoh changes/tasks.py, HelloMama change_admin)", () => {
  it("switches her from prebirth to postbirth and changes her language", async ({ client, hub }) => {
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
    const postbirth = await hub.setByName("momconnect_postbirth.hw_full.1");
    await ok(client.get("subscription", `/schedule/${postbirth.default_schedule}/`));
    await ok(
      hub.subscriptionRequest({
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

  it("asks SBM to resend her last message (HelloMama resend_last_message: POST .../resend, no body)", async ({
    client,
  }) => {
    const [sub] = await client.paginated("subscription", "/subscriptions/", { identity: mom, active: true });
    const res = await client.seed("subscription", "POST", `/subscriptions/${sub?.id}/resend`);
    expect(res.status, res.text).toBe(202);
    expect(res.json()).toMatchObject({ accepted: true });
  });
});

describe("opt-out (ndoh PushOptoutToIdentityStore, HelloMama's optout hook and metrics)", () => {
  it("deactivates her subscriptions, records the opt-out, and calls the hub's optout hook in Seed's raw shape", async ({
    client,
    hub,
  }) => {
    await client.asAdmin("identity", "/webhook/", {
      owner: client.users.identity,
      event: "optout.requested",
      target: `${hub.url}/api/v1/optout/`,
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
    const [hook] = await hub.waitForHook("/api/v1/optout/");
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
