/** An Ajv validate function, as fastify calls it. */
interface Validate {
  (data: unknown): unknown;
  errors?: unknown;
}

/**
 * The query parameters a schema declares boolean. Seed's hubs are Python: `requests` writes `?active=True`, Django
 * read `True`, `False`, `true`, `false`, `1` and `0`; Ajv coerces only `true` and `false`.
 */
function booleanParams(schema: unknown): string[] {
  const properties = (
    schema as { properties?: Record<string, { type?: unknown; anyOf?: { type?: unknown }[] }> }
  )?.properties;
  return Object.entries(properties ?? {})
    .filter(([, p]) => p.type === "boolean" || p.anyOf?.some((s) => s.type === "boolean"))
    .map(([name]) => name);
}

const SPELLINGS: Record<string, string> = { true: "true", false: "false", "1": "true", "0": "false" };

/**
 * Wraps a query string's validator so that the boolean parameters accept Python's and Django's spellings (`True`,
 * `False`, `1`, `0`, in any case) before Ajv coerces them; anything else is still refused by the schema.
 */
export function withSeedBooleans<V extends Validate>(schema: unknown, validate: V): V {
  const names = booleanParams(schema);
  if (names.length === 0) {
    return validate;
  }
  const wrapped = ((data: unknown) => {
    const query = data as Record<string, unknown> | null;
    for (const name of names) {
      const value = query?.[name];
      const spelled = typeof value === "string" ? SPELLINGS[value.toLowerCase()] : undefined;
      if (query && spelled) {
        query[name] = spelled;
      }
    }
    const ok = validate(data);
    wrapped.errors = validate.errors;
    return ok;
  }) as Validate;
  return wrapped as V;
}
