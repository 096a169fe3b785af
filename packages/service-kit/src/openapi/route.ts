/**
 * What the OpenAPI document says of each route beyond its own schema, derived from what the route can answer:
 * its error responses (400 when it validates input, 401/403/429 when it needs a token, 404 when it has a path
 * parameter, 413 when it reads a body, 409/422 when it honours Idempotency-Key), the Idempotency-Key header, no
 * security on public routes, and free-form query strings (a record) as one exploded object parameter.
 */
import { ErrorResponse } from "@tidings/contracts";
import type { FastifySchema, RouteOptions } from "fastify";
import type { Schema } from "./sample.ts";

type RouteSchema = Record<string, unknown> & {
  hide?: boolean;
  headers?: Schema;
  querystring?: Schema;
  response?: Record<string, Schema>;
};

export interface RouteDocOptions {
  /** The API's body limit, for routes without their own. */
  bodyLimit: number;
  /** Whether the public routes are rate-limited per client address (429). */
  publicRateLimit: boolean;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

const REQUEST_ID = "4f1c2a9e-6b1d-4c55-9a0e-2f7b8c3d1e05";
const ERROR_SHAPE = ErrorResponse as unknown as Schema;

/**
 * An error response of `status`, described and with an example of the one error shape; `details` and Seed's
 * `detail` go into the example.
 */
function errorResponse(
  description: string,
  code: string,
  message: string,
  { details, detail, ...extra }: Schema & { details?: unknown[]; detail?: string } = {},
): Schema {
  return {
    ...ERROR_SHAPE,
    description,
    example: {
      error: { code, message, ...(details ? { details } : {}), requestId: REQUEST_ID },
      ...(detail ? { detail } : {}),
    },
    ...extra,
  };
}

/**
 * A route-specific error response for `schema.response` (a conflict, a refused payload): the document lists it
 * beside the errors every route derives. A plain `errorResponses` entry is documented only when derived.
 */
export const routeError = (description: string) => ({ ...ErrorResponse, description });

const idempotencyKeyHeader: Schema = {
  type: "string",
  minLength: 1,
  maxLength: 255,
  pattern: "^[\\x21-\\x7E]+$",
  description:
    "Makes the POST safe to retry: the same key with the same body and query within 24 hours replays the first " +
    "response (with `Idempotent-Replayed: true`) instead of running it again; with another body it is 422, while " +
    "the first is still running 409. Scoped to the key's user, the method and the path.",
};

interface Facts {
  public: boolean;
  idempotent: boolean;
  validates: boolean;
  hasId: boolean;
  hasBody: boolean;
  bodyLimit: number;
}

function factsOf(schema: RouteSchema, url: string, route: RouteOptions, options: RouteDocOptions): Facts {
  const config = (route.config ?? {}) as { public?: boolean; idempotent?: boolean };
  const methods = [route.method].flat().map((m) => String(m).toUpperCase());
  const isPublic = config.public === true;
  const hasBody = methods.some((m) => BODY_METHODS.has(m));
  const idempotent = !isPublic && methods.includes("POST") && config.idempotent !== false;
  return {
    public: isPublic,
    idempotent,
    // A body is parsed (INVALID_BODY) even without a schema.
    validates: Boolean(schema.body || schema.querystring || schema.params || schema.headers || hasBody),
    hasId: /[:{]/.test(url),
    hasBody,
    bodyLimit: route.bodyLimit ?? options.bodyLimit,
  };
}

const kb = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MB` : `${bytes / 1024} KB`);

/** The error responses the route can give, by status. */
function derivedErrors(facts: Facts, options: RouteDocOptions): Record<string, Schema> {
  const errors: Record<string, Schema> = {};
  if (facts.validates) {
    const also = [
      facts.hasBody ? "INVALID_BODY (not parseable as its content type)" : "",
      facts.idempotent ? "INVALID_IDEMPOTENCY_KEY" : "",
    ].filter(Boolean);
    errors[400] = errorResponse(
      `VALIDATION_FAILED: the input does not match the schema (\`details\` names each field), or a value the ` +
        `service refuses (its own code)${also.length ? `; ${also.join("; ")}` : ""}.`,
      "VALIDATION_FAILED",
      "The request is invalid.",
      { details: [{ field: "body.example", message: "must be string" }] },
    );
  }
  if (!facts.public) {
    errors[401] = errorResponse(
      "UNAUTHENTICATED: no `Authorization: Token <key>` header; INVALID_TOKEN: unknown, expired or revoked.",
      "UNAUTHENTICATED",
      "Authentication credentials were not provided.",
    );
    errors[403] = errorResponse(
      "The key may not do this: FORBIDDEN for an admin-only operation; KEY_KIND_NOT_ALLOWED for a test or team key where it cannot be kept; or a refusal by a team key's allow-list.",
      "FORBIDDEN",
      "You do not have permission to perform this action.",
    );
  }
  if (facts.hasId) {
    errors[404] = errorResponse(
      "No record with this id (the service's `..._NOT_FOUND` code; `NOT_FOUND` for a malformed id on a GET, PATCH, " +
        "PUT or DELETE of a record, as Seed answered it).",
      "NOT_FOUND",
      "Not found.",
      { detail: "Not found." },
    );
  }
  if (facts.idempotent) {
    errors[409] = errorResponse(
      "IDEMPOTENCY_KEY_IN_USE: a request with this Idempotency-Key is still in progress.",
      "IDEMPOTENCY_KEY_IN_USE",
      "A request with this Idempotency-Key is in progress.",
    );
    errors[422] = errorResponse(
      "IDEMPOTENCY_KEY_REUSED: this Idempotency-Key was used with a different body or query.",
      "IDEMPOTENCY_KEY_REUSED",
      "This Idempotency-Key was used with a different request body.",
    );
  }
  if (facts.hasBody) {
    errors[413] = errorResponse(
      `BODY_TOO_LARGE: the body is over ${kb(facts.bodyLimit)}.`,
      "BODY_TOO_LARGE",
      "Request body is too large",
    );
  }
  if (!facts.public || options.publicRateLimit) {
    const badTokens = options.publicRateLimit
      ? ", or too many requests a minute from this address refused for a bad or missing token"
      : "";
    errors[429] = errorResponse(
      facts.public
        ? "RATE_LIMITED: too many refused requests a minute from this address; retry after `Retry-After` seconds."
        : `RATE_LIMITED (the key's requests per second${badTokens}) or DAILY_LIMIT_EXCEEDED (its requests per UTC ` +
            "day); retry after `Retry-After` seconds.",
      "RATE_LIMITED",
      "This API key may make 10 requests per second.",
      { headers: { "Retry-After": { type: "integer", description: "Seconds to wait before retrying." } } },
    );
  }
  return errors;
}

