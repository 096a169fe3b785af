import { randomBytes } from "node:crypto";
import type { SqlExecutor } from "@tidings/amqp";
import { mentionsAny } from "@tidings/service-kit";

export interface HookRow {
  id: number;
  event: string;
  target: string;
  secret: string;
  owner_id: number | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface DeliveryRow {
  id: string;
  hook_id: number;
  event: string;
  status: string;
  attempts: number;
  next_attempt_at: Date | string;
  last_error: string | null;
  last_status_code: number | null;
  created_at: Date | string;
  delivered_at: Date | string | null;
}

const HOOK_COLUMNS = "id, event, target, secret, owner_id, created_at, updated_at";
const DELIVERY_COLUMNS =
  "id, hook_id, event, status, attempts, next_attempt_at, last_error, last_status_code, created_at, delivered_at";

/** Hooks visible to an owner: all of them for `undefined` (admin), else the owner's own. */
const ownerClause = (owner: number | null | undefined, param: number) =>
  owner === undefined
    ? { sql: "TRUE", values: [] }
    : { sql: `owner_id IS NOT DISTINCT FROM $${param}`, values: [owner] };

export const newSecret = () => randomBytes(24).toString("base64url");

export async function insertHook(
  db: SqlExecutor,
  event: string,
  target: string,
  owner: number | null,
): Promise<HookRow> {
  const rows = await db.$queryRawUnsafe<HookRow[]>(
    `INSERT INTO tidings_hook (event, target, secret, owner_id) VALUES ($1, $2, $3, $4) RETURNING ${HOOK_COLUMNS}`,
    event,
    target,
    newSecret(),
    owner,
  );
  return rows[0] as HookRow;
}

export async function findHook(
  db: SqlExecutor,
  id: number,
  owner?: number | null,
): Promise<HookRow | undefined> {
  const scope = ownerClause(owner, 2);
  const rows = await db.$queryRawUnsafe<HookRow[]>(
    `SELECT ${HOOK_COLUMNS} FROM tidings_hook WHERE id = $1 AND ${scope.sql}`,
    id,
    ...scope.values,
  );
  return rows[0];
}

export async function listHooks(
  db: SqlExecutor,
  owner: number | null | undefined,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: HookRow[] }> {
  const scope = ownerClause(owner, 1);
  const [{ count }] = await db.$queryRawUnsafe<[{ count: number }]>(
    `SELECT count(*)::int AS count FROM tidings_hook WHERE ${scope.sql}`,
    ...scope.values,
  );
  const n = scope.values.length;
  const rows = await db.$queryRawUnsafe<HookRow[]>(
    `SELECT ${HOOK_COLUMNS} FROM tidings_hook WHERE ${scope.sql} ORDER BY id DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
    ...scope.values,
    page.limit,
    page.offset,
  );
  return { count, rows };
}

export async function updateHook(
  db: SqlExecutor,
  id: number,
  owner: number | null | undefined,
  changes: { event?: string; target?: string },
): Promise<HookRow | undefined> {
  const scope = ownerClause(owner, 4);
  const rows = await db.$queryRawUnsafe<HookRow[]>(
    `UPDATE tidings_hook SET event = COALESCE($2, event), target = COALESCE($3, target), updated_at = now()
     WHERE id = $1 AND ${scope.sql} RETURNING ${HOOK_COLUMNS}`,
    id,
    changes.event ?? null,
    changes.target ?? null,
    ...scope.values,
  );
  return rows[0];
}

export async function deleteHook(
  db: SqlExecutor,
  id: number,
  owner: number | null | undefined,
): Promise<boolean> {
  const scope = ownerClause(owner, 2);
  const n = await db.$executeRawUnsafe(
    `DELETE FROM tidings_hook WHERE id = $1 AND ${scope.sql}`,
    id,
    ...scope.values,
  );
  return n > 0;
}

export async function listDeliveries(
  db: SqlExecutor,
  owner: number | null | undefined,
  filter: { status?: string; hook?: number },
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: DeliveryRow[] }> {
  const scope = ownerClause(owner, 3);
  const where = `($1::text IS NULL OR d.status = $1) AND ($2::int IS NULL OR d.hook_id = $2)
    AND d.hook_id IN (SELECT id FROM tidings_hook WHERE ${scope.sql})`;
  const values = [filter.status ?? null, filter.hook ?? null, ...scope.values];
  const [{ count }] = await db.$queryRawUnsafe<[{ count: number }]>(
    `SELECT count(*)::int AS count FROM tidings_hook_delivery d WHERE ${where}`,
    ...values,
  );
  const rows = await db.$queryRawUnsafe<DeliveryRow[]>(
    `SELECT ${DELIVERY_COLUMNS.split(", ")
      .map((c) => `d.${c}`)
      .join(", ")} FROM tidings_hook_delivery d WHERE ${where}
     ORDER BY d.created_at DESC, d.id DESC LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
    ...values,
    page.limit,
    page.offset,
  );
  return { count, rows };
}

export interface HookEventOptions {
  /**
   * Seed's user-scoped events: only hooks owned by this API user receive it. Undefined or null (the admin
   * token, a worker) sends to every hook of the event, like Seed's `created+` model events.
   */
  owner?: number | null;
}

/**
 * Queues `event` for every hook registered for it, in the caller's transaction: deliveries exist if and
 * only if the change commits. The body is fixed now (`{hook: {id, event, target}, data}`), so retries send
 * the same bytes. Returns the number of deliveries queued.
 */
export async function enqueueHookEvent(
  tx: SqlExecutor,
  event: string,
  data: unknown,
  options: HookEventOptions = {},
): Promise<number> {
  return tx.$executeRawUnsafe(
    `INSERT INTO tidings_hook_delivery (id, hook_id, event, body)
     SELECT gen_random_uuid(), h.id, h.event,
       json_build_object('hook', json_build_object('id', h.id, 'event', h.event, 'target', h.target), 'data', $2::jsonb)::text
     FROM tidings_hook h
     WHERE h.event = $1 AND ($3::int IS NULL OR h.owner_id = $3)`,
    event,
    JSON.stringify(data ?? null),
    options.owner ?? null,
  );
}

/**
 * Forget (`optout_type: forget`): a delivery whose body mentions the person (their identity id or an
 * address) is deleted while it is pending (it is never sent), and keeps only its hook once delivered or
 * failed (`data` becomes "redacted"; its status, attempts and times stay for reporting). Idempotent.
 */
export async function forgetHookDeliveries(
  db: SqlExecutor,
  needles: readonly string[],
): Promise<{ deleted: number; redacted: number }> {
  const deleted = await db.$executeRawUnsafe(
    `DELETE FROM tidings_hook_delivery WHERE status = 'pending' AND ${mentionsAny("body", 1)}`,
    needles,
  );
  const redacted = await db.$executeRawUnsafe(
    `UPDATE tidings_hook_delivery
     SET body = json_build_object('hook', body::json -> 'hook', 'data', 'redacted')::text
     WHERE status <> 'pending' AND ${mentionsAny("body", 1)}`,
    needles,
  );
  return { deleted, redacted };
}
