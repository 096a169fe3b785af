import Type, { type Static } from "typebox";
import { IsoDateTime, Json, literals, Nullable, Uuid } from "../common.ts";
import { auditFields } from "../fields.ts";

/** One address of an identity, flattened from `details.addresses[type][address]`. */
export const IdentityAddress = Type.Object({
  type: Type.String({ minLength: 1 }),
  address: Type.String({ minLength: 1 }),
  default: Type.Boolean(),
  optedout: Type.Boolean(),
  inactive: Type.Boolean(),
  verified: Type.Boolean(),
});
export type IdentityAddress = Static<typeof IdentityAddress>;

export const Identity = Type.Object({
  id: Uuid,
  version: Type.Integer({ minimum: 1 }),
  details: Json,
  communicate_through: Nullable(Uuid),
  operator: Nullable(Uuid),
  ...auditFields,
});
export type Identity = Static<typeof Identity>;

/** `identity.created` / `identity.updated`: the identity and its addresses, for local address books. */
export const IdentityChanged = Type.Object({
  ...Identity.properties,
  addresses: Type.Array(IdentityAddress),
});
export type IdentityChanged = Static<typeof IdentityChanged>;

export const IdentityDeleted = Type.Object({ id: Uuid });
export type IdentityDeleted = Static<typeof IdentityDeleted>;

const OptOutTypeSchema = literals("stop", "stopall", "unsubscribe", "forget");

/** Who opted out or in, at which address, and through what (an opt-out's and an opt-in's record alike). */
const consentRecord = {
  identity: Uuid,
  address_type: Type.String(),
  address: Type.String(),
  request_source: Type.String(),
  requestor_source_id: Nullable(Type.String()),
};

/** `optout.created`: the opt-out and the identity's details before it took effect. */
export const OptOutCreated = Type.Object({
  id: Uuid,
  optout_type: OptOutTypeSchema,
  ...consentRecord,
  reason: Nullable(Type.String()),
  topic: Nullable(Type.String()),
  created_at: IsoDateTime,
  identity_details: Json,
});
export type OptOutCreated = Static<typeof OptOutCreated>;

/** `optin.created`: the opt-in and the identity's details before it took effect. */
export const OptInCreated = Type.Object({
  id: Uuid,
  ...consentRecord,
  created_at: IsoDateTime,
  identity_details: Json,
});
export type OptInCreated = Static<typeof OptInCreated>;

/**
 * The `optout.requested` hook (Seed's raw hook, delivered without the `{hook, data}` envelope): the identity's
 * details before the opt-out took effect (as forgotten, for a `forget`).
 */
export const OptOutRequested = Type.Object({
  identity: Uuid,
  identity_details: Json,
  optout_type: OptOutTypeSchema,
  optout_reason: Nullable(Type.String()),
  optout_source: Type.String(),
});
export type OptOutRequested = Static<typeof OptOutRequested>;

/** The `optin.requested` hook (Seed's raw hook): the identity's details before the opt-in took effect. */
export const OptInRequested = Type.Object({
  identity: Uuid,
  identity_details: Json,
  optin_address_type: Type.String(),
  optin_address: Type.String(),
});
export type OptInRequested = Static<typeof OptInRequested>;

/** `identity.max_failures`: consecutive failed sends reached the threshold (once per crossing). */
export const IdentityMaxFailures = Type.Object({
  identity_id: Uuid,
  failure_count: Type.Integer({ minimum: 1 }),
});
export type IdentityMaxFailures = Static<typeof IdentityMaxFailures>;

/**
 * Every address in identity details (`details.addresses[type][address]`), e.g. the `identity_details` of a
 * `forget` opt-out: what the services must find and redact besides the identity id.
 */
export function detailAddresses(details: unknown): string[] {
  const addresses = (details as { addresses?: unknown } | null)?.addresses;
  if (!addresses || typeof addresses !== "object") {
    return [];
  }
  return Object.values(addresses).flatMap((byAddress) =>
    byAddress && typeof byAddress === "object" ? Object.keys(byAddress) : [],
  );
}
