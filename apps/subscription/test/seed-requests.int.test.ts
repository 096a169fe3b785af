/**
 * The subscriptions API as Seed hubs call it: request shapes that Seed's stage-based messaging (Django REST
 * framework) accepted and answers the hubs read (see packages/e2e/test/seed-client.int.test.ts for Seed's Python
 * client over the wire).
 */
import { userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import {
  messageSetEvent,
  messages,
  newIdentity,
  publishContent,
  type Svc,
  scheduleEvent,
} from "./content-helpers.ts";
import { subscriptionTest } from "./support.ts";

const PREBIRTH = 61;
const POSTBIRTH = 62;
const SCHEDULE = 60;

/** Two sets on one schedule, as ndoh-hub's: one with a label, one without (Seed's default ""). */
const labelledContent = (svc: Svc) =>
  publishContent(svc, {
    schedules: [scheduleEvent(SCHEDULE)],
    sets: [
      { ...messageSetEvent(PREBIRTH, null, SCHEDULE), label: "MomConnect Prebirth" },
      messageSetEvent(POSTBIRTH, null, SCHEDULE),
    ],
    messages: [...messages(PREBIRTH, 3), ...messages(POSTBIRTH, 3)],
  });

const it = subscriptionTest({
  worker: true,
  content: labelledContent,
  defaults: { messageset: PREBIRTH, schedule: SCHEDULE },
});

const linkOf = (id: string) => new RegExp(`^https?://[^/]+/api/v1/subscriptions/${id}/$`);

describe("Seed hubs' subscription requests", () => {
  it("answers every subscription with its url and messageset_label (ndoh-hub's EngageContextView lists the labels)", async ({
    t,
  }) => {
    const created = await t.subscribe({});
    expect(created).toMatchObject({ messageset_label: "MomConnect Prebirth" });
    expect(created.url).toMatch(linkOf(created.id));
    const other = await t.subscribe({ identity: created.identity, messageset: POSTBIRTH });
    expect(other).toMatchObject({ messageset_label: "", url: expect.stringMatching(linkOf(other.id)) });

    // ndoh-hub: [sub["messageset_label"] for sub in get_subscriptions({"identity": ..., "active": True})["results"]]
    const list = await t.api("GET", `/api/v1/subscriptions/?identity=${created.identity}&active=True`);
    expect(list.statusCode, list.body).toBe(200);
    const results: { id: string; url: string; messageset_label: string }[] = list.json().results;
    expect(results.map((s) => s.messageset_label).sort()).toEqual(["", "MomConnect Prebirth"]);
    for (const s of results) {
      expect(s.url).toMatch(linkOf(s.id));
    }

    const got = await t.api("GET", `/api/v1/subscriptions/${created.id}/`);
    expect(got.json()).toMatchObject({ url: created.url, messageset_label: "MomConnect Prebirth" });
    const deactivated = await t.api("PATCH", `/api/v1/subscriptions/${other.id}/`, { active: false });
    expect(deactivated.json()).toMatchObject({ url: other.url, messageset_label: "", active: false });
    const put = await t.api("PUT", `/api/v1/subscriptions/${other.id}/`, {
      identity: other.identity,
      messageset: PREBIRTH,
      schedule: SCHEDULE,
      lang: "eng_ZA",
    });
    expect(put.json()).toMatchObject({ url: other.url, messageset_label: "MomConnect Prebirth" });
    // A repeated create answers with the existing subscription, with them too.
    expect(await t.subscribe({ identity: created.identity }, 200)).toMatchObject({
      id: created.id,
      url: created.url,
      messageset_label: "MomConnect Prebirth",
    });
  });

  it("follows a set's label as content changes it", async ({ svc, t }) => {
    const sub = await t.subscribe({ messageset: POSTBIRTH });
    await publishContent(svc, {
      sets: [
        {
          ...messageSetEvent(POSTBIRTH, null, SCHEDULE),
          label: "Baby",
          updated_at: "2026-03-02T00:00:00.000Z",
        },
      ],
    });
    await expect
      .poll(async () => (await t.api("GET", `/api/v1/subscriptions/${sub.id}/`)).json().messageset_label)
      .toBe("Baby");
  });

  it("takes back the whole subscription a hub read, ignoring its read-only fields (seed-jsbox-utils update_subscription)", async ({
    svc,
    t,
  }) => {
    const sub = await t.subscribe({});
    // update_subscription(subscription) PATCHes the object it is given, as its test sends it
    const jsbox = {
      id: sub.id,
      identity: sub.identity,
      messageset: PREBIRTH,
      next_sequence_number: 2,
      lang: "eng_ZA",
      active: true,
      completed: false,
    };
    const patched = await t.api("PATCH", `/api/v1/subscriptions/${sub.id}/`, jsbox);
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ ...jsbox, messageset_label: "MomConnect Prebirth" });

    // a GET result sent back with active: false; its read-only fields are ignored, whatever they say
    const read = (await t.api("GET", `/api/v1/subscriptions/${sub.id}/`)).json();
    const sentBack = {
      ...read,
      active: false,
      id: "00000000-0000-4000-8000-000000000000",
      url: "http://elsewhere/",
      messageset_label: "relabelled",
      created_at: "2001-01-01T00:00:00Z",
    };
    const stopped = await t.api("PATCH", `/api/v1/subscriptions/${sub.id}/`, sentBack);
    expect(stopped.statusCode, stopped.body).toBe(200);
    expect(stopped.json()).toMatchObject({
      id: sub.id,
      url: sub.url,
      active: false,
      messageset_label: "MomConnect Prebirth",
      created_at: read.created_at,
      next_sequence_number: 2,
    });
    expect((await t.reload(sub.id)).active).toBe(false);
    // Seed's PUT takes it back too
    const put = await t.api("PUT", `/api/v1/subscriptions/${sub.id}/`, { ...sentBack, lang: "zul_ZA" });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ id: sub.id, lang: "zul_ZA", active: false });

    // a field that is neither writable nor read-only is still refused, and changes nothing
    for (const method of ["PATCH", "PUT"] as const) {
      const unknown = await t.api(method, `/api/v1/subscriptions/${sub.id}/`, { ...read, actve: true });
      expect(unknown.statusCode, unknown.body).toBe(400);
      expect(unknown.json().error.code).toBe("VALIDATION_FAILED");
    }
    expect((await t.reload(sub.id)).active).toBe(false);

    // The set content has since deleted: sent back unchanged, it does not stop the hub deactivating her.
    const onDeleted = await t.subscribe({ messageset: POSTBIRTH });
    await svc.broker.publish("content.messageset.deleted", { id: POSTBIRTH });
    await expect
      .poll(async () => (await svc.db.messageSetCopy.findUniqueOrThrow({ where: { id: POSTBIRTH } })).deleted)
      .toBe(true);
    const readAgain = (await t.api("GET", `/api/v1/subscriptions/${onDeleted.id}/`)).json();
    const deactivated = await t.api("PATCH", `/api/v1/subscriptions/${onDeleted.id}/`, {
      ...readAgain,
      active: false,
    });
    expect(deactivated.statusCode, deactivated.body).toBe(200);
    expect(deactivated.json().active).toBe(false);
    // moving another subscription to it is still refused
    const moved = await t.api("PATCH", `/api/v1/subscriptions/${sub.id}/`, { messageset: POSTBIRTH });
    expect(moved.statusCode, moved.body).toBe(400);
    expect(moved.json().error.code).toBe("SUBSCRIPTION_UNKNOWN_CONTENT");
  });

  it("moves a subscription to another identity on PATCH, as Seed did and PUT does", async ({ t }) => {
    const sub = await t.subscribe({});
    const other = await t.subscribe({});
    const moved = await t.api("PATCH", `/api/v1/subscriptions/${sub.id}/`, { identity: other.identity });
    // she already has an active subscription to the set: no second one
    expect(moved.statusCode, moved.body).toBe(409);
    expect(moved.json().error).toMatchObject({
      code: "SUBSCRIPTION_ALREADY_ACTIVE",
      details: { subscription: other.id },
    });
    expect((await t.reload(sub.id)).identity).toBe(sub.identity);
    await t.api("PATCH", `/api/v1/subscriptions/${other.id}/`, { active: false });
    const now = await t.api("PATCH", `/api/v1/subscriptions/${sub.id}/`, { identity: other.identity });
    expect(now.statusCode, now.body).toBe(200);
    expect(now.json()).toMatchObject({ id: sub.id, identity: other.identity });
    const bad = await t.api("PATCH", `/api/v1/subscriptions/${sub.id}/`, { identity: "not-a-uuid" });
    expect(bad.statusCode).toBe(400);
  });

  it("filters on every field of Seed's model, exactly (HelloMama's get_subscriptions sends ?id=<identity>&active=True)", async ({
    svc,
    t,
  }) => {
    const sub = await t.subscribe({});
    const ids = async (query: string) => {
      const res = await t.api("GET", `/api/v1/subscriptions/?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().results.map((s: { id: string }) => s.id);
    };
    // HelloMama passes the identity's id as `id`: Seed answered 200 with no subscriptions, and so does this
    const none = await t.api("GET", `/api/v1/subscriptions/?id=${sub.identity}&active=True`);
    expect(none.statusCode, none.body).toBe(200);
    expect(none.json()).toMatchObject({ count: 0, results: [] });
    expect(await ids(`id=${sub.id}&active=True`)).toEqual([sub.id]);
    expect(await ids(`id=${sub.id}&active=False`)).toEqual([]);

    const byUser = await svc.app.inject({
      method: "POST",
      url: "/api/v1/subscriptions/",
      headers: await userAuth(svc.app, "filters@example.org"),
      payload: { identity: newIdentity(), messageset: PREBIRTH, schedule: SCHEDULE, lang: "eng_ZA" },
    });
    expect(byUser.statusCode, byUser.body).toBe(201);
    const other = byUser.json();
    const user = (await t.reload(other.id)).createdBy;
    expect(await ids(`created_by=${user}`)).toEqual([other.id]);
    expect(await ids(`updated_by=${user}&active=True`)).toEqual([other.id]);
    expect(await ids(`created_by=${(user ?? 0) + 1000}`)).toEqual([]);

    await t.api("PATCH", `/api/v1/subscriptions/${sub.id}/`, { version: 3 });
    const read = (await t.api("GET", `/api/v1/subscriptions/${sub.id}/`)).json();
    expect(await ids(`identity=${sub.identity}&version=3`)).toEqual([sub.id]);
    expect(await ids(`created_at=${encodeURIComponent(read.created_at)}`)).toEqual([sub.id]);
    expect(await ids(`updated_at=${encodeURIComponent(read.updated_at)}`)).toEqual([sub.id]);
    // a naive date-time is UTC, as Django read it
    expect(await ids(`created_at=${read.created_at.slice(0, 23)}`)).toEqual([sub.id]);
    expect(await ids("created_at=2001-01-01T00:00:00Z")).toEqual([]);

    // what Seed did not filter on, or a misspelt filter, is still refused rather than ignored
    for (const query of [`idd=${sub.id}`, `identity_id=${sub.identity}`, "metadata_has=x", "id=42"]) {
      const refused = await t.api("GET", `/api/v1/subscriptions/?${query}`);
      expect(refused.statusCode, query).toBe(400);
    }
  });

  it("keeps a hub's place while it deactivates what it pages through (ndoh-hub's move_nurseconnect_to_rthb)", async ({
    t,
  }) => {
    for (let i = 0; i < 5; i++) {
      await t.subscribe({ metadata: { to_move: i } });
    }
    // seed-services-client's get_paginated_response reads a page, yields it, and only then follows `next`
    const filter = "active=True&metadata_has_key=to_move";
    const visited: string[] = [];
    let url: string | null = `/api/v1/subscriptions/?${filter}&limit=2`;
    while (url) {
      const res = await t.api("GET", url);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(page.count).toBe(5 - visited.length);
      for (const sub of page.results as { id: string }[]) {
        visited.push(sub.id);
        const moved = await t.api("PATCH", `/api/v1/subscriptions/${sub.id}/`, { active: false });
        expect(moved.statusCode, moved.body).toBe(200);
      }
      url = page.next && new URL(page.next).pathname + new URL(page.next).search;
    }
    expect(new Set(visited).size).toBe(5);
    expect((await t.api("GET", `/api/v1/subscriptions/?${filter}`)).json().count).toBe(0);
  });

  it("reads an empty filter as no filter, as django-filter did (the control interface's ?identity=&active=True&completed=)", async ({
    t,
  }) => {
    const active = await t.subscribe({});
    const completed = await t.subscribe({});
    await t.api("PATCH", `/api/v1/subscriptions/${completed.id}/`, { completed: true });
    const inactive = await t.subscribe({});
    await t.api("PATCH", `/api/v1/subscriptions/${inactive.id}/`, { active: false });
    const all = await t.api("GET", "/api/v1/subscriptions/?identity=&active=True&completed=&limit=1000");
    expect(all.statusCode, all.body).toBe(200);
    const ids = all.json().results.map((s: { id: string }) => s.id);
    expect(ids).toEqual(expect.arrayContaining([active.id, completed.id]));
    expect(ids).not.toContain(inactive.id);
    const onlyActive = await t.api("GET", "/api/v1/subscriptions/?active=True&limit=1000");
    expect(all.json().count).toBe(onlyActive.json().count);
    expect(ids).toEqual(onlyActive.json().results.map((s: { id: string }) => s.id));
  });
});
