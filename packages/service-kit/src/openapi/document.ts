/**
 * The finishing pass over a whole OpenAPI document (@fastify/swagger's `transformObject`): an `operationId` for
 * every operation that has none (from its method and path), an example for every JSON request body and
 * response that has none, sampled from its schema (a schema's own `example` first), and a description for the
 * success responses that have none.
 */
import { type RefResolver, type Schema, sample } from "./sample.ts";

interface Media {
  schema?: Schema;
  example?: unknown;
  examples?: unknown;
}

interface Operation {
  operationId?: string;
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { description?: string; content?: Record<string, Media> }>;
}

/** What a success response without a description of its own says (instead of swagger's "Default Response"). */
const SUCCESS: Record<string, string> = {
  200: "OK.",
  201: "Created.",
  202: "Accepted: it is done asynchronously.",
  204: "Done; no content.",
};

export interface Document {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);

const pascal = (word: string) =>
  word
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join("");

/**
 * `getIdentitiesById` for `GET /api/v1/identities/{id}/`: the method, then each segment of the path after its
 * `/api/v<n>` prefix, a parameter as `By<Name>`.
 */
export function operationIdOf(method: string, path: string): string {
  const segments = path
    .split("/")
    .filter(Boolean)
    .filter((segment, i) => !(i === 0 && segment === "api") && !(i <= 1 && /^v\d+$/.test(segment)));
  return (
    method.toLowerCase() +
    segments.map((s) => (s.startsWith("{") ? `By${pascal(s.slice(1, -1))}` : pascal(s))).join("")
  );
}

function addExample(media: Media | undefined, resolve: RefResolver): void {
  if (media?.schema && media.example === undefined && media.examples === undefined) {
    media.example = sample(media.schema, 0, resolve);
  }
}

export function finishDocument<D extends Document>(document: D): D {
  const schemas = document.components?.schemas ?? {};
  const resolve: RefResolver = (ref) => schemas[ref.replace("#/components/schemas/", "")];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) {
        continue;
      }
      operation.operationId ??= operationIdOf(method, path);
      addExample(operation.requestBody?.content?.["application/json"], resolve);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        addExample(response.content?.["application/json"], resolve);
        if (response.description === "Default Response") {
          response.description = SUCCESS[status] ?? response.description;
        }
      }
    }
  }
  return document;
}
