import { type Broker, forgetDeadLetters, type SqlExecutor } from "@tidings/amqp";
import { detailAddresses, type OptOutCreated, queuesOf, type Service } from "@tidings/contracts";

/**
 * SQL condition: the JSON text expression `expr` holds one of the strings in the text-array parameter `$param` (a
 * person's identity id and addresses, when they are forgotten) as a whole string value or object key, case aside,
 * as forgetDeadLetters of @tidings/amqp matches a dead letter: `joann@example.org`, `ann@example.org.au` and
 * `+27820001001` are not `ann@example.org` or `+2782000100`. The needle is looked for JSON-encoded, quotes
 * included (`to_json`, which escapes `"`, `\` and control characters as JSON.stringify and jsonb's text do), so
 * no LIKE or pattern escaping is needed. Empty strings match nothing. A needle inside a longer string (a message's
 * text) does not count; nor does one in JSON embedded as a string, where its quotes are escaped.
 */
export const jsonHoldsAny = (expr: string, param: number): string =>
  `EXISTS (SELECT 1 FROM unnest($${param}::text[]) AS forgotten(v)
           WHERE forgotten.v <> '' AND strpos(lower(${expr}), lower(to_json(forgotten.v)::text)) > 0)`;

/**
 * Forget (`optout_type: forget`): deletes the Idempotency-Key records whose stored response holds the person
 * (their identity id or an address, as a whole JSON string: jsonHoldsAny), so no replayable answer keeps them. The
 * key can then be used afresh. Idempotent. Returns the number of records deleted.
 */
export const forgetIdempotencyKeys = async (db: SqlExecutor, needles: readonly string[]): Promise<number> =>
  db.$executeRawUnsafe(
    `DELETE FROM tidings_idempotency_key WHERE response_body IS NOT NULL AND ${jsonHoldsAny("response_body", 1)}`,
    needles,
  );

/**
 * Forget: takes the person's addresses (and identity id) out of every API key's `allow_list` (a `team` key may then
 * no longer send to them; sends to them are refused anyway, by consent). Exact matches, case aside. Idempotent.
 * Returns the number of keys changed.
 */
export const forgetAllowListEntries = async (db: SqlExecutor, needles: readonly string[]): Promise<number> =>
  db.$executeRawUnsafe(
    `UPDATE tidings_api_token
     SET allow_list = ARRAY(SELECT a FROM unnest(allow_list) AS a WHERE lower(a) <> ALL($1::text[]))
     WHERE EXISTS (SELECT 1 FROM unnest(allow_list) AS a WHERE lower(a) = ANY($1::text[]))`,
    needles.filter((n) => n !== "").map((n) => n.toLowerCase()),
  );

/**
 * Forget, in the service's forget transaction: what every service's platform tables hold of the person goes, the
 * Idempotency-Key answers that carry them (forgetIdempotencyKeys) and their entries in API keys' allow lists
 * (forgetAllowListEntries).
 */
export async function forgetPlatformRecords(db: SqlExecutor, needles: readonly string[]): Promise<void> {
  await forgetIdempotencyKeys(db, needles);
  await forgetAllowListEntries(db, needles);
}

/** What a forget looks for in a service's records: the person's identity id and the addresses their details held. */
export const forgottenNeedles = (optout: Pick<OptOutCreated, "identity" | "identity_details">): string[] => [
  optout.identity,
  ...detailAddresses(optout.identity_details),
];

/**
 * Forget: removes the person's dead letters (their identity id or an address as a value or key anywhere in one) from
 * the dead-letter queues of every queue `service` consumes (forgetDeadLetters of @tidings/amqp). Each service does
 * it in its handler of the forget, after its database forgot them: a failure retries the handler. Returns how many
 * were removed.
 */
export const forgetOwnDeadLetters = (
  broker: Broker,
  service: Service,
  needles: readonly string[],
): Promise<number> => forgetDeadLetters(broker, queuesOf(service), needles);
