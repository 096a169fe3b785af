import { randomUUID } from "node:crypto";
import { catalog, type OptOutCreated } from "@tidings/contracts";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { type ScheduleApi, schedulerTest } from "./support.ts";

const { it } = schedulerTest("2026-05-04T10:00:30.000Z");

/** identity's `optout.created` of type `forget` for identity `id` with these addresses. */
const forget = (id: string, addresses: Record<string, Record<string, object>>): OptOutCreated => ({
  ...catalog["optout.created"].example,
  id: randomUUID(),
  optout_type: "forget",
  identity: id,
  address_type: "",
  address: "",
  identity_details: { addresses, name: "Ann" },
});

const created = async (api: ScheduleApi, body: object) => {
  const res = await api.create({ cron_definition: "0 9 * * *", ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};

describe("forget (optout.created of type forget)", () => {
  it("disables and redacts the schedules that name the person, and leaves those whose addresses only contain theirs", async ({
    svc,
    api,
  }) => {
    const ann = randomUUID();
    const hub = "http://127.0.0.1:9";
    const theirs = [
      await created(api, { payload: { to_addr: "+2782000100", clinic: "Zola", days: 3 } }),
      await created(api, { payload: { email: "Ann@Example.org" } }),
      await created(api, { payload: { [ann]: { lang: "eng" } } }),
      await created(api, { endpoint: `${hub}/people/%2B2782000100/`, payload: {} }),
      await created(api, { endpoint: `${hub}/remind?to=ann@example.org&lang=eng`, payload: {} }),
    ];
    // Jo's number and emails hold Ann's inside them, as written and percent-encoded.
    const bystanders = [
      await created(api, {
        payload: { to_addr: "+27820001001", email: "joann@example.org", cc: ["ann@example.org.au"] },
      }),
      await created(api, { endpoint: `${hub}/people/+27820001001/?email=joann%40example.org`, payload: {} }),
      await created(api, { endpoint: `${hub}/people/ann@example.org.au`, payload: { id: `${ann}1` } }),
    ];
    const now = async (s: { id: string }) => (await api.get(s.id)).json();
    const before = await Promise.all(bystanders.map(now));

    await svc.broker.publish(
      "optout.created",
      forget(ann, { msisdn: { "+2782000100": {} }, email: { "ann@example.org": {} } }),
    );
    await waitFor(async () => (await now(theirs[0])).enabled === false, { what: "their schedules disabled" });
    const after = await Promise.all(theirs.map(now));
    expect(after.map((s) => [s.enabled, s.next_send_at])).toEqual(theirs.map(() => [false, null]));
    expect(after.map((s) => s.payload)).toEqual([
      { to_addr: "redacted", clinic: "redacted", days: 3 },
      { email: "redacted" },
      { redacted: { lang: "redacted" } },
      {},
      {},
    ]);
    expect(after.slice(3).map((s) => s.endpoint)).toEqual([
      `${hub}/people/redacted/`,
      `${hub}/remind?to=redacted&lang=eng`,
    ]);
    // The bystanders' schedules run on, untouched.
    expect(await Promise.all(bystanders.map(now))).toEqual(before);
    expect(before.map((s) => s.enabled)).toEqual([true, true, true]);
  });
});
