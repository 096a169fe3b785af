import type { SqlExecutor } from "@tidings/amqp";
import { hookEventNames, hookEvents } from "@tidings/contracts";
import { jsonHoldsAny } from "@tidings/service-kit";
import { newSecret } from "./signing.ts";

export interface HookRow {
  id: number;
  event: string;
  target: string;
  secret: string;
  previous_secret_expires_at: Date | string | null;
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

const HOOK_COLUMNS =
  "id, event, target, secret, previous_secret_expires_at, owner_id, created_at, updated_at";
const DELIVERY_COLUMNS =
  "id, hook_id, event, status, attempts, next_attempt_at, last_error, last_status_code, created_at, delivered_at";

/** Hooks visible to an owner: all of them for `undefined` (admin), else the owner's own. */
const ownerClause = (owner: number | null | undefined, param: number) =>
  owner === undefined
    ? { sql: "TRUE", values: [] }
    : { sql: `owner_id IS NOT DISTINCT FROM $${param}`, values: [owner] };

export async function apiUserExists(db: SqlExecutor, id: number): Promise<boolean> {
  const rows = await db.$queryRawUnsafe<unknown[]>("SELECT 1 FROM tidings_api_user WHERE id = $1", id);
  return rows.length > 0;
}

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
  return pageOf<HookRow>(
    db,
    { columns: HOOK_COLUMNS, from: `tidings_hook WHERE ${scope.sql}`, orderBy: "id DESC" },
    scope.values,
    page,
  );
}

/**
 * One page of the rows `from` (a table and its WHERE clause over `values`), ordered by `orderBy`, with the count
 * of all of them.
 */
async function pageOf<Row>(
  db: SqlExecutor,
  query: { columns: string; from: string; orderBy: string },
  values: unknown[],
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: Row[] }> {
  const [{ count }] = await db.$queryRawUnsafe<[{ count: number }]>(
    `SELECT count(*)::int AS count FROM ${query.from}`,
    ...values,
  );
  const rows = await db.$queryRawUnsafe<Row[]>(
    `SELECT ${query.columns} FROM ${query.from}
     ORDER BY ${query.orderBy} LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
    ...values,
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

export interface DeliveryFilter {
  status?: string;
  hook?: number;
  event?: string;
}

/** Deliveries (`d`) matching a DeliveryFilter given as $1 to $3 (see filterValues). */
const deliveryFilter = `($1::text IS NULL OR d.status = $1) AND ($2::int IS NULL OR d.hook_id = $2)
  AND ($3::text IS NULL OR d.event = $3)`;
const filterValues = (filter: DeliveryFilter) => [
  filter.status ?? null,
  filter.hook ?? null,
  filter.event ?? null,
];

export async function listDeliveries(
  db: SqlExecutor,
  owner: number | null | undefined,
  filter: DeliveryFilter,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: DeliveryRow[] }> {
  const scope = ownerClause(owner, 4);
  const where = `${deliveryFilter} AND d.hook_id IN (SELECT id FROM tidings_hook WHERE ${scope.sql})`;
  return pageOf<DeliveryRow>(
    db,
    {
      columns: DELIVERY_COLUMNS.split(", ")
        .map((c) => `d.${c}`)
        .join(", "),
      from: `tidings_hook_delivery d WHERE ${where}`,
      orderBy: "d.created_at DESC, d.id DESC",
    },
    [...filterValues(filter), ...scope.values],
    page,
  );
}

/**
 * A new secret for a hook; the current one stays valid (deliveries carry a signature with each) for
 * `overlapSeconds`, then only the new one signs. Returns the hook with its new secret.
 */
export async function rotateSecret(
  db: SqlExecutor,
  id: number,
  owner: number | null | undefined,
  overlapSeconds: number,
): Promise<HookRow | undefined> {
  const scope = ownerClause(owner, 4);
  const rows = await db.$queryRawUnsafe<HookRow[]>(
    `UPDATE tidings_hook SET previous_secret = secret, secret = $2,
       previous_secret_expires_at = now() + make_interval(secs => $3), updated_at = now()
     WHERE id = $1 AND ${scope.sql} RETURNING ${HOOK_COLUMNS}`,
    id,
    newSecret(),
    overlapSeconds,
    ...scope.values,
  );
  return rows[0];
}

const REDELIVER = `SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL,
  last_status_code = NULL, delivered_at = NULL`;

/**
 * Sends a delivery again (same id and body), with a fresh set of attempts. Undefined when it does not exist
 * (or is not the owner's); `pending` when it is still being tried, and then nothing changes.
 */
export async function redeliver(
  db: SqlExecutor,
  id: string,
  owner: number | null | undefined,
): Promise<DeliveryRow | "pending" | undefined> {
  const scope = ownerClause(owner, 2);
  const visible = `id = $1::uuid AND hook_id IN (SELECT id FROM tidings_hook WHERE ${scope.sql})`;
  const rows = await db.$queryRawUnsafe<DeliveryRow[]>(
    `UPDATE tidings_hook_delivery ${REDELIVER} WHERE ${visible} AND status <> 'pending'
     RETURNING ${DELIVERY_COLUMNS}`,
    id,
    ...scope.values,
  );
  if (rows[0]) {
    return rows[0];
  }
  const found = await db.$queryRawUnsafe<unknown[]>(
    `SELECT 1 FROM tidings_hook_delivery WHERE ${visible}`,
    id,
    ...scope.values,
  );
  return found.length > 0 ? "pending" : undefined;
}

/** Sends every failed delivery matching the filter again. Returns how many. */
export async function redeliverFailed(
  db: SqlExecutor,
  owner: number | null | undefined,
  filter: Omit<DeliveryFilter, "status">,
): Promise<number> {
  const scope = ownerClause(owner, 4);
  return await db.$executeRawUnsafe(
    `UPDATE tidings_hook_delivery d ${REDELIVER}
     WHERE ${deliveryFilter} AND d.hook_id IN (SELECT id FROM tidings_hook WHERE ${scope.sql})`,
    ...filterValues({ ...filter, status: "failed" }),
    ...scope.values,
  );
}

/** Seed's raw hook events: their bodies are the data alone. */
const RAW_EVENTS = hookEventNames.filter((name) => hookEvents[name].body === "raw");

/**
 * Forget (`optout_type: forget`): a delivery whose body holds the person (their identity id or an address as a
 * whole JSON string, case aside: jsonHoldsAny of @tidings/service-kit) is deleted while it is pending (it is
 * never sent), and keeps only its hook once delivered or failed (`data` becomes "redacted", or the whole body of
 * a raw event; its status, attempts and times stay for reporting). Idempotent.
 */
export async function forgetHookDeliveries(
  db: SqlExecutor,
  needles: readonly string[],
): Promise<{ deleted: number; redacted: number }> {
  const deleted = await db.$executeRawUnsafe(
    `DELETE FROM tidings_hook_delivery WHERE status = 'pending' AND ${jsonHoldsAny("body", 1)}`,
    needles,
  );
  const redacted = await db.$executeRawUnsafe(
    `UPDATE tidings_hook_delivery
     SET body = CASE WHEN event = ANY($2::text[]) THEN '"redacted"'
       ELSE json_build_object('hook', body::json -> 'hook', 'data', 'redacted')::text END
     WHERE status <> 'pending' AND ${jsonHoldsAny("body", 1)}`,
    needles,
    RAW_EVENTS,
  );
  return { deleted, redacted };
}
