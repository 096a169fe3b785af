import type { FastifyInstance } from "fastify";
import { ApiError } from "./errors.ts";

/** How deeply a JSON body may nest objects and arrays (`{}` is one level). No API needs more than a few. */
export const MAX_JSON_DEPTH = 32;

/** The index of the quote closing the string that opens at `start` (one not escaped by an odd run of `\`). */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (end !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) {
      backslashes++;
    }
    if (backslashes % 2 === 0) {
      return end;
    }
    end = text.indexOf('"', end + 1);
  }
  return text.length;
}

/**
 * Whether JSON text nests objects and arrays deeper than `max` levels: one pass over the text, skipping strings
 * (their brackets do not count), without building anything. Malformed text is left to the parser.
 */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        return true;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * Replaces fastify's JSON parser with the same parser (prototype and constructor poisoning refused) behind a
 * depth check: a body nested deeper than MAX_JSON_DEPTH is a 400 BODY_TOO_DEEP before it is parsed, so it never
 * reaches validation, hooks or the database (where thousands of levels made a 500).
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    // Seed's Python client sends `Content-Type: application/json` on every request, with no body on a DELETE:
    // an empty body is no body, not a 400.
    if ((body as string).trim() === "") {
      done(null, undefined);
      return;
    }
    if (jsonDeeperThan(body as string, MAX_JSON_DEPTH)) {
      done(
        new ApiError(400, "BODY_TOO_DEEP", "The request body is nested too deeply.", [
          {
            field: "body",
            message: `must not nest objects and arrays more than ${MAX_JSON_DEPTH} levels deep`,
          },
        ]),
        undefined,
      );
      return;
    }
    parse(request, body as string, done);
  });
}
