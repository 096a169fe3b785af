import { enqueue, type OutboxMessage, type SqlExecutor } from "@tidings/amqp";
import {
  assertHookData,
  type HookData,
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
  const deliveries = deliveryRows(publications);
  if (deliveries) {
    await tx.$executeRawUnsafe(insertDeliveries(1), deliveries);
  }
}

/**
 * For a change made in ONE statement (`enqueueStatement` in @tidings/amqp): the hook deliveries of `hooks` as a
 * CTE of that statement (add `cte` to its `ctes` and `values` to its values), written only if `onlyIf` (an SQL
 * condition, e.g. `EXISTS (SELECT 1 FROM changed)`) holds. `param` is the number of the parameter it uses.
 * Null when there are no hooks to publish.
 */
export function hookDeliveriesCte(
  hooks: HookEvent[],
  param: number,
  onlyIf?: string,
): { cte: string; values: unknown[] } | null {
  const deliveries = deliveryRows(hooks);
  return deliveries
    ? { cte: `hook_deliveries AS (${insertDeliveries(param, onlyIf)})`, values: [deliveries] }
    : null;
}

/** Every hook event among the publications, validated, as the JSON parameter of insertDeliveries; null: none. */
function deliveryRows(publications: Publication[]): string | null {
  const rows = publications.flatMap((p) => {
    const event = "hook" in p ? p.hook : hookOfMessage(p.name);
    if (!event) {
      return [];
    }
    // As a JSON string, so the raw body keeps these exact bytes.
    const data = JSON.stringify(assertHookData(event, "hook" in p ? p.data : p.payload));
    const { audience, body } = hookEvents[event];
    return [
      {
        event,
        data,
        actor: audience === "actor" ? (p.actor ?? null) : null,
        raw: body === "raw",
      },
    ];
  });
  return rows.length > 0 ? JSON.stringify(rows) : null;
}

/** One delivery per hook registered for each event (only the actor's hooks when one is given). */
const insertDeliveries = (param: number, onlyIf?: string) =>
  `INSERT INTO tidings_hook_delivery (id, hook_id, event, body)
   SELECT gen_random_uuid(), h.id, h.event,
     CASE WHEN p.raw THEN p.data ELSE json_build_object(
       'hook', json_build_object('id', h.id, 'event', h.event, 'target', h.target), 'data', p.data::jsonb)::text END
   FROM jsonb_to_recordset($${param}::jsonb) AS p(event text, data text, actor int, raw boolean)
   JOIN tidings_hook h ON h.event = p.event AND (p.actor IS NULL OR h.owner_id = p.actor)
   ${onlyIf ? `WHERE ${onlyIf}` : ""}`;
