import type { FastifyRequest } from "fastify";
import { ApiError } from "./errors.ts";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A NUL, or a UTF-16 surrogate without its pair: text Postgres cannot store (or only as U+FFFD). */
const isUnstorable = (text: string) => text.includes("\0") || LONE_SURROGATE.test(text);

/** Parsed JSON: arrays and plain objects. Anything else (a body streamed through unparsed) is not walked. */
const isJsonContainer = (value: object) => {
  const proto = Object.getPrototypeOf(value);
  return Array.isArray(value) || proto === Object.prototype || proto === null;
};

/**
 * The dotted path of the first string or key in `value` holding unstorable text, if any (iterative: any depth).
 * Only parsed JSON is walked: a stream (a body forwarded as received) is a graph with cycles.
 */
export function unstorableTextAt(value: unknown, root: string): string | undefined {
  const stack: [unknown, string][] = [[value, root]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [current, path] = item;
    if (typeof current === "string") {
      if (isUnstorable(current)) {
        return path;
      }
    } else if (current !== null && typeof current === "object" && isJsonContainer(current)) {
      for (const [key, child] of Object.entries(current)) {
        if (isUnstorable(key)) {
          return `${path}.${key.replaceAll("\0", "?").replace(LONE_SURROGATE, "?")}`;
        }
        stack.push([child, `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

/**
 * A preValidation hook: a request whose body, query string or path parameters hold a NUL or an unpaired
 * surrogate is refused with a 400 naming the field, before anything reads or writes the database (which
 * would fail on it with a 500, or silently store U+FFFD).
 */
export async function refuseUnstorableText(request: FastifyRequest): Promise<void> {
  // The router's params and the query string parser's object have prototypes of their own: copied, they are
  // plain objects to walk (a body is walked only when parsed from JSON).
  const field =
    unstorableTextAt({ ...(request.params as object) }, "params") ??
    unstorableTextAt({ ...(request.query as object) }, "querystring") ??
    unstorableTextAt(request.body, "body");
  if (field) {
    throw new ApiError(400, "VALIDATION_FAILED", "The request is invalid.", [
      { field, message: "must not contain NUL characters or unpaired UTF-16 surrogates" },
    ]);
  }
}
