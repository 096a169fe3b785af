import type { ContentSchedule, MessageName } from "@tidings/contracts";
import { adminAuth, startTestService } from "@tidings/service-kit/testing";
import { captureMessages, waitFor } from "@tidings/testing";
import { expect } from "vitest";
import { contentService } from "../src/service.ts";

const EVENTS: MessageName[] = [
  "content.schedule.changed",
  "content.schedule.deleted",
  "content.messageset.changed",
  "content.messageset.deleted",
  "content.message.changed",
  "content.message.deleted",
];

export type ContentHarness = Awaited<ReturnType<typeof startContent>>;

/** The content service with its worker (the outbox relay), recording every content event it publishes. */
export async function startContent() {
  const svc = await startTestService(contentService, { worker: true });
  const capture = await captureMessages(svc.namespace, EVENTS);

  /** An admin request, its body parsed. */
  const call = async (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object) => {
    const res = await svc.app.inject({ method, url, headers: adminAuth, payload });
    return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
  };

  /** Creates through the API; fails the test unless the answer is a 201. */
  const create = async <T = ContentSchedule>(path: string, payload: object): Promise<T> => {
    const res = await call("POST", path, payload);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  /** Waits for the event `name` about entity `id`, and returns its payload. */
  const event = <T extends { id: number }>(name: MessageName, id: number) =>
    waitFor(() => capture.named<T>(name).find((e) => e.id === id), { what: `${name} for ${id}` });

  /** The names and ids of the events published since `from` (an index into the capture). */
  const eventsSince = (from: number) =>
    capture.messages.slice(from).map((m) => [m.name, (m.payload as { id: number }).id]);

  /**
   * Runs `action` and proves it published nothing. The relay publishes in commit order, so once the event of
   * a change made after `action` (a marker schedule) has arrived, an event of `action` would have arrived
   * before it; a first marker fences off the events of earlier changes still on their way.
   */
  const expectNoEvents = async (action: () => Promise<void>) => {
    const marker = async () => {
      const schedule = await create("/api/v1/schedule/", {});
      await event("content.schedule.changed", schedule.id);
      return schedule.id;
    };
    await marker();
    const from = capture.messages.length;
    await action();
    const last = await marker();
    expect(eventsSince(from)).toEqual([["content.schedule.changed", last]]);
  };

  /** Sends a request that must fail with `status` and `code`, store nothing and publish nothing. */
  const expectRejected = async (
    send: () => ReturnType<typeof call>,
    status: number,
    code: string,
    countRows: () => Promise<number>,
  ): Promise<{ code: string; message: string; details?: unknown }> => {
    let error = { code: "", message: "" };
    await expectNoEvents(async () => {
      const before = await countRows();
      const res = await send();
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(await countRows()).toBe(before);
      error = res.body.error;
    });
    return error;
  };

  return {
    svc,
    capture,
    call,
    create,
    event,
    eventsSince,
    expectNoEvents,
    expectRejected,
    async close() {
      await capture.stop();
      await svc.close();
    },
  };
}
