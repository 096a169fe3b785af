import { randomUUID } from "node:crypto";
import { catalog, type OptOutCreated, type ScheduleDeliver } from "@tidings/contracts";
import { UrlPolicy } from "@tidings/service-kit";
import { startHttpReceiver, testLogger, waitFor } from "@tidings/testing";
import { describe, expect, onTestFinished } from "vitest";
import { deliver } from "../src/services/delivery.ts";
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

  it("drops a delivery (a retry) of a slot fired before the forget: the person's payload is never POSTed; a later slot goes", async ({
    svc,
    api,
  }) => {
    const hub = await startHttpReceiver(() => 503);
    onTestFinished(() => hub.close());
    const endpoint = `${hub.url}/hub`;
    const schedule = await created(api, { endpoint, payload: { msisdn: "+2782000200" } });
    /** A slot of the schedule fired now (its run recorded) and its delivery, at its last attempt. */
    const fireAndDeliver = async (slot: string, payload: ScheduleDeliver["payload"]) => {
      const run = await svc.db.scheduleRun.create({
        data: {
          id: randomUUID(),
          scheduleId: schedule.id,
          slot: new Date(slot),
          trigger: "manual",
          manual: true,
        },
      });
      const command = {
        schedule_id: schedule.id,
        run_id: run.id,
        slot,
        manual: true,
        endpoint,
        payload,
        timeout_seconds: 5,
      };
      return () =>
        deliver(
          svc.db,
          command,
          { attempt: 5, log: testLogger() },
          {
            maxAttempts: 5,
            now: () => new Date(),
            guard: { policy: new UrlPolicy(undefined) },
          },
        );
    };
    const before = await fireAndDeliver("2026-05-04T09:00:00.000Z", { msisdn: "+2782000200" });

    await svc.broker.publish("optout.created", forget(randomUUID(), { msisdn: { "+2782000200": {} } }));
    await waitFor(async () => (await api.get(schedule.id)).json().enabled === false, {
      what: "schedule disabled",
    });
    await before();
    expect(hub.received).toEqual([]);
    expect(await svc.db.scheduleFailure.count({ where: { scheduleId: schedule.id } })).toBe(0);
    expect(
      await svc.db.scheduleRun.count({ where: { scheduleId: schedule.id, deliveredAt: { not: null } } }),
    ).toBe(0);

    // A slot fired after the forget (an operator's manual fire) carries the redacted payload, and goes.
    const after = await fireAndDeliver("2026-05-04T11:00:00.000Z", { msisdn: "redacted" });
    await after();
    expect(hub.received.map((r) => JSON.parse(r.body))).toEqual([{ msisdn: "redacted" }]);
  });
});
