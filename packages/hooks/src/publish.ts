import { enqueue, type OutboxMessage, type SqlExecutor } from "@tidings/amqp";
import {
  assertHookData,
  type HookData,
  type HookEventName,
  hookEvents,
  hookOfMessage,
  type StandaloneHookName,
} from "@tidings/contracts";

/** The API user who acted: hook events of audience `actor` go only to their hooks (null: to every hook). */
interface Acting {
  actor?: number | null;
}

/** A hook event no catalog message carries (`optout.requested`, the scheduler's `schedule.fired` run). */
export type HookEvent = {
  [N in StandaloneHookName]: { hook: N; data: HookData<N> } & Acting;
}[StandaloneHookName];

export type Publication = (OutboxMessage & Acting) | HookEvent;

/**
 * Publishes in the caller's transaction, so that nothing is published unless the change commits: catalog
 * messages go to the outbox (sent to the broker after the commit), and every hook event among them (a message
 * the hook catalog delivers, or a standalone hook event) gets one delivery per hook registered for it, its
 * body fixed now so that every attempt sends the same bytes. Payloads and hook data are validated against
 * their catalog schemas first.
 */
export async function publish(tx: SqlExecutor, ...publications: Publication[]): Promise<void> {
  const messages = publications.filter((p): p is OutboxMessage & Acting => !("hook" in p));
  await enqueue(tx, ...messages.map(({ actor: _actor, ...message }) => message));
  for (const p of publications) {
    const event = "hook" in p ? p.hook : hookOfMessage(p.name);
    if (event) {
      await queueDeliveries(tx, event, "hook" in p ? p.data : p.payload, p.actor ?? null);
    }
  }
}

async function queueDeliveries(
  tx: SqlExecutor,
  event: HookEventName,
  data: unknown,
  actor: number | null,
): Promise<void> {
  const json = JSON.stringify(assertHookData(event, data));
  const { audience, body } = hookEvents[event];
  await tx.$executeRawUnsafe(
    `INSERT INTO tidings_hook_delivery (id, hook_id, event, body)
     SELECT gen_random_uuid(), h.id, h.event,
       CASE WHEN $4::boolean THEN $2::text ELSE json_build_object(
         'hook', json_build_object('id', h.id, 'event', h.event, 'target', h.target), 'data', $2::text::jsonb)::text END
     FROM tidings_hook h
     WHERE h.event = $1 AND ($3::int IS NULL OR h.owner_id = $3)`,
    event,
    json,
    audience === "actor" ? actor : null,
    body === "raw",
  );
}
