// Seed's (Django's) list filters as Prisma reads them.

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
export function createdAtOrder(
  ordering: "created_at" | "-created_at" | undefined,
): [{ createdAt: "asc" | "desc" }, { id: "asc" | "desc" }] {
  const direction = ordering === "created_at" ? "asc" : "desc";
  return [{ createdAt: direction }, { id: direction }];
}
