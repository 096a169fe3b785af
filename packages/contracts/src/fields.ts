// Groups of fields that several schemas share, spread into them in place (not exported from the package).
import Type, { type TOptional, type TProperties } from "typebox";
import { Actor, CursorQuery, IsoDateTime, ListQuery, Nullable, Uuid } from "./common.ts";

/**
 * The fields Seed's Inbound stores of a message, in its order: shared by the `inbound.received` REST hook and
 * message-sender's inbound API.
 */
export const seedInboundFields = {
  to_addr: Type.String(),
  /** Blank when the sender was resolved to `from_identity`, as in Seed. */
  from_addr: Type.String(),
  from_identity: Nullable(Uuid),
  content: Nullable(Type.String()),
  /** As the transport named itself (Seed's field); the channel when none did. */
  transport_name: Type.String(),
  transport_type: Nullable(Type.String()),
};

/** When a row was made and last changed. */
export const timestampFields = {
  created_at: IsoDateTime,
  updated_at: IsoDateTime,
};

/** When a row was made and last changed, and by whom (the API user, or null for the admin token and workers). */
export const auditFields = {
  created_at: IsoDateTime,
  created_by: Actor,
  updated_at: IsoDateTime,
  updated_by: Actor,
};

/** A list's query string: a page (`limit`, `offset`), then the list's own filters. */
export const listQuery = <P extends TProperties>(filters: P) =>
  Type.Object({ ...ListQuery.properties, ...filters });

/** The query string of a list ordered by creation time: a page (`limit`, `offset`, `cursor`), then its filters. */
export const keysetListQuery = <P extends TProperties>(filters: P) =>
  listQuery({ ...CursorQuery.properties, ...filters });

/** Some of an entity's fields, each optional, in the order given (e.g. a list's filters). */
export const optionalFields = <P extends TProperties, K extends keyof P & string>(fields: P, ...keys: K[]) =>
  Object.fromEntries(keys.map((key) => [key, Type.Optional(fields[key] as P[K])])) as {
    [Key in K]: TOptional<P[Key]>;
  };
