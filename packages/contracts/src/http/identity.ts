import Type, { type Static, type TSchema } from "typebox";
import {
  Body,
  CursorQuery,
  dateTimeLookups,
  IsoDateTime,
  ListQuery,
  literals,
  Nullable,
  Paginated,
  PatchBody,
  Uuid,
} from "../common.ts";
import { keysetListQuery, listQuery } from "../fields.ts";
import { Identity } from "../messages/identity.ts";

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

const identityFields = {
  version: Type.Integer({ minimum: 1 }),
  details: IdentityDetails,
  communicate_through: Nullable(Uuid),
  operator: Nullable(Uuid),
};

export const CreateIdentityBody = Body({
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, default: 1 })),
  details: IdentityDetails,
  communicate_through: Type.Optional(Nullable(Uuid)),
  operator: Type.Optional(Nullable(Uuid)),
});
export type CreateIdentityBody = Static<typeof CreateIdentityBody>;

/**
 * An identity's read-only fields, accepted and ignored on PUT and PATCH as Seed (Django REST framework) did: hubs
 * send back the whole identity they read (ndoh-hub's third-party registration PATCHes it as it came).
 */
const readOnlyIdentityFields = {
  id: Type.Optional(Type.Unknown()),
  url: Type.Optional(Type.Unknown()),
  created_at: Type.Optional(Type.Unknown()),
  created_by: Type.Optional(Type.Unknown()),
  updated_at: Type.Optional(Type.Unknown()),
  updated_by: Type.Optional(Type.Unknown()),
};

/** PUT: `details` is required; fields left out keep their value. */
export const ReplaceIdentityBody = Body({ ...CreateIdentityBody.properties, ...readOnlyIdentityFields });
export type ReplaceIdentityBody = Static<typeof ReplaceIdentityBody>;

/** PATCH: any of the fields; `details` replaces the whole object (as in Seed). */
export const PatchIdentityBody = PatchBody({ ...identityFields, ...readOnlyIdentityFields });
export type PatchIdentityBody = Static<typeof PatchIdentityBody>;

export const IdentityListQuery = keysetListQuery({
  created_from: Type.Optional(IsoDateTime),
  created_to: Type.Optional(IsoDateTime),
  updated_from: Type.Optional(IsoDateTime),
  updated_to: Type.Optional(IsoDateTime),
  communicate_through: Type.Optional(Uuid),
  operator: Type.Optional(Uuid),
  created_by: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  updated_by: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
});
export type IdentityListQuery = Static<typeof IdentityListQuery>;

/** A page of a keyset-paginated list without a count (`cursor=`): `next` and `previous` hold cursors. */
export const CursorPaginated = <T extends TSchema>(item: T) =>
  Type.Object({
    next: Nullable(Type.String()),
    previous: Nullable(Type.String()),
    results: Type.Array(item),
  });

/** `GET /identities/search/`: `details__addresses__<type>`, `details__<key>`, `include_inactive`, paging. */
export const IdentitySearchQuery = Type.Record(Type.String(), Type.String());

export const AddressesParams = Type.Object({
  id: Uuid,
  address_type: Type.String({ minLength: 1, maxLength: 50 }),
});
export type AddressesParams = Static<typeof AddressesParams>;

export const AddressesQuery = listQuery({
  /** Presence is what counts (any value): only the default address. */
  default: Type.Optional(Type.String()),
  /** Presence is what counts: the addresses of the identity this one communicates through. */
  use_communicate_through: Type.Optional(Type.String()),
});
export type AddressesQuery = Static<typeof AddressesQuery>;

export const AddressResult = Type.Object({ address: Type.String() });

export const OPTOUT_TYPES = ["stop", "stopall", "unsubscribe", "forget"] as const;
export const OptOutType = literals("stop", "stopall", "unsubscribe", "forget");
export type OptOutType = Static<typeof OptOutType>;

/** Seed's `requestor_source_id`: any text, or a number (ndoh-hub sends its Source's integer key); kept as text. */
const RequestorSourceId = Type.Union([Type.String({ maxLength: 500 }), Type.Integer()]);

export const CreateOptOutBody = Body({
  optout_type: Type.Optional(OptOutType),
  identity: Type.Optional(Nullable(Uuid)),
  address_type: Type.Optional(Type.String({ maxLength: 50 })),
  address: Type.Optional(Type.String({ maxLength: 255 })),
  request_source: Type.String({ minLength: 1, maxLength: 100 }),
  requestor_source_id: Type.Optional(Nullable(RequestorSourceId)),
  reason: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  /** Tidings: what an `unsubscribe` is from (a message set, a campaign); recorded in the consent ledger. */
  topic: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
});
export type CreateOptOutBody = Static<typeof CreateOptOutBody>;

