import { randomUUID } from "node:crypto";
import {
  type ConsentEntry,
  type CreateOptInBody,
  type CreateOptOutBody,
  detailAddresses,
  type OptIn,
  type OptOut,
  type OptOutType,
  toSeedTime,
} from "@tidings/contracts";
import { forgetHookDeliveries, publish } from "@tidings/hooks";
import { forgetPlatformRecords } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import {
  addressAmbiguous,
  addressNotFound,
  addressNotOnIdentity,
  addressRequired,
  referenceNotFound,
} from "../errors.ts";
import type { OptIn as OptInRow, OptOut as OptOutRow } from "../generated/prisma/client.ts";
import {
  type AddressMap,
  addressesOf,
  type Details,
  hasAddress,
  normaliseAddress,
  withFlags,
} from "./addresses.ts";
import {
  type Actor,
  type IdentityOptions,
  identitiesWithAddress,
  lockIdentity,
  updateDetails,
} from "./identities.ts";

/** Seed's `requestor_source_id` as stored: text (a hub may send its source's integer key). */
const sourceIdOf = (input: { requestor_source_id?: string | number | null }) =>
  input.requestor_source_id == null ? null : String(input.requestor_source_id);

export const REDACTED = "redacted";

export const toOptOut = (row: OptOutRow): OptOut => ({
  id: row.id,
  optout_type: row.optoutType as OptOutType,
  identity: row.identityId,
  address_type: row.addressType,
  address: row.address,
  request_source: row.requestSource,
  requestor_source_id: row.requestorSourceId,
  reason: row.reason,
  created_at: toSeedTime(row.createdAt),
});

const toOptIn = (row: OptInRow): OptIn => ({
  id: row.id,
  identity: row.identityId,
  address_type: row.addressType,
  address: row.address,
  request_source: row.requestSource,
  requestor_source_id: row.requestorSourceId,
  created_at: toSeedTime(row.createdAt),
});

/**
 * The id of the identity an opt-out or opt-in is about: the one named, or else the single identity holding the
 * address (Seed's messages for none and for several).
 */
async function identityIdOf(
  tx: Tx,
  identity: string | null | undefined,
  addressType: string,
  address: string,
): Promise<string> {
  if (identity) {
    return identity;
  }
  if (!addressType || !address) {
    throw addressRequired();
  }
  const matches = await identitiesWithAddress(tx, addressType, address);
  if (matches.length === 0) {
    throw addressNotFound("There is no identity with this address.");
  }
  if (matches.length > 1) {
    throw addressAmbiguous();
  }
  return matches[0] as string;
}

/** The person an opt-out or opt-in is about. */
interface Person {
  id: string;
  /** An identity deleted since, which only a `forget` finds (deletedPerson); otherwise its row is locked. */
  deleted: boolean;
  /** Their details before the opt-out: the identity's, or what the consent records knew of a deleted one. */
  details: Details;
  /** A deleted identity's opt-out and opt-in rows (its ledger's `record_id`s): the delete left them no identity. */
  records: string[];
}

/**
 * A deleted identity as its consent ledger (which keeps the id) still knows it: the opt-out and opt-in rows its
 * entries record, and as `details.addresses` (`{<type>: {<address>: {}}}`) every address, not yet redacted, of its
 * entries (each the address of its opt-out or opt-in, written with it). Null when the ledger has no entry for the id.
 */
async function deletedPerson(tx: Tx, id: string): Promise<Person | null> {
  const entries = await tx.consentEvent.findMany({
    where: { identityId: id },
    select: { channel: true, address: true, recordId: true },
  });
  if (entries.length === 0) {
    return null;
  }
  const addresses: AddressMap = {};
  for (const { channel, address } of entries) {
    if (address && address !== REDACTED) {
      const type = channel ?? "";
      addresses[type] = { ...addresses[type], [address]: {} };
    }
  }
  return { id, deleted: true, details: { addresses }, records: entries.map((e) => e.recordId) };
}

/**
 * The person an opt-out or opt-in is about (identityIdOf), the identity row locked; with `orDeleted` (a `forget`), an
 * identity deleted since is what its consent ledger knows of it (deletedPerson). 400 for an identity neither knows.
 */
