/** An OpenAPI document's operations, and sample values that satisfy its schemas (service-kit's sampler). */
import type { Schema } from "@tidings/service-kit";

export { PATTERN_CANDIDATES, type Schema, sample, typesOf } from "@tidings/service-kit";

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
