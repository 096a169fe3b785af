import { isStorableTime, isUuid } from "@tidings/contracts";
import { type LinkRequest, linkBase, type PageParams, pageParams, toPage } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { invalidCursor, invalidInteger } from "../errors.ts";
import type { Prisma } from "../generated/prisma/client.ts";

/** A keyset position: the last row's created_at and id (lists are newest first, ties by id). */
export interface Position {
  createdAt: Date;
  id: string;
}

/** A list page: limit/offset with a count, or a keyset page (`cursor=`) with the position of the next. */
export type ListResult<T> =
  | { kind: "offset"; count: number; results: T[] }
  | { kind: "cursor"; next: Position | null; results: T[] };

/** Lists are newest first, ties by id. */
const NEWEST_FIRST = [{ createdAt: "desc" as const }, { id: "desc" as const }];

/** The position of the next keyset page: its last row, when one row more than `limit` was read. */
export function nextPosition(rows: Position[], limit: number): Position | null {
  const last = rows[limit - 1];
  return rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null;
}

/** What `listNewestFirst` reads of a Prisma model: the rows matching a filter, counted, and a range of them. */
export interface NewestFirstTable<Where extends object, Row> {
  count(args: { where: Where }): Prisma.PrismaPromise<number>;
  findMany(args: {
    where: { AND: Where[] };
    orderBy: typeof NEWEST_FIRST;
    skip?: number;
    take: number;
  }): Prisma.PrismaPromise<Row[]>;
}

/**
 * A list page of the rows of `table` matching `where` (a table with created_at and id), newest first: a
 * keyset page when the request has `cursor`, else an offset page with the `count` of all.
 */
export async function listNewestFirst<Where extends object, Row extends Position, T>(
  db: Db,
  table: NewestFirstTable<Where, Row>,
  where: Where,
  cursor: string | undefined,
  page: PageParams,
  map: (row: Row) => T,
): Promise<ListResult<T>> {
  const find = (after: object, range: { skip?: number; take: number }) =>
    table.findMany({ where: { AND: [where, after as Where] }, orderBy: NEWEST_FIRST, ...range });
  if (cursor !== undefined) {
    const p = decodeCursor(cursor);
    const after = p
      ? { OR: [{ createdAt: { lt: p.createdAt } }, { createdAt: p.createdAt, id: { lt: p.id } }] }
      : {};
    const rows = await find(after, { take: page.limit + 1 });
    return {
      kind: "cursor",
      next: nextPosition(rows, page.limit),
      results: rows.slice(0, page.limit).map(map),
    };
  }
  const [total, rows] = await db.$transaction([
    table.count({ where }),
    find({}, { skip: page.offset, take: page.limit }),
  ]);
  return { kind: "offset", count: total, results: rows.map(map) };
}

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.createdAt.toISOString(), p.id])).toString("base64url");
}

/**
 * The position after which the page starts; null for `cursor=` (the first page). A cursor that does not hold a time
 * Postgres takes and a uuid (one not made by `encodeCursor`) is 400 IDENTITY_INVALID_CURSOR, never a failed cast.
 */
export function decodeCursor(cursor: string): Position | null {
  if (cursor === "") {
    return null;
  }
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown];
    const createdAt = new Date(typeof at === "string" ? at : Number.NaN);
    if (!isUuid(id) || !isStorableTime(createdAt)) {
      throw new Error("bad cursor");
    }
    return { createdAt, id };
  } catch {
    throw invalidCursor();
  }
}

/** The absolute link to the page after `next` (same query, cursor replaced). */
export function cursorLink(request: LinkRequest, next: Position | null): string | null {
  if (!next) {
    return null;
  }
  const base = linkBase(request);
  const url = new URL(`${base}${request.url}`);
  url.searchParams.set("cursor", encodeCursor(next));
  url.searchParams.delete("offset");
  return url.toString();
}

function intParam(query: Record<string, string>, name: string, min: number, max: number): number | undefined {
  const raw = query[name];
  if (raw === undefined) {
    return undefined;
  }
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw invalidInteger(name, min, max);
  }
  return value;
}

/** The page of a search, whose free-form query the schema cannot type: `limit` 1..1000, `offset` from 0. */
export const searchPage = (query: Record<string, string>): PageParams =>
  pageParams({
    limit: intParam(query, "limit", 1, 1000),
    offset: intParam(query, "offset", 0, Number.MAX_SAFE_INTEGER),
  });

/** The answer to a list request: Seed's `{count, next, previous, results}`, or a keyset page. */
export function respondList<T>(
  request: LinkRequest & { query: unknown },
  result: ListResult<T>,
  page: PageParams,
) {
  if (result.kind === "cursor") {
    return { next: cursorLink(request, result.next), previous: null, results: result.results };
  }
  return toPage(request as never, page, result.count, result.results);
}
