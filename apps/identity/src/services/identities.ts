import { randomUUID } from "node:crypto";
import {
  type CreateIdentityBody,
  type Identity,
  type IdentityAddress,
  type IdentityListQuery,
  type PatchIdentityBody,
  toSeedTime,
} from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import {
  decodeCursor,
  found,
  type KeysetList,
  keysetRows,
  listByCreatedAt,
  offsetCursors,
  type PageParams,
  readOrder,
} from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import {
  emptyHasKey,
  identityNotFound,
  invalidIncludeInactive,
  referenceNotFound,
  unknownFilter,
  unsupportedLookup,
} from "../errors.ts";
import { type Identity as IdentityRow, Prisma } from "../generated/prisma/client.ts";
import {
  addressPattern,
  type Details,
  keepProtectedFlags,
  normaliseAddress,
  normaliseDetails,
  usableAddresses,
} from "./addresses.ts";

export function toIdentity(row: IdentityRow): Identity {
  return {
    id: row.id,
    version: row.version,
    details: row.details as Identity["details"],
    communicate_through: row.communicateThrough,
    operator: row.operator,
    created_at: toSeedTime(row.createdAt),
    created_by: row.createdBy,
    updated_at: toSeedTime(row.updatedAt),
    updated_by: row.updatedBy,
  };
}

