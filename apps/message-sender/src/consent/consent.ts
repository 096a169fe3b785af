import { createHash } from "node:crypto";
import { type OptInCreated, type OptOutCreated, type SenderConsent, toSeedTime } from "@tidings/contracts";
import { normaliseAddress } from "@tidings/contracts/addresses";
import { statement } from "@tidings/db";
import type { Db, Tx } from "../db.ts";
import { perClient, SharedReads } from "../group-commit.ts";

/** How an address is keyed in the consent copy: the SHA-256 of its trimmed, lower-cased form. */
export const addressHash = (address: string): Buffer =>
  createHash("sha256").update(address.trim().toLowerCase(), "utf8").digest();

/**
 * An address as sends are addressed (normaliseRecipient's forms), however it was written: a phone number in E.164,
 * given with or without its `+` (gateways such as Vumi and Vonage leave it out; spaces, dashes and brackets
 * ignored), or an email lower-cased. Null when it is neither.
 */
export function sendableAddress(given: string): string | null {
  const trimmed = given.trim();
  const digits = trimmed.replace(/[\s()-]/g, "");
  return (
    normaliseAddress("msisdn", trimmed) ??
    (/^\d+$/.test(digits) ? normaliseAddress("msisdn", `+${digits}`) : null) ??
    normaliseAddress("email", trimmed)
  );
}

/** Seed's `details.addresses`: `{<type>: {<address>: {flags}}}`. */
function addressesIn(details: unknown): string[] {
  const byType = (details as { addresses?: unknown } | null)?.addresses;
  if (!byType || typeof byType !== "object") {
    return [];
  }
  return Object.values(byType as Record<string, unknown>).flatMap((byAddress) =>
    byAddress && typeof byAddress === "object" ? Object.keys(byAddress) : [],
  );
}

/**
 * The addresses an opt-out stops: `stop`, the one named; `stopall`, `forget` and an unsubscribe from everything
 * (no topic), every address the identity had. An unsubscribe from one topic stops no direct send.
 */
export function addressesStopped(optout: OptOutCreated): string[] {
  switch (optout.optout_type) {
    case "stop":
      return optout.address ? [optout.address] : [];
    case "unsubscribe":
      return optout.topic ? [] : addressesIn(optout.identity_details);
    default:
      return addressesIn(optout.identity_details);
  }
}

/**
 * Records addresses as opted out (or, with `optedOut` false, opted in again) as of `changedAt`. A change older than
 * the one recorded for an address is ignored, so a late or redelivered event never rolls consent back.
 */
export async function recordConsent(
  db: Db | Tx,
  addresses: readonly string[],
  optedOut: boolean,
  kind: string,
  changedAt: string | Date,
): Promise<void> {
  if (addresses.length === 0) {
    return;
  }
  await db.$executeRawUnsafe(
    consentChangeSql(
      "SELECT DISTINCT h, $2::boolean, $3::text, $4::timestamptz FROM unnest($1::bytea[]) AS h",
    ),
    addresses.map(addressHash),
    optedOut,
    kind,
    new Date(changedAt),
  );
}

/**
 * SQL: records the consent changes `rows` selects (address hash, opted out, kind, changed at; one row per hash) as
 * recordConsent does, for a statement that has them in hand (a status callback's report of an opt-out).
 */
export const consentChangeSql = (rows: string) => `
  INSERT INTO opted_out_address (address_hash, opted_out, kind, changed_at) ${rows}
  ON CONFLICT (address_hash) DO UPDATE SET
    opted_out = EXCLUDED.opted_out, kind = EXCLUDED.kind, changed_at = EXCLUDED.changed_at, updated_at = now()
  WHERE opted_out_address.changed_at <= EXCLUDED.changed_at`;

/** Whether an opt-out stops the person, not only addresses: `stopall`, `forget`, an unsubscribe from everything. */
const stopsPerson = (optout: OptOutCreated) =>
  optout.optout_type === "unsubscribe" ? !optout.topic : optout.optout_type !== "stop";

/**
 * Records an identity as stopped (or no longer) as of `changedAt`; an older change than the one recorded is ignored,
 * as for addresses.
 */
const recordPerson = (tx: Tx, identity: string, stopped: boolean, changedAt: string) =>
  tx.$executeRaw`
    INSERT INTO stopped_identity (identity, stopped, changed_at) VALUES (${identity}::uuid, ${stopped}, ${changedAt}::timestamptz)
    ON CONFLICT (identity) DO UPDATE SET stopped = EXCLUDED.stopped, changed_at = EXCLUDED.changed_at, updated_at = now()
    WHERE stopped_identity.changed_at <= EXCLUDED.changed_at`;

export const recordOptOut = (db: Db, optout: OptOutCreated) =>
  db.$transaction(async (tx) => {
    await recordConsent(tx, addressesStopped(optout), true, optout.optout_type, optout.created_at);
    if (stopsPerson(optout)) {
      await recordPerson(tx, optout.identity, true, optout.created_at);
    }
  });

/** An opt-in lifts its address, and the person's stop of everything: they asked for messages again. */
export const recordOptIn = (db: Db, optin: OptInCreated) =>
  db.$transaction(async (tx) => {
    await recordConsent(tx, [optin.address], false, "optin", optin.created_at);
    await recordPerson(tx, optin.identity, false, optin.created_at);
  });

/**
 * SQL: whether the address whose SHA-256 is `hash` (a bytea expression) is opted out now. Shared by isOptedOut and
 * the claim's statement.
 */
export const optedOutSql = (hash: string) =>
  `coalesce((SELECT opted_out FROM opted_out_address WHERE address_hash = ${hash}), false)`;

/**
 * A database client's consent reads, shared (`SharedReads`): the sends of a window to identities, whose address the
 * claim could not check, read their addresses' consent in one statement.
 */
export class ConsentReader extends SharedReads<Buffer, boolean> {
  constructor(db: Db) {
    super(async (hashes) => {
      const rows = await statement<{ opted_out: boolean }>(
        db,
        `SELECT ${optedOutSql("k.h")} AS opted_out FROM unnest($1::bytea[]) WITH ORDINALITY AS k(h, i) ORDER BY k.i`,
        [hashes],
      );
      return rows.map((row) => row.opted_out);
    });
  }

  isOptedOut(address: string): Promise<boolean> {
    return this.get(addressHash(address));
  }
}

/**
 * What the consent copy says of `address` (normalised by the caller: see sendableAddress): the last change recorded,
 * which every send to it is checked against (optedOutSql), or none.
 */
export async function consentOf(db: Db, address: string): Promise<SenderConsent> {
  const row = await db.optedOutAddress.findUnique({
    where: { addressHash: new Uint8Array(addressHash(address)) },
    select: { optedOut: true, kind: true, changedAt: true },
  });
  return {
    address,
    opted_out: row?.optedOut ?? false,
    kind: row?.kind ?? null,
    changed_at: toSeedTime(row?.changedAt),
  };
}

/** One reader per database client: all of its consent reads go through it. */
const consentReader = perClient((db: Db) => new ConsentReader(db));

/** Whether the address is opted out now (read after this call, with the other reads of its turn). */
export const isOptedOut = (db: Db, address: string): Promise<boolean> =>
  consentReader(db).isOptedOut(address);
