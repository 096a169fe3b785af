/**
 * Keyset pages of a list ordered by (created_at, id): the `next` and `previous` links of a page name the row they
 * continue from, not an offset, so a page keeps its place while rows before it change. A hub that deactivates the
 * subscriptions it pages through (ndoh-hub's `move_nurseconnect_to_rthb`, `?active=True`, PATCH `active: false`
 * while `seed-services-client` follows `next`) would otherwise skip a page's worth of them at every page, where
 * Seed's CursorPagination (ordering `-created_at`) kept its place.
 */
import { isStorableTime, isUuid } from "@tidings/contracts";
import { badRequest } from "./errors.ts";
import { type LinkRequest, linkBase, type Page, type PageParams } from "./pagination.ts";

/** A row's place in a list: its created_at and id (ties broken by id). */
export interface Position {
  createdAt: Date;
  id: string;
}

/** A page that starts after a row (a `next` link) or ends before it (`previous`). */
export interface Cursor extends Position {
  before: boolean;
}

/** The list's order: newest first (Seed's default, `-created_at`) or oldest first (`ordering=created_at`). */
export type Order = "desc" | "asc";

/** The `next` and `previous` of a page, or null where there is none. */
export interface PageCursors {
  next: Cursor | null;
  previous: Cursor | null;
}

/** A listed page: its results, the cursors beside it and, when counted, the count of every matching row. */
export interface KeysetList<T> extends PageCursors {
  count?: number;
  results: T[];
}

/** A page without a count (identity's `cursor=` pages of large lists). */
export interface CursorPage<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

export function encodeCursor({ createdAt, id, before }: Cursor): string {
  const fields = [createdAt.toISOString(), id, ...(before ? ["before"] : [])];
  return Buffer.from(JSON.stringify(fields)).toString("base64url");
}

/** A cursor a `next`/`previous` link carries; null for `cursor=` (the first page); else 400 INVALID_CURSOR. */
export function decodeCursor(cursor: string): Cursor | null {
  if (cursor === "") {
    return null;
  }
  try {
    const fields: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    const [at, id, direction] = fields as unknown[];
    const createdAt = new Date(typeof at === "string" ? at : Number.NaN);
    // A time Postgres takes and a uuid, or the query would fail its casts (a 500), not answer this 400.
    if (
      !Array.isArray(fields) ||
      fields.length > 3 ||
      !isUuid(id) ||
      !isStorableTime(createdAt) ||
      (direction !== undefined && direction !== "before")
    ) {
      throw new Error("bad cursor");
    }
    return { createdAt, id, before: direction === "before" };
  } catch {
    throw badRequest("INVALID_CURSOR", "The cursor is not valid.", [
      { field: "querystring.cursor", message: "not a cursor this API issued" },
    ]);
  }
}

/** Prisma's `orderBy` of a list (and of the rows read for a page before a cursor: the other way). */
export const createdAtOrder = (order: Order): [{ createdAt: Order }, { id: Order }] => [
  { createdAt: order },
  { id: order },
];

const reverse = (order: Order): Order => (order === "desc" ? "asc" : "desc");

