import type { Subscription } from "@tidings/contracts";
import { expectError, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { LANGUAGE, languageContent } from "./content-helpers.ts";
import { subscriptionTest } from "./support.ts";

const it = subscriptionTest({
  worker: true,
  env: { HOOK_RETRY_BASE_MS: "20", HOOK_POLL_INTERVAL_MS: "20" },
  content: languageContent,
});

describe("subscriptions API parity", () => {
  it("filters on metadata keys, replaces with PUT and deletes", async ({ t }) => {
    const withKey = await t.subscribe({
      messageset: 31,
      schedule: LANGUAGE,
      metadata: { converted_full: true },
    });
    const without = await t.subscribe({ messageset: 31, schedule: LANGUAGE, metadata: { other: 1 } });
    const nulled = await t.subscribe({ messageset: 31, schedule: LANGUAGE, metadata: null });
    const nullValue = await t.subscribe({
      messageset: 31,
      schedule: LANGUAGE,
      metadata: { converted_full: null },
    });
    // A null metadata (Seed's metadata is nullable) has no keys.
    expect(
      (await t.api("PATCH", `/api/v1/subscriptions/${nulled.id}/`, { metadata: null })).json().metadata,
    ).toBe(null);
    const ids = async (query: string) =>
      (await t.api("GET", `/api/v1/subscriptions/?messageset=31&${query}`))
        .json()
        .results.map((s: Subscription) => s.id);
    expect((await ids("metadata_has_key=converted_full")).sort()).toEqual([withKey.id, nullValue.id].sort());
    expect(await ids("metadata_not_has_key=converted_full")).toEqual(
      expect.arrayContaining([without.id, nulled.id]),
    );
    expect(await ids("metadata_not_has_key=converted_full")).not.toContain(withKey.id);
    expect(await ids("metadata_has_key=other&metadata_not_has_key=converted_full")).toEqual([without.id]);
    await t.api("PATCH", `/api/v1/subscriptions/${withKey.id}/`, { next_sequence_number: 2 });
    expect(await ids("next_sequence_number=2")).toEqual([withKey.id]);
    expect(await ids("initial_sequence_number=1")).toHaveLength(4);

    const put = await t.api("PUT", `/api/v1/subscriptions/${without.id}/`, {
      identity: without.identity,
      messageset: 30,
      schedule: LANGUAGE,
      lang: "zul_ZA",
      next_sequence_number: 2,
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ messageset: 30, lang: "zul_ZA", next_sequence_number: 2 });
    const partial = await t.api("PUT", `/api/v1/subscriptions/${without.id}/`, { lang: "eng_ZA" });
    expect(partial.statusCode).toBe(400);
    expect((await t.reload(without.id)).lang).toBe("zul_ZA");

    expect((await t.api("DELETE", `/api/v1/subscriptions/${nulled.id}/`)).statusCode).toBe(204);
    expect((await t.api("GET", `/api/v1/subscriptions/${nulled.id}/`)).statusCode).toBe(404);
    const again = await t.api("DELETE", `/api/v1/subscriptions/${nulled.id}/`);
    expectError(again, 404, "SUBSCRIPTION_NOT_FOUND");
  });
});

describe("REST hooks", () => {
  it("delivers subscription.created and subscription.updated to registered hooks", async ({
    receiver,
    t,
  }) => {
    const base = receiver.url;
    const hookBodies = () =>
      receiver.received.map((r) => ({
        path: r.path,
        body: JSON.parse(r.body) as { hook: { event: string }; data: Subscription },
      }));
    for (const event of ["subscription.created", "subscription.updated"]) {
      const hook = await t.api("POST", "/api/v1/webhook/", { event, target: `${base}/${event}` });
      expect(hook.statusCode, hook.body).toBe(201);
    }
    expect(
      (
        await t.api("POST", "/api/v1/webhook/", { event: "subscription.exploded", target: `${base}/x` })
      ).json().error.code,
    ).toBe("SUBSCRIPTION_HOOK_UNKNOWN_EVENT");
    const sub = await t.subscribe({ messageset: 31, schedule: LANGUAGE });
    await t.api("PATCH", `/api/v1/subscriptions/${sub.id}/`, { active: false });
    await waitFor(
      () =>
        hookBodies().some((h) => h.path === "/subscription.created" && h.body.data.id === sub.id) &&
        hookBodies().some(
          (h) => h.path === "/subscription.updated" && h.body.data.id === sub.id && !h.body.data.active,
        ),
      { what: "hook deliveries", timeoutMs: 20_000 },
    );
    const created = hookBodies().find((h) => h.path === "/subscription.created" && h.body.data.id === sub.id);
    expect(created?.body.hook.event).toBe("subscription.created");
    expect(created?.body.data).toMatchObject({ messageset: 31, active: true });
  });
});
