/** Sample values that satisfy a JSON schema (OpenAPI 3.0 flavour): the documents' examples, and the fuzzer's baselines. */

export type Schema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  default?: unknown;
  example?: unknown;
  examples?: unknown[];
  $ref?: string;
  nullable?: boolean;
};

export const typesOf = (schema: Schema): string[] =>
  Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];

/** Common valid values, tried against a string schema's `pattern`. */
export const PATTERN_CANDIDATES = [
  "+27820001001",
  "eng_ZA",
  "en",
  "x",
  "1",
  "08:00",
  "0 8 * * 1",
  "1 days",
  "fuzz@example.org",
  "http://127.0.0.1:9/fuzz",
  "2026-01-05",
  "2026-01-05T09:00:00.000Z",
  "6f1d8a52-3c4b-4e8a-9b7e-2d5c1a0f9e37",
  "LOG",
  "fuzz/topic",
  "abc",
];

function patternSample(schema: Schema): string | undefined {
  if (typeof schema.pattern !== "string") {
    return undefined;
  }
  const pattern = new RegExp(schema.pattern, "u");
  return PATTERN_CANDIDATES.find((c) => pattern.test(c) && c.length >= (schema.minLength ?? 0));
}

/** Resolves a `$ref` (`#/components/schemas/<name>`) to its schema. */
export type RefResolver = (ref: string) => Schema | undefined;

/**
 * A value the schema would plausibly accept (good enough to get past validation of the other fields); `resolve`
 * follows `$ref`s (without it a reference samples as null).
 */
export function sample(schema: Schema | undefined, depth = 0, resolve?: RefResolver): unknown {
  if (schema?.$ref) {
    return sample(resolve?.(schema.$ref), depth + 1, resolve);
  }
  if (!schema || depth > 8) {
    return null;
  }
  if (schema.const !== undefined) {
    return schema.const;
  }
  if (schema.enum) {
    return schema.enum[0];
  }
  if (schema.example !== undefined) {
    return schema.example;
  }
  if (schema.examples?.length) {
    return schema.examples[0];
  }
  if (schema.default !== undefined) {
    return schema.default;
  }
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const branch =
      branches.find((b) => !typesOf(b).includes("null") && !(b.nullable && b.enum?.[0] === null)) ??
      branches[0];
    return sample(branch, depth + 1, resolve);
  }
  if (schema.allOf) {
    return Object.assign({}, ...schema.allOf.map((s) => sample(s, depth + 1, resolve)));
  }
  const type = typesOf(schema).find((t) => t !== "null") ?? (schema.properties ? "object" : undefined);
  switch (type) {
    case "object":
      return Object.fromEntries(
        Object.entries(schema.properties ?? {})
          // An unconstrained property ({}: accepted and ignored, as Seed's read-only fields) is left out.
          .filter(([, s]) => Object.keys(s).length > 0)
          .map(([k, s]) => [k, sample(s, depth + 1, resolve)]),
      );
    case "array":
      return Array.from({ length: schema.minItems ?? 1 }, () => sample(schema.items, depth + 1, resolve));
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    case "string":
      switch (schema.format) {
        case "uuid":
          return "6f1d8a52-3c4b-4e8a-9b7e-2d5c1a0f9e37";
        case "date-time":
          // As the answers render a time (toSeedTime); a request may give any number of fraction digits.
          return "2026-01-05T09:00:00.000000Z";
        case "date":
          return "2026-01-05";
        case "email":
          return "fuzz@example.org";
        case "uri":
          return "http://127.0.0.1:9/fuzz";
        default:
          return patternSample(schema) ?? "x".repeat(Math.max(1, schema.minLength ?? 1));
      }
    default:
      return null;
  }
}
