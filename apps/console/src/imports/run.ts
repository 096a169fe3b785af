/**
 * The import of checked rows through the APIs, a bounded number of rows in flight at a time. Each row: find the
 * identity by its number (identity's search), or create it; then subscribe it to the row's set unless it has an
 * active subscription to it already. Every create carries an Idempotency-Key of its run, row and step, so a
 * request retried after a lost answer or a busy service is answered with what the first one made and never makes a
 * second. The keys are new in each run (a key replays even a refusal for 24 hours: a row fixed and imported again
 * must really be tried again); a re-run finds the same person by number and the same subscription, and says
 * "already there". A row that fails keeps the API's message and the others go on.
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

/** A new run's id: its requests' Idempotency-Keys are its own (getRandomValues works on plain http too). */
export const newRunId = (): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

/** The Idempotency-Key of one create in one run: each retry of it sends the same key. */
export const idempotencyKey = (run: string, what: string): string => `console-import:${run}:${what}`;

const ATTEMPTS = 5;

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
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

/** The identity with this number, or a new one with the row's language, email and details. */
async function findOrCreateIdentity(
  api: ImportApi,
  run: string,
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
  const key = idempotencyKey(run, `identity:${row.number}`);
  const created = await retried(() =>
    ok(api.identity.POST("/api/v1/identities/", { body, params: { header: { "Idempotency-Key": key } } })),
  );
  return { id: created.id, created: true };
}

/** Subscribes the identity to the row's set unless it has an active subscription to it: true when it made one. */
async function subscribe(api: ImportApi, run: string, identity: string, row: ImportRow): Promise<boolean> {
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
  const key = idempotencyKey(run, `subscription:${identity}:${row.set.id}`);
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

export async function importRow(api: ImportApi, run: string, row: ImportRow): Promise<RowResult> {
  const base = { row: row.row, number: row.number };
  let identity: { id: string; created: boolean } | undefined;
  try {
    identity = await findOrCreateIdentity(api, run, row);
    const subscribed = await subscribe(api, run, identity.id, row);
    const outcome: RowOutcome = identity.created ? "imported" : subscribed ? "subscribed" : "already there";
    const message = identity.created
      ? `Created and subscribed to ${row.set.short_name}.`
      : subscribed
        ? `The person was already there; subscribed to ${row.set.short_name}.`
        : `Already there, subscribed to ${row.set.short_name}.`;
    return { ...base, outcome, message, identity: identity.id };
  } catch (err) {
    const step = identity
      ? `${identity.created ? "Created" : "Found"} the person, but subscribing failed`
      : "Finding or creating the person failed";
    return {
      ...base,
      outcome: "failed",
      message: `${step}: ${errorText(err)}`,
      ...(identity ? { identity: identity.id } : {}),
    };
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
export function importRows(
  api: ImportApi,
  rows: readonly ImportRow[],
  concurrency: number,
  onRow: (result: RowResult, done: number) => void,
): Promise<RowResult[]> {
  const run = newRunId();
  return inPool(rows, concurrency, (row) => importRow(api, run, row), onRow);
}
