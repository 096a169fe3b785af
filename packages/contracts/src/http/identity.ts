import Type, { type Static } from "typebox";
import { Body, IsoDateTime, ListQuery, Uuid } from "../common.ts";

/** Flags on one address; unknown flags are kept. */
export const AddressFlags = Type.Object(
  {
    default: Type.Optional(Type.Boolean()),
    optedout: Type.Optional(Type.Boolean()),
    inactive: Type.Optional(Type.Boolean()),
    verified: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

/** `details`: free-form, but must hold `addresses` (type -> address -> flags). */
export const IdentityDetails = Type.Object(
  {
    addresses: Type.Record(
      Type.String({ minLength: 1, maxLength: 50 }),
      Type.Record(Type.String({ minLength: 1, maxLength: 255 }), AddressFlags),
    ),
  },
  { additionalProperties: true },
);

export const CreateIdentityBody = Body({
  version: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  details: IdentityDetails,
  communicate_through: Type.Optional(Type.Union([Uuid, Type.Null()])),
  operator: Type.Optional(Type.Union([Uuid, Type.Null()])),
});
export type CreateIdentityBody = Static<typeof CreateIdentityBody>;

export const IdentityListQuery = Type.Object({
  ...ListQuery.properties,
  created_from: Type.Optional(IsoDateTime),
  created_to: Type.Optional(IsoDateTime),
  communicate_through: Type.Optional(Uuid),
  operator: Type.Optional(Uuid),
});
export type IdentityListQuery = Static<typeof IdentityListQuery>;
