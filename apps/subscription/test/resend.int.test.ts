import type { OutboundSend } from "@tidings/contracts";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { announceContent, api, newIdentity, type Svc, sendNextNow, subscribe } from "./content-helpers.ts";
import { subscriptionTest } from "./support.ts";

const SCHEDULE = 70;
const SET = 70;

const it = subscriptionTest({
  worker: true,
  events: ["outbound.send"],
  content: (svc) => announceContent(svc, SCHEDULE, [{ id: SET, length: 3 }]),
});

const reload = (svc: Svc, id: string) => svc.db.subscription.findUniqueOrThrow({ where: { id } });

/** POST .../resend as a Seed hub sends it (no body) and the outbound.send it produced. */
async function resend(svc: Svc, capture: { named<T>(name: string): T[] }, id: string) {
  const res = await api(svc, "POST", `/api/v1/subscriptions/${id}/resend`);
  expect(res.statusCode, res.body).toBe(202);
  const answer = res.json();
  const sent = await waitFor(
    () => capture.named<OutboundSend>("outbound.send").find((s) => s.id === answer.outbound),
    { what: "the resent outbound" },
  );
  return { answer, sent };
}

describe("POST /api/v1/subscriptions/{id}/resend on subscriptions that are no longer sent", () => {
  it("resends the last message of a completed subscription (its last in the set), without changing it", async ({
    svc,
    capture,
  }) => {
    const sub = await subscribe(svc, {
      identity: newIdentity(),
      messageset: SET,
      schedule: SCHEDULE,
      next_sequence_number: 3,
    });
    // The last message is sent: the subscription completes and stays at it (as Seed's did).
    await sendNextNow(svc, sub);
    await waitFor(async () => (await reload(svc, sub.id)).completed, { what: "completion" });
    const before = await reload(svc, sub.id);
    expect(before).toMatchObject({ active: false, nextSequenceNumber: 3, processStatus: 2 });

    const { answer, sent } = await resend(svc, capture, sub.id);
    expect(answer).toMatchObject({ accepted: true, sequence_number: 3 });
    expect(sent).toMatchObject({
      content: `${SET}/3`,
      resend: true,
      to_identity: sub.identity,
      created_by_subscription: sub.id,
      sequence_number: 3,
    });
    expect(await reload(svc, sub.id)).toEqual(before);
    const message3 = await svc.db.messageCopy.findFirstOrThrow({
      where: { messagesetId: SET, sequenceNumber: 3 },
    });
    expect(await svc.db.resendRequest.findMany({ where: { subscription: sub.id } })).toMatchObject([
      { outbound: answer.outbound, message: message3.id },
    ]);
  });

  it("resends the last message sent of a deactivated subscription", async ({ svc, capture }) => {
    const sub = await subscribe(svc, {
      identity: newIdentity(),
      messageset: SET,
      schedule: SCHEDULE,
    });
    await sendNextNow(svc, sub);
    await waitFor(async () => (await reload(svc, sub.id)).nextSequenceNumber === 2, { what: "first send" });
    expect((await api(svc, "PATCH", `/api/v1/subscriptions/${sub.id}/`, { active: false })).statusCode).toBe(
      200,
    );

    const { answer, sent } = await resend(svc, capture, sub.id);
    expect(answer).toMatchObject({ accepted: true, sequence_number: 1 });
    expect(sent).toMatchObject({ content: `${SET}/1`, resend: true });
    expect(await reload(svc, sub.id)).toMatchObject({ active: false, nextSequenceNumber: 2 });
  });
});
