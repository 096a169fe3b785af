import Type from "typebox";

// Pieces of the providers' channel configurations that mean the same in each.

/** An http(s) URL or origin: a base URL of this service, or another origin for a provider's API. */
export const optionalOrigin = Type.Optional(Type.String({ pattern: "^https?://" }));

/** Give up on a request after this long (a timeout is retried). Default 10000. */
export const requestTimeoutMs = Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 }));
