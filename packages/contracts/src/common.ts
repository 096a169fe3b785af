import Type, { type Static, type TLiteral, type TOptional, type TProperties, type TSchema } from "typebox";

/** One of these strings: the union of their literals (`anyOf` of `const`s), in this order. */
export const literals = <const T extends string>(...values: T[]) =>
  // One TLiteral of the union as its type: what Static reads (an array type would read as never).
  Type.Union(values.map((value) => Type.Literal(value)) as [TLiteral<T>]);

export const Uuid = Type.String({ format: "uuid" });
export const IsoDateTime = Type.String({ format: "date-time" });
export const Json = Type.Record(Type.String(), Type.Unknown());
export type Json = Static<typeof Json>;

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * A request body: unknown fields are refused with a 400 naming them, so a misspelt field is an error rather
 * than silently ignored. (Seed webhook receivers accept extra fields instead: hubs send whole records.)
 */
export const Body = <P extends TProperties>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });

/** A PATCH body: the given fields, each optional, at least one; unknown fields are refused. */
export const PatchBody = <P extends TProperties>(properties: P) =>
  Type.Partial(Type.Object(properties), { additionalProperties: false, minProperties: 1 });

/** Seed's `{count, next, previous, results}` list envelope. */
export const Paginated = <T extends TSchema>(item: T) =>
  Type.Object({
    count: Type.Integer({ minimum: 0 }),
    next: Nullable(Type.String()),
    previous: Nullable(Type.String()),
    results: Type.Array(item),
  });

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, default: 0 })),
});
export type ListQuery = Static<typeof ListQuery>;

/**
 * `cursor`: a keyset page of a list ordered by creation time, what its `next` and `previous` links carry (they
 * keep their place while the rows before them change; see service-kit's `listByCreatedAt`). `cursor=` (empty) is
 * the first page.
 */
export const CursorQuery = Type.Object({
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
    requestId: Type.String(),
  }),
  /** On a 404 only: `"Not found."`, Django REST framework's body, which Seed's Python client reads. */
  detail: Type.Optional(Type.Literal("Not found.")),
});
export type ErrorResponse = Static<typeof ErrorResponse>;

/**
 * Django filter lookups of a date-time field, as Seed's lists take them: `<field>` (exactly then) and
 * `<field>__gte`, `__gt`, `__lte`, `__lt`. A value without an offset is UTC (see service-kit's `compileQuery`).
 */
export const dateTimeLookups = <F extends string>(field: F) => ({
  ...({ [field]: Type.Optional(IsoDateTime) } as Record<F, TOptional<typeof IsoDateTime>>),
  ...({
    [`${field}__gte`]: Type.Optional(IsoDateTime),
    [`${field}__gt`]: Type.Optional(IsoDateTime),
    [`${field}__lte`]: Type.Optional(IsoDateTime),
    [`${field}__lt`]: Type.Optional(IsoDateTime),
  } as Record<`${F}__${"gte" | "gt" | "lte" | "lt"}`, TOptional<typeof IsoDateTime>>),
});

/** Seed's `ordering` of a list on `created_at`: `-created_at` (newest first) when absent. */
export const CreatedAtOrdering = Type.Union([Type.Literal("created_at"), Type.Literal("-created_at")]);

export const IdParams = Type.Object({ id: Uuid });
export type IdParams = Static<typeof IdParams>;
export const IntIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
export type IntIdParams = Static<typeof IntIdParams>;

/** Who made a change: the API user's id, or null for the admin token and for workers. */
export const Actor = Nullable(Type.Integer());
