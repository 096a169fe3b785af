// Seed's (Django's) list filters as Prisma reads them.
import { type PageParams, pageSlice } from "@tidings/service-kit";
import type { Db } from "./db.ts";
import type { Prisma } from "./generated/prisma/client.ts";

type Lookup = "" | "__gte" | "__gt" | "__lte" | "__lt";

/** A date-time field's filter from a query's `<field>`, `<field>__gte`, `__gt`, `__lte` and `__lt` (ISO strings). */
export function dateTimeFilter<F extends string>(
  query: Partial<Record<`${F}${Lookup}`, string>>,
  field: F,
): { equals?: string; gte?: string; gt?: string; lte?: string; lt?: string } {
  const at = (lookup: Lookup) => query[`${field}${lookup}`];
  return { equals: at(""), gte: at("__gte"), gt: at("__gt"), lte: at("__lte"), lt: at("__lt") };
}

/** Seed's `ordering=created_at|-created_at` (newest first by default); the id breaks ties, so pages are stable. */
function createdAtOrder(
  ordering: "created_at" | "-created_at" | undefined,
): [{ createdAt: "asc" | "desc" }, { id: "asc" | "desc" }] {
  const direction = ordering === "created_at" ? "asc" : "desc";
  return [{ createdAt: direction }, { id: direction }];
}

/** What `listByCreatedAt` reads of a Prisma model: the rows matching a filter, counted, and one page of them. */
interface CreatedAtTable<Where, Row> {
  count(args: { where: Where }): Prisma.PrismaPromise<number>;
  findMany(
    args: { where: Where; orderBy: ReturnType<typeof createdAtOrder> } & ReturnType<typeof pageSlice>,
  ): Prisma.PrismaPromise<Row[]>;
}

/** One page of the rows of `table` matching `where`, in Seed's `ordering`, with the count of all, mapped. */
export async function listByCreatedAt<Where, Row, T>(
  db: Db,
  table: CreatedAtTable<Where, Row>,
  where: Where,
  ordering: "created_at" | "-created_at" | undefined,
  page: PageParams,
  map: (row: Row) => T,
): Promise<{ count: number; results: T[] }> {
  const [count, rows] = await db.$transaction([
    table.count({ where }),
    table.findMany({ where, orderBy: createdAtOrder(ordering), ...pageSlice(page) }),
  ]);
  return { count, results: rows.map(map) };
}
