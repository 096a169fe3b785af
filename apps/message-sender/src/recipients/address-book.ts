import type { IdentityAddress, IdentityChanged } from "@tidings/contracts";
import { statement } from "@tidings/db";
import type { Db, Tx } from "../db.ts";
import { perClient, SharedReads } from "../group-commit.ts";
import type { Logger } from "../outbound/channel.ts";

/**
 * Stores an identity's addresses from identity.created/updated. An event older than the entry (by the
 * identity's updated_at) changes nothing, nor does any event for a deleted identity: late or redelivered
 * events can't roll the book back. False when the event was ignored.
 */
export async function recordIdentity(db: Db, identity: IdentityChanged): Promise<boolean> {
  const defaultAddrType = identity.details.default_addr_type;
  const { timezone, voice_days: voiceDays, voice_times: voiceTimes } = identity.details;
  const text = (value: unknown) => (typeof value === "string" ? value.slice(0, 64) : null);
  const changed = await db.$executeRaw`
    INSERT INTO address_book_entry
      (identity, addresses, communicate_through, default_addr_type, timezone, voice_days, voice_times,
       identity_updated_at, deleted, updated_at)
    VALUES (
      ${identity.id}::uuid, ${JSON.stringify(identity.addresses)}::jsonb, ${identity.communicate_through}::uuid,
      ${typeof defaultAddrType === "string" ? defaultAddrType : null}, ${text(timezone)}, ${text(voiceDays)},
      ${text(voiceTimes)}, ${identity.updated_at}::timestamptz, false, now()
    )
    ON CONFLICT (identity) DO UPDATE SET
      addresses = EXCLUDED.addresses,
      communicate_through = EXCLUDED.communicate_through,
      default_addr_type = EXCLUDED.default_addr_type,
      timezone = EXCLUDED.timezone,
      voice_days = EXCLUDED.voice_days,
      voice_times = EXCLUDED.voice_times,
      identity_updated_at = EXCLUDED.identity_updated_at,
      updated_at = now()
    WHERE NOT address_book_entry.deleted
      AND address_book_entry.identity_updated_at <= EXCLUDED.identity_updated_at`;
  return changed === 1;
}

/** identity.created / identity.updated: recorded, or logged as ignored when older than the entry. */
export async function applyIdentityEvent(
  db: Db,
  identity: IdentityChanged,
  log: Pick<Logger, "info">,
): Promise<void> {
  if (!(await recordIdentity(db, identity))) {
    log.info({ identity: identity.id }, "identity event older than the address book entry; ignored");
  }
}

/** identity.deleted: the entry becomes a tombstone with no addresses, so a late created/updated stays ignored. */
export async function forgetIdentity(db: Db, id: string): Promise<void> {
  await db.$executeRaw`
    INSERT INTO address_book_entry (identity, addresses, identity_updated_at, deleted, updated_at)
    VALUES (${id}::uuid, '[]'::jsonb, now(), true, now())
    ON CONFLICT (identity) DO UPDATE SET
      addresses = '[]'::jsonb, communicate_through = NULL, default_addr_type = NULL, timezone = NULL, voice_days = NULL,
      voice_times = NULL, deleted = true,
      updated_at = now()`;
}

/** The identity's events have not arrived yet: a passing condition, so the send is retried. */
export class NotInAddressBookError extends Error {
  override name = "NotInAddressBookError";
  constructor(readonly identity: string) {
    super(`identity ${identity} is not in the address book yet`);
  }
}

/** Where a send to an identity goes: its address, or none (`optedOut` when it has some, all opted out). */
export interface Resolved {
  address: string | null;
  optedOut: boolean;
}

/**
 * The address of `type` to send to: the default one that is neither opted out nor inactive, else the first
 * such address. None when there is no such address; opted out when the only ones left are opted out.
 */
function pickAddress(addresses: readonly IdentityAddress[], type: string): Resolved {
  const ofType = addresses.filter((a) => a.type === type && !a.inactive);
  const usable = ofType.filter((a) => !a.optedout);
  const address = (usable.find((a) => a.default) ?? usable[0])?.address ?? null;
  return { address, optedOut: address === null && ofType.length > 0 };
}

/** An identity's address-book entry as a send reads it. */
export interface BookEntry {
  forgotten: boolean;
  addresses: IdentityAddress[];
  defaultAddrType: string | null;
  communicateThrough: string | null;
  /** The person stopped everything (stopall, forget, an unsubscribe from all) and has not opted in since. */
  stopped: boolean;
}

