import Type, { type Static } from "typebox";
import { Actor, IsoDateTime, Json, Nullable, Uuid } from "../common.ts";

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
  created_at: IsoDateTime,
  created_by: Actor,
  updated_at: IsoDateTime,
  updated_by: Actor,
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
