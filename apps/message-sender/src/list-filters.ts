// Seed's (Django's) list filters as Prisma reads them.
import type { Order } from "@tidings/service-kit";

type Lookup = "" | "__gte" | "__gt" | "__lte" | "__lt";

/** A date-time field's filter from a query's `<field>`, `<field>__gte`, `__gt`, `__lte` and `__lt` (ISO strings). */
export function dateTimeFilter<F extends string>(
  query: Partial<Record<`${F}${Lookup}`, string>>,
  field: F,
): { equals?: string; gte?: string; gt?: string; lte?: string; lt?: string } {
  const at = (lookup: Lookup) => query[`${field}${lookup}`];
  return { equals: at(""), gte: at("__gte"), gt: at("__gt"), lte: at("__lte"), lt: at("__lt") };
}

/** Seed's `ordering=created_at|-created_at` as a list's order: newest first by default. */
export const orderOf = (ordering: "created_at" | "-created_at" | undefined): Order =>
  ordering === "created_at" ? "asc" : "desc";
