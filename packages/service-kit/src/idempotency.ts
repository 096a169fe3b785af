import { createHash } from "node:crypto";
import type { SqlExecutor } from "@tidings/amqp";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Principal } from "./auth.ts";
import { ApiError } from "./errors.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** `false`: a POST that creates nothing, or must not be replayed; the Idempotency-Key header is ignored. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotencyClaim?: IdempotencyClaim;
  }
}

interface IdempotencyClaim {
  principal: string;
  method: string;
  path: string;
  key: string;
}

/** How long a key's response is replayed (and its claim kept). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
const KEY = /^[\x21-\x7E]{1,255}$/;
const MAX_ATTEMPTS = 3;

/**
 * JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. A raw (non-JSON)
 * body parsed to a Buffer counts as its bytes.
 */
export function canonicalJson(value: unknown): string {
  if (Buffer.isBuffer(value)) {
    return JSON.stringify(value.toString("base64"));
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Whose keys a key is among: the admin token's, or an API user's of one kind of key. One user may hold a test and a
 * live key: a live request must never replay what the same key did under the test key (nothing was really sent).
 * A live key keeps the scope it has always had (`user:<id>`), so a live retry across an upgrade still replays.
 */
const principalScope = (principal: Principal) =>
  principal.userId === null
    ? "admin"
    : principal.keyKind === "live"
      ? `user:${principal.userId}`
      : `user:${principal.userId}:${principal.keyKind}`;

/** The path without its query string and trailing slashes (routes ignore the trailing slash). */
const pathOf = (url: string) => (url.split("?")[0] as string).replace(/\/+$/, "") || "/";

const requestHash = (request: FastifyRequest) =>
  createHash("sha256")
    .update(canonicalJson({ query: request.query ?? {}, body: request.body ?? null }))
    .digest("hex");

interface StoredKey {
  request_hash: string;
  status_code: number | null;
  content_type: string | null;
  response_body: string | null;
}

/**
 * Idempotency-Key on POSTs (Stripe's semantics), scoped to the principal (user and kind of key), method and path: the first request
 * claims the key (a row inserted before the handler runs) and its response is stored; the same key with the
 * same body and query within 24 h replays that response (`Idempotent-Replayed: true`) without running the
 * handler; with a different body it is 422; while the first is still running it is 409. A 5xx releases the
 * claim so the request can be retried. Public routes and routes with `config.idempotent: false` ignore it.
 */
export function registerIdempotency(app: FastifyInstance, db: SqlExecutor): void {
  // Callback hooks, done at once for a request without a key: an async hook costs every request a promise.
  app.addHook("preHandler", (request, reply, done) => {
    const key = request.headers["idempotency-key"];
    const { config } = request.routeOptions;
    if (request.method !== "POST" || key === undefined || config.public || config.idempotent === false) {
      done();
      return;
    }
    claimKey(db, request, reply, key).then((replayed) => {
      // A replay has been sent: the handler does not run.
      if (!replayed) {
        done();
      }
    }, done);
  });

  // Store the response of a claimed request, or release the claim after a 5xx (or an unstorable stream).
  app.addHook("onSend", (request, reply, payload, done) => {
    const claim = request.idempotencyClaim;
    if (!claim) {
      done(null, payload);
      return;
    }
    request.idempotencyClaim = undefined;
    settleClaim(db, claim, reply.statusCode, reply.getHeader("content-type"), payload).then(
      () => done(null, payload),
      done,
    );
  });
}

/**
 * Claims the request's key (its response will be stored: settleClaim), or sends the response stored for it
 * (true: replayed); throws for a bad key, a key used with another request, or one whose first request still runs.
 */
async function claimKey(
  db: SqlExecutor,
  request: FastifyRequest,
  reply: FastifyReply,
  key: string | string[],
): Promise<boolean> {
  if (typeof key !== "string" || !KEY.test(key)) {
    throw new ApiError(400, "INVALID_IDEMPOTENCY_KEY", "The Idempotency-Key header is invalid.", [
      { field: "headers.idempotency-key", message: "must be 1 to 255 printable ASCII characters" },
    ]);
  }
  const claim = {
    principal: principalScope(request.principal),
    method: "POST",
    path: pathOf(request.url),
    key,
  };
  const hash = requestHash(request);
  const pk = [claim.principal, claim.method, claim.path, claim.key];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // A key older than the TTL is free again: the claim takes it over.
    const claimed = await db.$queryRawUnsafe<unknown[]>(
      `INSERT INTO tidings_idempotency_key AS k (principal, method, path, key, request_hash)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (principal, method, path, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, status_code = NULL, content_type = NULL,
             response_body = NULL, created_at = now(), completed_at = NULL
         WHERE k.created_at < now() - make_interval(secs => $6)
       RETURNING 1 AS claimed`,
      ...pk,
      hash,
      IDEMPOTENCY_TTL_MS / 1000,
    );
    if (claimed.length > 0) {
      request.idempotencyClaim = claim;
      return false;
    }
    const [stored] = await db.$queryRawUnsafe<StoredKey[]>(
      `SELECT request_hash, status_code, content_type, response_body FROM tidings_idempotency_key
       WHERE principal = $1 AND method = $2 AND path = $3 AND key = $4`,
      ...pk,
    );
    if (!stored) {
      continue; // released (5xx) or pruned in between: claim it again
    }
    if (stored.request_hash !== hash) {
      throw new ApiError(
        422,
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was used with a different request body.",
      );
    }
    if (stored.status_code === null) {
      throw new ApiError(
        409,
        "IDEMPOTENCY_KEY_IN_USE",
        "A request with this Idempotency-Key is in progress.",
      );
    }
    reply.code(stored.status_code).header("idempotent-replayed", "true");
    if (stored.content_type) {
      reply.type(stored.content_type);
    }
    reply.send(stored.response_body ?? "");
    return true;
  }
  throw new ApiError(409, "IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is in progress.");
}

/** Stores a claimed request's response, or releases the claim after a 5xx (or an unstorable stream). */
async function settleClaim(
  db: SqlExecutor,
  claim: IdempotencyClaim,
  statusCode: number,
  contentType: unknown,
  payload: unknown,
): Promise<void> {
  const pk = [claim.principal, claim.method, claim.path, claim.key];
  const body = typeof payload === "string" ? payload : Buffer.isBuffer(payload) ? payload.toString() : null;
  if (statusCode >= 500 || body === null) {
    await db.$executeRawUnsafe(
      `DELETE FROM tidings_idempotency_key
       WHERE principal = $1 AND method = $2 AND path = $3 AND key = $4 AND status_code IS NULL`,
      ...pk,
    );
    return;
  }
  await db.$executeRawUnsafe(
    `UPDATE tidings_idempotency_key
     SET status_code = $5, content_type = $6, response_body = $7, completed_at = now()
     WHERE principal = $1 AND method = $2 AND path = $3 AND key = $4`,
    ...pk,
    statusCode,
    typeof contentType === "string" ? contentType : null,
    body,
  );
}

/** Forgets Idempotency-Key records past the TTL. */
export const pruneIdempotencyKeys = async (db: SqlExecutor): Promise<number> =>
  db.$executeRawUnsafe(
    "DELETE FROM tidings_idempotency_key WHERE created_at < now() - make_interval(secs => $1)",
    IDEMPOTENCY_TTL_MS / 1000,
  );