export const OptOut = Type.Object({
  id: Uuid,
  optout_type: OptOutType,
  identity: Nullable(Uuid),
  address_type: Type.String(),
  address: Type.String(),
  request_source: Type.String(),
  requestor_source_id: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  created_at: IsoDateTime,
});
export type OptOut = Static<typeof OptOut>;

export const CreateOptInBody = Body({
  identity: Type.Optional(Nullable(Uuid)),
  address_type: Type.String({ minLength: 1, maxLength: 50 }),
  address: Type.String({ minLength: 1, maxLength: 255 }),
  request_source: Type.String({ minLength: 1, maxLength: 100 }),
  requestor_source_id: Type.Optional(Nullable(RequestorSourceId)),
});
export type CreateOptInBody = Static<typeof CreateOptInBody>;

export const OptIn = Type.Object({
  id: Uuid,
  identity: Nullable(Uuid),
  address_type: Type.String(),
  address: Type.String(),
  request_source: Type.String(),
  requestor_source_id: Nullable(Type.String()),
  created_at: IsoDateTime,
});
export type OptIn = Static<typeof OptIn>;

/** `GET /optouts/search/`: equality on these fields (unknown fields are a 400). */
export const OptOutSearchQuery = Type.Object(
  {
    ...ListQuery.properties,
    ...CursorQuery.properties,
    identity: Type.Optional(Uuid),
    optout_type: Type.Optional(OptOutType),
    address_type: Type.Optional(Type.String()),
    address: Type.Optional(Type.String()),
    request_source: Type.Optional(Type.String()),
    requestor_source_id: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
    created_from: Type.Optional(IsoDateTime),
    created_to: Type.Optional(IsoDateTime),
    /** Seed passed every parameter to Django's ORM: its lookups on `created_at` (a naive time is UTC). */
    ...dateTimeLookups("created_at"),
  },
  { additionalProperties: false },
);
export type OptOutSearchQuery = Static<typeof OptOutSearchQuery>;

/** One entry of the append-only consent ledger. */
export const ConsentEntry = Type.Object({
  id: Type.String(),
  identity: Uuid,
  action: Type.Union([Type.Literal("optout"), Type.Literal("optin")]),
  kind: Type.String(),
  scope: Type.Union([Type.Literal("address"), Type.Literal("all"), Type.Literal("topic")]),
  channel: Nullable(Type.String()),
  address: Nullable(Type.String()),
  topic: Nullable(Type.String()),
  source: Type.String(),
  source_id: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  record: Uuid,
  created_at: IsoDateTime,
  created_by: Nullable(Type.Integer()),
});
export type ConsentEntry = Static<typeof ConsentEntry>;

export const DetailKeys = Type.Object({ key_names: Type.Array(Type.String()) });

/** Seed's `message_count` webhook receiver: extra fields are accepted (hooks send whole records). */
export const MessageCountBody = Type.Object(
  {
    hook: Type.Optional(Type.Unknown()),
    data: Type.Optional(
      Type.Object(
        {
          identity: Type.Optional(Nullable(Uuid)),
          to_addr: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
          delivered: Type.Union([Type.Boolean(), Type.Literal("true"), Type.Literal("false")]),
          /**
           * Message-sender's hook sends the outbound's id: a result already counted (from the broker) counts once.
           * Any other value is accepted and not used, as Seed ignored it.
           */
          outbound_id: Type.Optional(Type.Unknown()),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);
export type MessageCountBody = Static<typeof MessageCountBody>;

export const VerifyBody = Body({
  address_type: Type.String({ minLength: 1, maxLength: 50 }),
  address: Type.String({ minLength: 1, maxLength: 255 }),
});
export type VerifyBody = Static<typeof VerifyBody>;

export const ConfirmVerifyBody = Body({
  address_type: Type.String({ minLength: 1, maxLength: 50 }),
  address: Type.String({ minLength: 1, maxLength: 255 }),
  code: Type.String({ minLength: 1, maxLength: 20 }),
});
export type ConfirmVerifyBody = Static<typeof ConfirmVerifyBody>;

export const VerificationIssued = Type.Object({ expires_at: IsoDateTime });
export const VerificationConfirmed = Type.Object({ verified: Type.Literal(true) });

/** A list of identities: limit/offset pages with a count, or keyset pages (`cursor=`). */
export const IdentityPage = Type.Union([Paginated(Identity), CursorPaginated(Identity)]);

/** A search of opt-outs: limit/offset pages with a count, or keyset pages (`cursor=`). */
export const OptOutPage = Type.Union([Paginated(OptOut), CursorPaginated(OptOut)]);

/** The Seed receiver's answer: the identity's consecutive failed sends now. */
export const MessageCountResult = Type.Object({
  identity: Type.String(),
  failed_message_count: Type.Integer(),
});
export type MessageCountResult = Static<typeof MessageCountResult>;
