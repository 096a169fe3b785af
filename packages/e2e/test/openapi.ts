/** An OpenAPI document's operations, and sample values that satisfy its schemas. */

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
};

interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: Schema;
}

interface OperationObject {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  method: string;
  path: string;
  pathParams: Parameter[];
  query: Parameter[];
  body: Schema | undefined;
}

const HTTP_METHODS = new Set(["get", "post", "put", "patch", "delete"]);

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const resolve = (schema: Schema | undefined): Schema | undefined => {
    const ref = schema?.$ref;
    return ref ? doc.components?.schemas?.[ref.split("/").pop() as string] : schema;
  };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        pathParams: (op.parameters ?? []).filter((p) => p.in === "path"),
        query: (op.parameters ?? []).filter((p) => p.in === "query"),
        body: resolve(op.requestBody?.content?.["application/json"]?.schema),
      })),
  );
}

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

/** A value the schema would plausibly accept (good enough to get past validation of the other fields). */
export function sample(schema: Schema | undefined, depth = 0): unknown {
  if (!schema || depth > 6) {
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
    const branch = branches.find((b) => !typesOf(b).includes("null")) ?? branches[0];
    return sample(branch, depth + 1);
  }
  if (schema.allOf) {
    return Object.assign({}, ...schema.allOf.map((s) => sample(s, depth + 1)));
  }
  const type = typesOf(schema).find((t) => t !== "null") ?? (schema.properties ? "object" : undefined);
  switch (type) {
    case "object":
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([k, s]) => [k, sample(s, depth + 1)]),
      );
    case "array":
      return Array.from({ length: schema.minItems ?? 1 }, () => sample(schema.items, depth + 1));
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
          return "2026-01-05T09:00:00.000Z";
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