/** `details.addresses` flattened, each address with its flags (missing flags are false). */
export function flattenAddresses(details: Identity["details"]): IdentityAddress[] {
  const addresses = (details.addresses ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  return Object.entries(addresses).flatMap(([type, byAddress]) =>
    Object.entries(byAddress).map(([address, flags]) => ({
      type,
      address,
      default: flags.default === true,
      optedout: flags.optedout === true,
      inactive: flags.inactive === true,
      verified: flags.verified === true,
    })),
  );
}

export interface Actor {
  userId: number | null;
  correlationId?: string;
}

export interface IdentityOptions {
  defaultCountry?: string;
}

async function assertIdentitiesExist(
  db: Db | Tx,
  refs: { communicate_through?: string | null; operator?: string | null },
): Promise<void> {
  for (const field of ["communicate_through", "operator"] as const) {
    const id = refs[field];
    if (id && !(await db.identity.findUnique({ where: { id }, select: { id: true } }))) {
      throw referenceNotFound(field, id);
    }
  }
}

/** Registers every top-level details key (the DetailKey registry), on create and on update. */
export async function registerDetailKeys(tx: Tx, details: Details): Promise<void> {
  const keys = Object.keys(details);
  if (keys.length > 0) {
    await tx.detailKey.createMany({ data: keys.map((keyName) => ({ keyName })), skipDuplicates: true });
  }
}

export async function listDetailKeys(db: Db): Promise<string[]> {
  const rows = await db.detailKey.findMany({ orderBy: { keyName: "asc" } });
  return rows.map((r) => r.keyName);
}

/** Locks one identity row for the rest of the transaction; null when it does not exist. */
export async function lockIdentity(tx: Tx, id: string): Promise<IdentityRow | null> {
  await tx.$queryRaw`SELECT 1 FROM identity WHERE id = ${id}::uuid FOR UPDATE`;
  return tx.identity.findUnique({ where: { id } });
}

/** Publishes `identity.created` or `.updated` (message and hook deliveries) for a row, in the caller's transaction. */
async function announce(
  tx: Tx,
  name: "identity.created" | "identity.updated",
  row: IdentityRow,
  actor: Actor,
): Promise<Identity> {
  const identity = toIdentity(row);
  const payload = { ...identity, addresses: flattenAddresses(identity.details) };
  await publish(tx, { name, payload, correlationId: actor.correlationId });
  return identity;
}

/** Publishes `identity.updated` for a row, in the caller's transaction. */
export const announceUpdate = (tx: Tx, row: IdentityRow, actor: Actor) =>
  announce(tx, "identity.updated", row, actor);

/**
 * Stores an identity's new details (and `also`, other columns the change clears) and publishes
 * `identity.updated`, in the caller's transaction.
 */
export async function updateDetails(
  tx: Tx,
  id: string,
  details: Details,
  actor: Actor,
  also: { communicateThrough?: null } = {},
): Promise<Identity> {
  const row = await tx.identity.update({
    where: { id },
    data: { details: details as Prisma.InputJsonObject, ...also, updatedBy: actor.userId },
  });
  return announceUpdate(tx, row, actor);
}

/** Creates an identity and, in the same transaction, its `identity.created` event. */
export async function createIdentity(
  db: Db,
  input: CreateIdentityBody,
  actor: Actor,
  options: IdentityOptions = {},
): Promise<Identity> {
  const details = normaliseDetails(input.details, "body.details", options.defaultCountry);
  await assertIdentitiesExist(db, input);
  return db.$transaction(async (tx) => {
    const row = await tx.identity.create({
      data: {
        id: randomUUID(),
        version: input.version ?? 1,
        details: details as Prisma.InputJsonObject,
        communicateThrough: input.communicate_through ?? null,
        operator: input.operator ?? null,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      },
    });
    await registerDetailKeys(tx, details);
    return announce(tx, "identity.created", row, actor);
  });
}

/**
 * PUT or PATCH: the given fields replace the stored ones (`details` as a whole, as in Seed). The row is
 * locked while it changes, so an opt-out or a verification running at the same time is not lost.
 */
export async function updateIdentity(
  db: Db,
  id: string,
  input: PatchIdentityBody,
  actor: Actor,
  options: IdentityOptions = {},
): Promise<Identity> {
  const details = input.details && normaliseDetails(input.details, "body.details", options.defaultCountry);
  await assertIdentitiesExist(db, input);
  return db.$transaction(async (tx) => {
    const current = await lockIdentity(tx, id);
    if (!current) {
      throw identityNotFound(id);
    }
    const nextDetails = details && keepProtectedFlags(current.details as Details, details);
    const row = await tx.identity.update({
      where: { id },
      data: {
        version: input.version,
        details: nextDetails as Prisma.InputJsonObject | undefined,
        communicateThrough: input.communicate_through,
        operator: input.operator,
        updatedBy: actor.userId,
      },
    });
    if (nextDetails) {
      await registerDetailKeys(tx, nextDetails);
    }
    return announceUpdate(tx, row, actor);
  });
}

export async function deleteIdentity(db: Db, id: string, actor: Actor): Promise<void> {
  await db.$transaction(async (tx) => {
    const deleted = await tx.identity.deleteMany({ where: { id } });
    if (deleted.count === 0) {
      throw identityNotFound(id);
    }
    await publish(tx, { name: "identity.deleted", payload: { id }, correlationId: actor.correlationId });
  });
}

export async function getIdentity(db: Db, id: string): Promise<Identity> {
  return toIdentity(found(await db.identity.findUnique({ where: { id } }), () => identityNotFound(id)));
}

export async function listIdentities(db: Db, query: IdentityListQuery, page: PageParams) {
  const where: Prisma.IdentityWhereInput = {
    createdAt: { gte: query.created_from, lte: query.created_to },
    updatedAt: { gte: query.updated_from, lte: query.updated_to },
    communicateThrough: query.communicate_through,
    operator: query.operator,
    createdBy: query.created_by,
    updatedBy: query.updated_by,
  };
  // keyset pages (`cursor=`) are not counted: they are for lists too large to count at every page
  return listByCreatedAt(db.identity, where, page, toIdentity, {
    cursor: query.cursor,
    countKeysetPages: false,
  });
}

const PAGING_PARAMS = new Set(["limit", "offset", "cursor", "include_inactive"]);
const KEY = /^[A-Za-z0-9_.-]+$/;

/** An own property only: a key named after an inherited one (`constructor`) is a details key like any other. */
const own = (node: Record<string, unknown>, key: string): unknown =>
  Object.hasOwn(node, key) ? node[key] : undefined;

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] = (own(node, key) as Record<string, unknown> | undefined) ?? {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const existing = own(out, k);
    out[k] =
      existing && typeof existing === "object" && v && typeof v === "object"
        ? deepMerge(existing as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/**
 * The lookups Django's ORM took after a JSON field (or a key of one) in Seed's search: a filter ending in one of them
 * is that lookup, not a details key of that name. The search does `has_key` and `exact`; the others are refused.
 */
const DJANGO_LOOKUPS = new Set([
  "exact",
  "iexact",
  "contains",
  "icontains",
  "contained_by",
  "in",
  "gt",
  "gte",
  "lt",
  "lte",
  "startswith",
  "istartswith",
  "endswith",
  "iendswith",
  "range",
  "isnull",
  "regex",
  "iregex",
  "has_key",
  "has_keys",
  "has_any_keys",
]);

export interface SearchFilters {
  pattern: Record<string, unknown>;
  excludeInactive: string[];
  /** `details__[<key>__...]has_key=<key>`: the object at `path` under details (details itself when empty) has `key`. */
  hasKeys: { path: string[]; key: string }[];
}

/**
 * Parses Seed's search parameters: `details__addresses__<type>=<address>` (has that address),
 * `details__<key>[__<key>...]=<value>` (that value; `__exact` the same), `details__has_key=<key>` (details has
 * that top-level key, whatever its value) and `details__<key>[__<key>...]__has_key=<key>` (the object at that path
 * has it), `include_inactive`. Anything else is a 400 (Seed passed them to the ORM and answered 500): another
 * Django lookup (`__icontains`, `__in`, `__gt`, …) with IDENTITY_UNSUPPORTED_LOOKUP, not searched as a key.
 */
export function parseSearch(query: Record<string, string>, options: IdentityOptions = {}): SearchFilters {
  let pattern: Record<string, unknown> = {};
  const addresses: { type: string; address: string }[] = [];
  const hasKeys: SearchFilters["hasKeys"] = [];
  const unknown: string[] = [];
  const unsupported: string[] = [];
  const emptyKeys: string[] = [];
  for (const [param, value] of Object.entries(query)) {
    if (PAGING_PARAMS.has(param)) {
      continue;
    }
    let path = param.split("__");
    if (path[0] !== "details" || path.length < 2 || !path.slice(1).every((k) => KEY.test(k))) {
      unknown.push(param);
      continue;
    }
    const lookup = path.at(-1) as string;
    if (DJANGO_LOOKUPS.has(lookup)) {
      if (lookup === "has_key") {
        if (value === "") {
          emptyKeys.push(param);
        } else {
          hasKeys.push({ path: path.slice(1, -1), key: value });
        }
        continue;
      }
      if (lookup !== "exact" || path.length < 3) {
        unsupported.push(param);
        continue;
      }
      path = path.slice(0, -1);
    }
    if (path[1] === "addresses") {
      if (path.length !== 3) {
        unknown.push(param);
        continue;
      }
      const type = path[2] as string;
      const address = normaliseAddress(type, value, options.defaultCountry) ?? value;
      addresses.push({ type, address });
      pattern = deepMerge(pattern, JSON.parse(addressPattern(type, address)));
    } else {
      const node: Record<string, unknown> = {};
      setPath(node, path.slice(1), value);
      pattern = deepMerge(pattern, node);
    }
  }
  if (unknown.length > 0) {
    throw unknownFilter(unknown);
  }
  if (unsupported.length > 0) {
    throw unsupportedLookup(unsupported);
  }
  if (emptyKeys.length > 0) {
    throw emptyHasKey(emptyKeys);
  }
  const inactive = query.include_inactive;
  if (inactive !== undefined && !["true", "false", "True", "False", "1", "0"].includes(inactive)) {
    throw invalidIncludeInactive();
  }
  const excludeInactive =
    inactive !== undefined && ["false", "False", "0"].includes(inactive)
      ? addresses.map((a) => addressPattern(a.type, a.address, { inactive: true }))
      : [];
  return { pattern, excludeInactive, hasKeys };
}

/**
 * Identities matching the search filters, newest first: a JSONB containment query, which the `jsonb_path_ops` GIN
 * index serves, and for each `has_key` a key-existence test (`?`), which that index can't serve (it holds paths
 * to values, not keys): a search by `has_key` alone reads the table, one with a value filter as well reads what the
 * index finds for that.
 */
export async function searchIdentities(
  db: Db,
  filters: SearchFilters,
  page: PageParams,
  cursor: string | undefined,
): Promise<KeysetList<Identity>> {
  const conditions = [Prisma.sql`details @> ${JSON.stringify({ ...filters.pattern })}::jsonb`];
  for (const p of filters.excludeInactive) {
    conditions.push(Prisma.sql`NOT (details @> ${p}::jsonb)`);
  }
  for (const { path, key } of filters.hasKeys) {
    conditions.push(
      path.length === 0
        ? Prisma.sql`details ? ${key}`
        : Prisma.sql`COALESCE((details #> ${path}::text[]) ? ${key}, false)`,
    );
  }
  const where = Prisma.join(conditions, " AND ");
  const fetch = async (ids: { id: string }[]) => {
    const rows = await db.identity.findMany({ where: { id: { in: ids.map((r) => r.id) } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((r) => byId.get(r.id)).filter((r): r is IdentityRow => r !== undefined);
  };
  if (cursor !== undefined) {
    // newest first: past a `next` cursor are older rows, before a `previous` one newer rows, read the other way
    const at = decodeCursor(cursor);
    const asc = readOrder(at, "desc") === "asc";
    const keyset = at
      ? Prisma.sql`AND (created_at, id) ${Prisma.raw(asc ? ">" : "<")} (${at.createdAt}::timestamptz, ${at.id}::uuid)`
      : Prisma.empty;
    const ids = await db.$queryRaw<{ id: string }[]>`
      SELECT id FROM identity WHERE ${where} ${keyset}
      ORDER BY ${Prisma.raw(asc ? "created_at ASC, id ASC" : "created_at DESC, id DESC")} LIMIT ${page.limit + 1}`;
    const { rows, ...cursors } = keysetRows(await fetch(ids), at, page.limit);
    return { ...cursors, results: rows.map(toIdentity) };
  }
  const [{ count }] = await db.$queryRaw<[{ count: number }]>`
    SELECT count(*)::int AS count FROM identity WHERE ${where}`;
  const ids = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM identity WHERE ${where}
    ORDER BY created_at DESC, id DESC LIMIT ${page.limit} OFFSET ${page.offset}`;
  const rows = await fetch(ids);
  return { count, ...offsetCursors(rows, page, count), results: rows.map(toIdentity) };
}

/** Identities holding an address (containment on `details.addresses`), the first `limit` by id. */
export async function identitiesWithAddress(
  db: Db | Tx,
  type: string,
  address: string,
  limit = 2,
): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM identity WHERE details @> ${addressPattern(type, address)}::jsonb ORDER BY id LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/**
 * The usable addresses of one type (Seed's addresses endpoint): opted-out and inactive ones left out,
 * `defaultOnly` as Seed, `useCommunicateThrough` resolves one level. 404 for an unknown identity.
 */
export async function addressesFor(
  db: Db,
  id: string,
  type: string,
  options: { defaultOnly: boolean; useCommunicateThrough: boolean },
): Promise<string[]> {
  let row = await db.identity.findUnique({ where: { id } });
  if (!row) {
    throw identityNotFound(id);
  }
  if (options.useCommunicateThrough && row.communicateThrough) {
    row = (await db.identity.findUnique({ where: { id: row.communicateThrough } })) ?? row;
  }
  return usableAddresses(row.details as Details, type, options.defaultOnly);
}
