/**
 * The import of checked rows through the APIs, a bounded number of rows in flight at a time. Each row: find the
 * identity by its number (identity's search), or create it; then subscribe it to the row's set unless it has an
 * active subscription to it already. Every create carries an Idempotency-Key derived from its body, so a request
 * retried after a lost answer (or a re-run within the key's 24 hours) is answered with what the first one made and
 * never makes a second; a re-run finds the same person by number and the same subscription, and says "already
 * there". A row that fails keeps the API's message and the others go on.
 */
import { errorText, ok, type TidingsClient, TidingsError } from "../api.ts";
import type { ImportRow } from "./check.ts";

export type ImportApi = Pick<TidingsClient, "identity" | "subscription">;

export type RowOutcome = "imported" | "subscribed" | "already there" | "failed";

export interface RowResult {
  row: number;
  number: string;
  outcome: RowOutcome;
  /** What happened, for the operator: the API's message when it failed. */
  message: string;
  identity?: string;
}

/** A short, stable digest of a string (cyrb53: not cryptographic, enough to tell two request bodies apart). */
export function digest(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

/** The Idempotency-Key of a create: what it creates and a digest of its body. */
export const idempotencyKey = (what: string, body: unknown): string =>
  `console-import:${what}:${digest(JSON.stringify(body))}`;

const ATTEMPTS = 3;

/** A call tried again (same request, same key) when the network or the service failed, or the key is in use. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const transient = !(err instanceof TidingsError) || err.status >= 500 || err.status === 409;
      if (!transient || attempt >= ATTEMPTS) {
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** The identity with this number, or a new one with the row's language, email and details. */
async function findOrCreateIdentity(
  api: ImportApi,
  row: ImportRow,
): Promise<{ id: string; created: boolean }> {
  const found = await retried(() =>
    ok(
      api.identity.GET("/api/v1/identities/search/", {
        params: { query: { filters: { details__addresses__msisdn: row.number } } },
      }),
    ),
  );
  const [existing] = found.results;
  if (existing) {
    return { id: existing.id, created: false };
  }
  const body = {
    details: {
      ...row.details,
      lang_code: row.language,
      addresses: {
        msisdn: { [row.number]: { default: true } },
        ...(row.email ? { email: { [row.email]: {} } } : {}),
      },
    },
  };
  const key = idempotencyKey(`identity:${row.number}`, body);
  const created = await retried(() =>
    ok(api.identity.POST("/api/v1/identities/", { body, params: { header: { "Idempotency-Key": key } } })),
  );
  return { id: created.id, created: true };
}

/** Subscribes the identity to the row's set unless it has an active subscription to it: true when it made one. */
async function subscribe(api: ImportApi, identity: string, row: ImportRow): Promise<boolean> {
  const active = await retried(() =>
    ok(
      api.subscription.GET("/api/v1/subscriptions/", {
        params: { query: { identity, messageset: row.set.id, active: true, limit: 1 } },
      }),
    ),
  );
  if (active.count > 0) {
    return false;
  }
  const body = { identity, messageset: row.set.id, lang: row.language, schedule: row.set.default_schedule };
  const key = idempotencyKey(`subscription:${identity}:${row.set.id}`, body);
  // 200: the identity had an active subscription to the set after all (created in between): it is kept.
  const { response } = await retried(async () => {
    const result = await api.subscription.POST("/api/v1/subscriptions/", {
      body,
      params: { header: { "Idempotency-Key": key } },
    });
    if (!result.response.ok) {
      throw new TidingsError(result.response.status, result.error);
    }
    return result;
  });
  return response.status === 201;
}

export async function importRow(api: ImportApi, row: ImportRow): Promise<RowResult> {
  const base = { row: row.row, number: row.number };
  try {
    const identity = await findOrCreateIdentity(api, row);
    const subscribed = await subscribe(api, identity.id, row);
    const outcome: RowOutcome = identity.created ? "imported" : subscribed ? "subscribed" : "already there";
    const message = identity.created
      ? `Created and subscribed to ${row.set.short_name}.`
      : subscribed
        ? `The person was already there; subscribed to ${row.set.short_name}.`
        : `Already there, subscribed to ${row.set.short_name}.`;
    return { ...base, outcome, message, identity: identity.id };
  } catch (err) {
    return { ...base, outcome: "failed", message: errorText(err) };
  }
}

/**
 * Runs `work` on every item, at most `size` at a time, in order of starting; `onDone` after each one finishes
 * (with how many have). The results are in the items' order.
 */
export async function inPool<T, R>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<R>,
  onDone: (result: R, done: number) => void = () => {},
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
      onDone(results[index] as R, ++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, items.length)) }, worker));
  return results;
}

/** Imports the rows, `concurrency` at a time, reporting each row's result and the count done as they finish. */
export const importRows = (
  api: ImportApi,
  rows: readonly ImportRow[],
  concurrency: number,
  onRow: (result: RowResult, done: number) => void,
): Promise<RowResult[]> => inPool(rows, concurrency, (row) => importRow(api, row), onRow);