/** The Prisma filter of the rows past `cursor` in the order they are read (after it, or before it the other way). */
function past(cursor: Cursor, order: Order) {
  const op = order === "desc" ? "lt" : "gt";
  return {
    OR: [{ createdAt: { [op]: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { [op]: cursor.id } }],
  };
}

const positionOf = <Row extends Position>(row: Row | undefined, before: boolean): Cursor | null =>
  row ? { createdAt: row.createdAt, id: row.id, before } : null;

/**
 * A keyset page from the rows read past `cursor` (at most `limit + 1`, in `readOrder(cursor, order)`): the first
 * `limit` in the list's order, and the cursors beside them. Past a `next` cursor there is a previous page; before a
 * `previous` one, a next.
 */
export function keysetRows<Row extends Position>(
  read: Row[],
  cursor: Cursor | null,
  limit: number,
): { rows: Row[] } & PageCursors {
  const more = read.length > limit;
  const taken = read.slice(0, limit);
  const rows = cursor?.before ? taken.reverse() : taken;
  const [first, last] = [rows[0], rows.at(-1)];
  return cursor?.before
    ? { rows, previous: more ? positionOf(first, true) : null, next: positionOf(last, false) }
    : {
        rows,
        previous: cursor ? positionOf(first, true) : null,
        next: more ? positionOf(last, false) : null,
      };
}

/** The order the rows of a page past `cursor` are read in: the list's, or the other way before a cursor. */
export const readOrder = (cursor: Cursor | null, order: Order): Order =>
  cursor?.before ? reverse(order) : order;

/** The cursors of a page read by limit and offset (the first page, or a client's own `offset`). */
export function offsetCursors<Row extends Position>(
  rows: Row[],
  page: PageParams,
  count: number,
): PageCursors {
  return {
    previous: page.offset > 0 ? positionOf(rows[0], true) : null,
    next: page.offset + rows.length < count ? positionOf(rows.at(-1), false) : null,
  };
}

/** What `listByCreatedAt` reads of a Prisma model: the rows matching a filter, counted, and a range of them. */
export interface CreatedAtTable<Where extends object, Row extends Position> {
  count(args: { where: Where }): PromiseLike<number>;
  findMany(args: {
    where: { AND: Where[] };
    orderBy: ReturnType<typeof createdAtOrder>;
    skip?: number;
    take: number;
  }): PromiseLike<Row[]>;
}

export interface ListOptions {
  /** The request's `cursor`: a keyset page (`cursor=` for the first); absent, the page `limit`/`offset` say. */
  cursor: string | undefined;
  order?: Order;
}

/**
 * A page of the rows of `table` (a table with created_at and id) matching `where`, in `order` (newest first by
 * default), mapped: a keyset page when the request has a `cursor`, else the page `limit`/`offset` say, counted. Its
 * `next` and `previous` are cursors either way. With `countKeysetPages: false`, a keyset page has no count
 * (identity's `cursor=` pages are for lists too large to count at every page).
 */
export function listByCreatedAt<Where extends object, Row extends Position, T>(
  table: CreatedAtTable<Where, Row>,
  where: Where,
  page: PageParams,
  map: (row: Row) => T,
  options: ListOptions & { countKeysetPages: false },
): Promise<KeysetList<T>>;
export function listByCreatedAt<Where extends object, Row extends Position, T>(
  table: CreatedAtTable<Where, Row>,
  where: Where,
  page: PageParams,
  map: (row: Row) => T,
  options: ListOptions,
): Promise<KeysetList<T> & { count: number }>;
export async function listByCreatedAt<Where extends object, Row extends Position, T>(
  table: CreatedAtTable<Where, Row>,
  where: Where,
  page: PageParams,
  map: (row: Row) => T,
  { cursor, order = "desc", countKeysetPages = true }: ListOptions & { countKeysetPages?: boolean },
): Promise<KeysetList<T>> {
  if (cursor !== undefined) {
    const at = decodeCursor(cursor);
    const direction = readOrder(at, order);
    const [count, read] = await Promise.all([
      countKeysetPages ? table.count({ where }) : undefined,
      table.findMany({
        where: { AND: [where, (at ? past(at, direction) : {}) as Where] },
        orderBy: createdAtOrder(direction),
        take: page.limit + 1,
      }),
    ]);
    const { rows, ...cursors } = keysetRows(read, at, page.limit);
    return { ...(count === undefined ? {} : { count }), ...cursors, results: rows.map(map) };
  }
  const [count, rows] = await Promise.all([
    table.count({ where }),
    table.findMany({
      where: { AND: [where] },
      orderBy: createdAtOrder(order),
      skip: page.offset,
      take: page.limit,
    }),
  ]);
  return { count, ...offsetCursors(rows, page, count), results: rows.map(map) };
}

/** The absolute link to the page `cursor` names: the request's own, `cursor` set and `offset` dropped. */
export function cursorLink(request: LinkRequest, page: PageParams, cursor: Cursor | null): string | null {
  if (!cursor) {
    return null;
  }
  const url = new URL(`${linkBase(request)}${request.url}`);
  url.searchParams.set("limit", String(page.limit));
  url.searchParams.delete("offset");
  url.searchParams.set("cursor", encodeCursor(cursor));
  return url.toString();
}

/** Seed's envelope of a listed page, its links carrying cursors; without a count when the page has none. */
export function toKeysetPage<T>(
  request: LinkRequest,
  page: PageParams,
  list: KeysetList<T> & { count: number },
): Page<T>;
export function toKeysetPage<T>(
  request: LinkRequest,
  page: PageParams,
  list: KeysetList<T>,
): Page<T> | CursorPage<T>;
export function toKeysetPage<T>(
  request: LinkRequest,
  page: PageParams,
  list: KeysetList<T>,
): Page<T> | CursorPage<T> {
  const next = cursorLink(request, page, list.next);
  const previous = cursorLink(request, page, list.previous);
  return list.count === undefined
    ? { next, previous, results: list.results }
    : { count: list.count, next, previous, results: list.results };
}