/**
 * A database client's address-book reads for sends, shared (`SharedReads`, as its consent reads): the sends of a
 * claim window read their identities' entries in one statement, by key. A worker read each entry through Prisma's
 * query engine, twice a send (forgotten? then its address).
 */
export class AddressBookReader extends SharedReads<string, BookEntry | null> {
  constructor(db: Db) {
    super(async (identities) => {
      const rows = await statement<{
        found: boolean;
        forgotten: boolean;
        addresses: IdentityAddress[] | null;
        default_addr_type: string | null;
        communicate_through: string | null;
        stopped: boolean;
      }>(
        db,
        `SELECT e.identity IS NOT NULL AS found, e.forgotten_at IS NOT NULL AS forgotten, e.addresses,
           e.default_addr_type, e.communicate_through::text,
           coalesce((SELECT stopped FROM stopped_identity s WHERE s.identity = k.identity), false) AS stopped
         FROM unnest($1::uuid[]) WITH ORDINALITY AS k(identity, i)
         LEFT JOIN LATERAL (SELECT * FROM address_book_entry WHERE identity = k.identity) e ON true
         ORDER BY k.i`,
        [identities],
      );
      return rows.map((row) =>
        row.found
          ? {
              forgotten: row.forgotten,
              addresses: row.addresses ?? [],
              defaultAddrType: row.default_addr_type,
              communicateThrough: row.communicate_through,
              stopped: row.stopped,
            }
          : null,
      );
    });
  }

  /** The identity's entry, read after this call; null when the book has none. */
  entry(identity: string): Promise<BookEntry | null> {
    return this.get(identity);
  }
}

/** One reader per database client: all of its sends' address-book reads go through it. */
export const addressBook = perClient((db: Db) => new AddressBookReader(db));

/**
 * Resolves `to_identity` to an address through the address book, following `communicate_through` (one hop,
 * as Seed does) and using that identity's `default_addr_type` (msisdn when unset). No address when the identity
 * has no usable one (or was deleted); opted out when the person, or the one it communicates through, stopped
 * everything (whatever addresses either holds now); throws NotInAddressBookError when an identity is not known yet.
 */
export async function resolveAddress(db: Db, identityId: string): Promise<Resolved> {
  const entry = await findEntry(db, identityId);
  const target = entry.communicateThrough ? await findEntry(db, entry.communicateThrough) : entry;
  if (entry.stopped || target.stopped) {
    return { address: null, optedOut: true };
  }
  return pickAddress(target.addresses, target.defaultAddrType ?? "msisdn");
}

async function findEntry(db: Db, identity: string): Promise<BookEntry> {
  const entry = await addressBook(db).entry(identity);
  if (!entry) {
    throw new NotInAddressBookError(identity);
  }
  return entry;
}

/** The days and hours the identity takes calls (its `details.voice_days`, `voice_times`), as the book has them. */
export async function identityVoiceHours(db: Db, identity: string) {
  const entry = await db.addressBookEntry.findUnique({
    where: { identity },
    select: { voiceDays: true, voiceTimes: true },
  });
  return { voiceDays: entry?.voiceDays ?? null, voiceTimes: entry?.voiceTimes ?? null };
}

/** The identity's time zone (its `details.timezone`, for sending windows), if the address book has one. */
export async function identityZone(db: Db, identity: string): Promise<string | null> {
  return (await db.addressBookEntry.findUnique({ where: { identity } }))?.timezone ?? null;
}

/**
 * SQL: the identity whose (usable or not) address `address` (a text expression) is, from the address book; the
 * latest changed if several; NULL when none. Shared by identityWithAddress and the claim's statement.
 */
export const identityWithAddressSql = (address: string) => `(
  SELECT identity::text FROM address_book_entry
  WHERE NOT deleted AND addresses @> jsonb_build_array(jsonb_build_object('address', ${address}))
  ORDER BY identity_updated_at DESC LIMIT 1)`;

/** The identity whose (usable or not) address this is, from the address book; the latest changed if several. */
export async function identityWithAddress(db: Db | Tx, address: string): Promise<string | null> {
  const [row] = await db.$queryRawUnsafe<{ identity: string | null }[]>(
    `SELECT ${identityWithAddressSql("$1::text")} AS identity`,
    address,
  );
  return row?.identity ?? null;
}