async function resolvePerson(
  tx: Tx,
  identity: string | null | undefined,
  addressType: string,
  address: string,
  orDeleted = false,
): Promise<Person> {
  const id = await identityIdOf(tx, identity, addressType, address);
  const row = await lockIdentity(tx, id);
  const person = row
    ? { id, deleted: false, details: row.details as Details, records: [] }
    : orDeleted
      ? await deletedPerson(tx, id)
      : null;
  if (!person) {
    throw referenceNotFound("identity", id);
  }
  return person;
}

function requireAddressOnIdentity(details: Details, type: string, address: string): void {
  if (!hasAddress(details, type, address)) {
    throw addressNotOnIdentity(`The identity has no ${type || "such"} address like this.`);
  }
}

/** What `forget` leaves of details: every key but `addresses` redacted, `addresses` emptied. */
function forgottenDetails(details: Details): Details {
  const out: Details = { addresses: {} };
  for (const key of Object.keys(details)) {
    if (key !== "addresses") {
      out[key] = REDACTED;
    }
  }
  return out;
}

const SCOPES: Record<OptOutType, ConsentEntry["scope"]> = {
  stop: "address",
  stopall: "all",
  forget: "all",
  unsubscribe: "topic",
};

/** A `record…` consent change (below) as a service of its own: run in a transaction of its own. */
const inOwnTransaction =
  <I, R>(record: (tx: Tx, input: I, actor: Actor, options: IdentityOptions) => Promise<R>) =>
  (db: Db, input: I, actor: Actor, options: IdentityOptions = {}): Promise<R> =>
    db.$transaction((tx) => record(tx, input, actor, options));

/**
 * Records an opt-out and applies it (Seed semantics), with its consent-ledger entry and `optout.created`
 * (carrying the details before the change), in one transaction with the identity row locked.
 */
export const createOptOut = inOwnTransaction(recordOptOut);

/** Records an opt-in: the address (which must be on the identity) is no longer opted out. */
export const createOptIn = inOwnTransaction(recordOptIn);

/**
 * A consent change's options: `at`, when the person asked, for a change a message asks for (an inbound keyword, a
 * provider's report), handled after it was made: the records and `optout.created` / `optin.created` carry it as
 * their `created_at`, so consent copies order the changes as the person made them, not as they were handled.
 */
export interface ConsentOptions extends IdentityOptions {
  at?: Date;
}

