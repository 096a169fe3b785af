import type { createAjv } from "@tidings/contracts";
import type { FastifySchemaCompiler } from "fastify";
import { notFound } from "./errors.ts";

type Ajv = ReturnType<typeof createAjv>;

type Validate = ReturnType<FastifySchemaCompiler<unknown>>;

interface ParamsSchema {
  properties?: Record<string, { type?: unknown; format?: unknown }>;
}

/** The methods that read, change or delete the record a path names (not the POSTs of an action). */
const LOOKUPS = new Set(["GET", "HEAD", "PATCH", "PUT", "DELETE"]);

/**
 * The parameter a detail route (`/api/v1/identities/:id/`) names its record by: its last segment, when that is a
 * uuid or an integer parameter; else undefined.
 */
function recordKey(schema: ParamsSchema, url: string): string | undefined {
  const name = /\/:([A-Za-z_][A-Za-z0-9_]*)\/?$/.exec(url)?.[1];
  const key = name === undefined ? undefined : schema.properties?.[name];
  return key && (key.format === "uuid" || key.type === "integer") ? name : undefined;
}

/**
 * Compiles a route's path parameter schema. A GET, PATCH, PUT or DELETE of a detail route whose id is malformed
 * (not a uuid, not an integer in range) answers the same 404 as an unknown id, with Seed's
 * `"detail": "Not found."`, where it would be a 400: Seed looked records up with Django REST framework's
 * `get_object_or_404`, which reads a malformed id as missing, and `seed-services-client`'s `get_identity` takes only
 * a 200 or a 404. Any other invalid parameter is still a 400 naming it.
 */
export function compileParams(ajv: Ajv, schema: unknown, method: string | string[], url: string): Validate {
  const validate = ajv.compile(schema as object);
  const key = recordKey((schema ?? {}) as ParamsSchema, url);
  // A route of several methods (`app.route({ method: [...] })`) has one validator for them all.
  if (key === undefined || ![method].flat().every((m) => LOOKUPS.has(m.toUpperCase()))) {
    return validate;
  }
  const wrapped: Validate = (data: unknown) => {
    const ok = validate(data);
    wrapped.errors = validate.errors;
    if (ok || !(validate.errors ?? []).every((e) => e.instancePath === `/${key}`)) {
      return ok;
    }
    const id = (data as Record<string, unknown>)[key];
    return { error: notFound("NOT_FOUND", `Not found: ${JSON.stringify(id)} is not an id.`) };
  };
  return wrapped;
}
