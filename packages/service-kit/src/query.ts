import type { createAjv } from "@tidings/contracts";

type Ajv = ReturnType<typeof createAjv>;

type Validate = ReturnType<Ajv["compile"]>;

interface PropertySchema {
  type?: unknown;
  format?: unknown;
  anyOf?: PropertySchema[];
}

interface QuerySchema {
  type?: unknown;
  properties?: Record<string, PropertySchema>;
  additionalProperties?: unknown;
  patternProperties?: unknown;
}

/** Whether a property schema, or one branch of its union, matches `test`. */
function declares(property: PropertySchema, test: (p: PropertySchema) => boolean): boolean {
  return test(property) || (property.anyOf ?? []).some(test);
}

function paramsWhere(schema: QuerySchema, test: (p: PropertySchema) => boolean): string[] {
  return Object.entries(schema.properties ?? {})
    .filter(([, p]) => declares(p, test))
    .map(([name]) => name);
}

const SPELLINGS: Record<string, string> = { true: "true", false: "false", "1": "true", "0": "false" };

/** A date and time with no offset: `2026-01-01T10:00:00`, `2026-01-01 10:00`, with optional fractions. */
const NAIVE_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * Reads one query parameter's value as Seed's clients write it: a boolean as Python and Django spell it (`True`,
 * `False`, `1`, `0`, in any case; Ajv coerces only `true` and `false`), and a date-time without an offset as UTC
 * (Django's `USE_TZ` default; JavaScript would read it in the process's own zone). Anything else is left to the
 * schema to accept or refuse.
 */
function seedSpelling(value: unknown, kind: "boolean" | "date-time"): unknown {
  if (typeof value !== "string") {
    return value;
  }
  if (kind === "boolean") {
    return SPELLINGS[value.toLowerCase()] ?? value;
  }
  const naive = NAIVE_DATE_TIME.exec(value);
  return naive ? `${value.replace(" ", "T")}${naive[1] ? "" : ":00"}Z` : value;
}

/**
 * The declared parameters whose schema refuses an empty value (a uuid or date-time, a boolean, a number, one of a
 * set of values, a minimum length). Seed's filters (django-filter) read `?identity=` as no filter, and Seed's
 * control interface sends `?identity=&active=True&completed=` for its "all" choices; a parameter whose schema takes
 * "" keeps it (identity's `cursor=` asks for the first keyset page; `default=` is a flag whose presence counts).
 */
function refusingEmpty(ajv: Ajv, query: QuerySchema): string[] {
  return Object.entries(query.properties ?? {})
    .filter(([, p]) => !ajv.validate(p, ""))
    .map(([name]) => name);
}

/**
 * Compiles a route's query string schema. A parameter the schema does not declare is refused with a 400 naming it
 * (a misspelt filter such as `?stauts=failed` or an unsupported one would otherwise be ignored and the list
 * returned unfiltered: a hub would act on other people's messages); only a schema that allows extra parameters
 * itself (a `Record`, as the generic identity search) takes them. A declared parameter sent empty that cannot be
 * empty is left out, as Seed did (see `refusingEmpty`), and Seed's spellings of booleans and naive date-times are
 * read first (see `seedSpelling`).
 */
export function compileQuery(ajv: Ajv, schema: unknown): Validate {
  const query = schema as QuerySchema;
  const closed =
    query?.type === "object" &&
    query.properties !== undefined &&
    query.additionalProperties === undefined &&
    query.patternProperties === undefined;
  const validate: Validate = ajv.compile(closed ? { ...query, additionalProperties: false } : query);
  const empties = refusingEmpty(ajv, query ?? {});
  const booleans = paramsWhere(query ?? {}, (p) => p.type === "boolean");
  const dateTimes = paramsWhere(query ?? {}, (p) => p.format === "date-time");
  if (empties.length === 0 && booleans.length === 0 && dateTimes.length === 0) {
    return validate;
  }
  const wrapped = ((data: unknown) => {
    const values = data as Record<string, unknown> | null;
    if (values) {
      for (const name of empties) {
        if (values[name] === "") {
          delete values[name];
        }
      }
      for (const name of booleans) {
        values[name] = seedSpelling(values[name], "boolean");
      }
      for (const name of dateTimes) {
        values[name] = seedSpelling(values[name], "date-time");
      }
    }
    const ok = validate(data);
    wrapped.errors = validate.errors;
    return ok;
  }) as Validate;
  return wrapped;
}