/** createOptOut inside the caller's transaction. */
export async function recordOptOut(
  tx: Tx,
  input: CreateOptOutBody,
  actor: Actor,
  options: ConsentOptions = {},
): Promise<OptOut> {
  const type: OptOutType = input.optout_type ?? "stop";
  const addressType = input.address_type ?? "";
  const rawAddress = input.address ?? "";
  const address =
    rawAddress && (normaliseAddress(addressType, rawAddress, options.defaultCountry) ?? rawAddress);
  const person = await resolvePerson(tx, input.identity, addressType, address, type === "forget");
  const before = person.details;
  let after: Details | undefined;
  if (type === "stop") {
    requireAddressOnIdentity(before, addressType, address);
    after = withFlags(before, [{ type: addressType, address }], { optedout: true });
  } else if (type === "stopall") {
    const all = Object.entries(addressesOf(before)).flatMap(([t, byAddress]) =>
      Object.keys(byAddress).map((a) => ({ type: t, address: a })),
    );
    after = withFlags(before, all, { optedout: true });
  } else if (type === "forget") {
    after = forgottenDetails(before);
  }
  const recordAddress = type === "forget" && address ? REDACTED : address;
  const row = await tx.optOut.create({
    data: {
      id: randomUUID(),
      // A deleted identity's forget: no identity (as its earlier opt-outs since the delete); the ledger keeps the id.
      identityId: person.deleted ? null : person.id,
      optoutType: type,
      addressType,
      address: recordAddress,
      requestSource: input.request_source,
      requestorSourceId: sourceIdOf(input),
      reason: input.reason ?? null,
      createdBy: actor.userId,
      createdAt: options.at,
    },
  });
  await tx.consentEvent.create({
    data: {
      identityId: person.id,
      action: "optout",
      kind: type,
      // An unsubscribe without a topic is from everything.
      scope: type === "unsubscribe" && !input.topic ? "all" : SCOPES[type],
      channel: addressType || null,
      address: recordAddress || null,
      topic: type === "unsubscribe" ? (input.topic ?? null) : null,
      source: input.request_source,
      sourceId: sourceIdOf(input),
      reason: input.reason ?? null,
      recordId: row.id,
      createdBy: actor.userId,
      createdAt: options.at,
    },
  });
  if (type === "forget") {
    // Seed: the opt-out and every opt-in of the identity lose their address (a deleted identity's: those its
    // ledger records); Tidings also redacts the ledger's addresses and drops pending verification codes.
    const theirs = { OR: [{ identityId: person.id }, { id: { in: person.records } }] };
    await tx.optIn.updateMany({ where: theirs, data: { address: REDACTED } });
    await tx.optOut.updateMany({ where: { ...theirs, address: { not: "" } }, data: { address: REDACTED } });
    await tx.consentEvent.updateMany({
      where: { identityId: person.id, address: { not: null } },
      data: { address: REDACTED },
    });
    await tx.verificationCode.deleteMany({ where: { identityId: person.id } });
    // Hook deliveries and replayable Idempotency-Key answers that carry the person (before this opt-out's own).
    const needles = [person.id, ...detailAddresses(before)];
    await forgetHookDeliveries(tx, needles);
    await forgetPlatformRecords(tx, needles);
  }
  // With Seed's raw `optout.requested` hook, to the requesting user's hooks (every hook for the admin token); a
  // forget's carries the details as forgotten, not the person.
  await publish(
    tx,
    {
      name: "optout.created",
      payload: {
        ...toOptOut(row),
        identity: person.id,
        topic: type === "unsubscribe" ? (input.topic ?? null) : null,
        identity_details: before,
      },
      correlationId: actor.correlationId,
    },
    {
      hook: "optout.requested",
      data: {
        identity: person.id,
        identity_details: type === "forget" && after ? after : before,
        optout_type: type,
        optout_reason: input.reason ?? null,
        optout_source: input.request_source,
      },
      actor: actor.userId,
    },
  );
  if (after && !person.deleted) {
    await updateDetails(tx, person.id, after, actor, type === "forget" ? { communicateThrough: null } : {});
  }
  return toOptOut(row);
}

/** createOptIn inside the caller's transaction. */
export async function recordOptIn(
  tx: Tx,
  input: CreateOptInBody,
  actor: Actor,
  options: ConsentOptions = {},
): Promise<OptIn> {
  const address =
    normaliseAddress(input.address_type, input.address, options.defaultCountry) ?? input.address;
  const person = await resolvePerson(tx, input.identity, input.address_type, address);
  const before = person.details;
  requireAddressOnIdentity(before, input.address_type, address);
  const row = await tx.optIn.create({
    data: {
      id: randomUUID(),
      identityId: person.id,
      addressType: input.address_type,
      address,
      requestSource: input.request_source,
      requestorSourceId: sourceIdOf(input),
      createdBy: actor.userId,
      createdAt: options.at,
    },
  });
  await tx.consentEvent.create({
    data: {
      identityId: person.id,
      action: "optin",
      kind: "optin",
      scope: "address",
      channel: input.address_type,
      address,
      source: input.request_source,
      sourceId: sourceIdOf(input),
      recordId: row.id,
      createdBy: actor.userId,
      createdAt: options.at,
    },
  });
  await publish(
    tx,
    {
      name: "optin.created",
      payload: { ...toOptIn(row), identity: person.id, identity_details: before },
      correlationId: actor.correlationId,
    },
    {
      hook: "optin.requested",
      data: {
        identity: person.id,
        identity_details: before,
        optin_address_type: input.address_type,
        optin_address: address,
      },
      actor: actor.userId,
    },
  );
  await updateDetails(
    tx,
    person.id,
    withFlags(before, [{ type: input.address_type, address }], { optedout: false }),
    actor,
  );
  return toOptIn(row);
}
