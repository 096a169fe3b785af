/**
 * The subscriptions API as Seed hubs call it: request shapes that Seed's stage-based messaging (Django REST
 * framework) accepted and answers the hubs read (see packages/e2e/test/seed-client.int.test.ts for Seed's Python
 * client over the wire).
 */
import { describe, expect } from "vitest";
import { messageSetEvent, messages, publishContent, type Svc, scheduleEvent } from "./content-helpers.ts";
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
});
