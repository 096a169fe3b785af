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
import type {
  Identity as IdentityRow,
  OptIn as OptInRow,
  OptOut as OptOutRow,
} from "../generated/prisma/client.ts";
import { addressesOf, type Details, hasAddress, normaliseAddress, withFlags } from "./addresses.ts";
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
 * The identity an opt-out or opt-in is about: the one named, or else the single identity holding the
 * address (Seed's messages for none and for several). Returns the locked row.
 */
async function resolveIdentity(
  tx: Tx,
  identity: string | null | undefined,
  addressType: string,
  address: string,
): Promise<IdentityRow> {
  let id = identity ?? undefined;
  if (!id) {
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
    id = matches[0] as string;
  }
  const row = await lockIdentity(tx, id);
  if (!row) {
    throw referenceNotFound("identity", id);
  }
  return row;
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
  const identity = await resolveIdentity(tx, input.identity, addressType, address);
  const before = identity.details as Details;
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
      identityId: identity.id,
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
      identityId: identity.id,
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
    // Seed: the opt-out and every opt-in of the identity lose their address; Tidings also redacts the
    // ledger's addresses and drops pending verification codes.
    await tx.optIn.updateMany({ where: { identityId: identity.id }, data: { address: REDACTED } });
    await tx.optOut.updateMany({
      where: { identityId: identity.id, address: { not: "" } },
      data: { address: REDACTED },
    });
    await tx.consentEvent.updateMany({
      where: { identityId: identity.id, address: { not: null } },
      data: { address: REDACTED },
    });
    await tx.verificationCode.deleteMany({ where: { identityId: identity.id } });
    // Hook deliveries and replayable Idempotency-Key answers that carry the person (before this opt-out's own).
    const needles = [identity.id, ...detailAddresses(before)];
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
        identity: identity.id,
        topic: type === "unsubscribe" ? (input.topic ?? null) : null,
        identity_details: before,
      },
      correlationId: actor.correlationId,
    },
    {
      hook: "optout.requested",
      data: {
        identity: identity.id,
        identity_details: type === "forget" && after ? after : before,
        optout_type: type,
        optout_reason: input.reason ?? null,
        optout_source: input.request_source,
      },
      actor: actor.userId,
    },
  );
  if (after) {
    await updateDetails(tx, identity.id, after, actor, type === "forget" ? { communicateThrough: null } : {});
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
  const identity = await resolveIdentity(tx, input.identity, input.address_type, address);
  const before = identity.details as Details;
  requireAddressOnIdentity(before, input.address_type, address);
  const row = await tx.optIn.create({
    data: {
      id: randomUUID(),
      identityId: identity.id,
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
      identityId: identity.id,
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
      payload: { ...toOptIn(row), identity: identity.id, identity_details: before },
      correlationId: actor.correlationId,
    },
    {
      hook: "optin.requested",
      data: {
        identity: identity.id,
        identity_details: before,
        optin_address_type: input.address_type,
        optin_address: address,
      },
      actor: actor.userId,
    },
  );
  await updateDetails(
    tx,
    identity.id,
    withFlags(before, [{ type: input.address_type, address }], { optedout: false }),
    actor,
  );
  return toOptIn(row);
}