/** A record (free-form names) as one query parameter of exploded form style: `?name=value&...`. */
function freeFormQuery(querystring: Schema): Schema {
  const values = (querystring.patternProperties as Record<string, Schema> | undefined) ?? {};
  return {
    type: "object",
    style: "form",
    explode: true,
    properties: {
      filters: {
        type: "object",
        additionalProperties: Object.values(values)[0] ?? { type: "string" },
        description: querystring.description ?? "Any number of `name=value` filters.",
      },
    },
  };
}

/** @fastify/swagger's `transform`: the route's schema as the document shows it (the route itself is unchanged). */
export function documentRoute(
  {
    schema: routeSchema,
    url,
    route,
  }: { schema: FastifySchema | undefined; url: string; route: RouteOptions },
  options: RouteDocOptions,
): { schema: FastifySchema; url: string } {
  const schema = (routeSchema ?? {}) as RouteSchema;
  if (schema.hide) {
    return { schema, url };
  }
  const facts = factsOf(schema, url, route, options);
  const declared = Object.entries(schema.response ?? {});
  const derived = derivedErrors(facts, options);
  const successes = declared.filter(([status]) => !/^[45]/.test(status));
  const response = {
    // A route without a success schema (a file's bytes, a proxied answer) still says it succeeds.
    ...(successes.length
      ? {}
      : { 200: { description: "Success: the body is as the description says.", type: "null" } }),
    ...Object.fromEntries(successes),
    ...derived,
    // Route-specific errors (see `routeError`), beside what the status means on every such route.
    ...Object.fromEntries(
      declared
        .filter(([status, s]) => /^[45]/.test(status) && s.description)
        .map(([status, s]) => {
          const common = derived[status]?.description;
          return [
            status,
            { ...derived[status], ...s, description: [s.description, common].filter(Boolean).join(" ") },
          ];
        }),
    ),
  };
  const headers = facts.idempotent
    ? {
        type: "object",
        ...schema.headers,
        properties: { ...schema.headers?.properties, "Idempotency-Key": idempotencyKeyHeader },
      }
    : schema.headers;
  const querystring =
    schema.querystring && !schema.querystring.properties
      ? freeFormQuery(schema.querystring)
      : schema.querystring;
  return {
    schema: {
      ...schema,
      response,
      ...(headers ? { headers } : {}),
      ...(querystring ? { querystring } : {}),
      ...(facts.public ? { security: [] } : {}),
    },
    url,
  };
}
