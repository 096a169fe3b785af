import type { SqlExecutor } from "@tidings/amqp";

/**
 * SQL condition: the text expression `expr` mentions (case-insensitively) any of the strings in the text-array
 * parameter `$param`: a person's identity id and addresses, when they are forgotten. `strpos`, so the strings
 * need no LIKE escaping; empty strings match nothing.
 */
export const mentionsAny = (expr: string, param: number): string =>
  `EXISTS (SELECT 1 FROM unnest($${param}::text[]) AS forgotten(v)
           WHERE forgotten.v <> '' AND strpos(lower(${expr}), lower(forgotten.v)) > 0)`;

/**
 * Forget (`optout_type: forget`): deletes the Idempotency-Key records whose stored response mentions the person
 * (their identity id or an address), so no replayable answer keeps them. The key can then be used afresh.
 * Idempotent. Returns the number of records deleted.
 */
export const forgetIdempotencyKeys = async (db: SqlExecutor, needles: readonly string[]): Promise<number> =>
  db.$executeRawUnsafe(
    `DELETE FROM tidings_idempotency_key WHERE response_body IS NOT NULL AND ${mentionsAny("response_body", 1)}`,
    needles,
  );
