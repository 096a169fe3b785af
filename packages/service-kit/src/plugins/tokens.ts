import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { isUuid, toSeedTime } from "@tidings/contracts";
import Type from "typebox";
import type { KeyKind } from "../auth.ts";
import { badRequest, notFound } from "../errors.ts";
import { pageParams, toPage } from "../pagination.ts";
import { errorResponses, requireAdmin } from "../routes.ts";

const E164 = /^\+[1-9][0-9]{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The longest lifetime a token may be issued with. */
const MAX_LIFETIME_S = 10 * 366 * 86_400;

const Kind = Type.Union([Type.Literal("live"), Type.Literal("team"), Type.Literal("test")]);
const Limit = (maximum: number) => Type.Union([Type.Integer({ minimum: 1, maximum }), Type.Null()]);

const TokenBody = Type.Object(
  {
    email: Type.String({ format: "email", maxLength: 254 }),
    kind: Type.Optional(Kind),
    allow_list: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 254 }), { maxItems: 1000 })),
    rate_limit: Type.Optional(Limit(100_000)),
    daily_limit: Type.Optional(Limit(1_000_000_000)),
    expires_at: Type.Optional(Type.String({ format: "date-time" })),
    expires_in: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIFETIME_S })),
  },
  { additionalProperties: false },
);

const Timestamp = Type.String({ format: "date-time" });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const KeyFields = {
  kind: Type.String(),
  allow_list: Type.Array(Type.String()),
  rate_limit: Type.Union([Type.Integer(), Type.Null()]),
  daily_limit: Type.Union([Type.Integer(), Type.Null()]),
  expires_at: NullableTimestamp,
};

const IssuedToken = Type.Object({
  token: Type.String(),
  id: Type.Integer(),
  /** The API user's id: an admin creates hooks on its behalf with it (`owner`). */
  user: Type.Integer(),
  prefix: Type.String(),
  created_at: Timestamp,
  ...KeyFields,
});

const ListedToken = Type.Object({
  id: Type.Integer(),
  user: Type.Integer(),
  prefix: Type.Union([Type.String(), Type.Null()]),
  email: Type.String(),
  created_at: Timestamp,
  revoked_at: NullableTimestamp,
  ...KeyFields,
});

/**
 * A team key's allow-list, normalised: E.164 numbers, emails (lower-cased) and identity ids (UUIDs, lower-cased).
 * Only team keys have one.
 */
function allowListOf(kind: KeyKind, entries: string[] | undefined): string[] {
  if (entries === undefined) {
    return [];
  }
  if (kind !== "team") {
    throw badRequest("VALIDATION_FAILED", "The request is invalid.", [
      { field: "body.allow_list", message: "only team keys have an allow-list" },
    ]);
  }
  const details = entries.flatMap((entry, i) =>
    E164.test(entry) || EMAIL.test(entry) || isUuid(entry)
      ? []
      : [{ field: `body.allow_list.${i}`, message: "must be an E.164 number, an email or an identity id" }],
  );
  if (details.length > 0) {
    throw badRequest("VALIDATION_FAILED", "The request is invalid.", details);
  }
  return [...new Set(entries.map((entry) => (E164.test(entry) ? entry : entry.toLowerCase())))];
}

/** When a token asked to expire at `expiresAt` or in `expiresIn` seconds does; null: never. */
function expiryOf(
  expiresAt: string | undefined,
  expiresIn: number | undefined,
  now = Date.now(),
): Date | null {
  if (expiresAt !== undefined && expiresIn !== undefined) {
    throw badRequest("VALIDATION_FAILED", "The request is invalid.", [
      { field: "body.expires_in", message: "give expires_at or expires_in, not both" },
    ]);
  }
  if (expiresIn !== undefined) {
    return new Date(now + expiresIn * 1000);
  }
  if (expiresAt === undefined) {
    return null;
  }
  const at = new Date(expiresAt);
  if (!(at.getTime() > now) || at.getTime() > now + MAX_LIFETIME_S * 1000) {
    throw badRequest("VALIDATION_FAILED", "The request is invalid.", [
      { field: "body.expires_at", message: "must be in the future, and within ten years" },
    ]);
  }
  return at;
}

/**
 * The kind of key asked for, in an API that takes it. An API that refuses `test` and `team` keys on every route
 * (`liveKeysOnly`) does not issue them either: a key it would answer 403 to everywhere is a mistake better told now.
 */
function kindOf(kind: KeyKind, liveKeysOnly: boolean): KeyKind {
  if (liveKeysOnly && kind !== "live") {
    throw badRequest("VALIDATION_FAILED", "The request is invalid.", [
      {
        field: "body.kind",
        message: `this service takes live keys only: ${kind} keys are message-sender's (its sends keep what they promise)`,
      },
    ]);
  }
  return kind;
}

/**
 * Admin only: `POST /api/v1/user/token/` (Seed's path) issues a token, `GET /api/v1/user/tokens/` lists them (never
 * their secrets or digests) and `DELETE /api/v1/user/tokens/{id}/` revokes one, in every API process at once.
 */
export const tokensPlugin: FastifyPluginAsyncTypebox<{ liveKeysOnly?: boolean }> = async (app, options) => {
  const liveKeysOnly = options.liveKeysOnly ?? false;
  const { authenticator } = app;
  const tags = ["tokens"];
  app.post(
    "/api/v1/user/token/",
    {
      // The token is shown once and never stored: a replay could not show it again.
      config: { idempotent: false },
      schema: {
        tags,
        summary:
          "Create an API user (or find it) and issue it a new token: a `live` (default), `team` (only to its " +
          "`allow_list`) or `test` key (message-sender only), with optional `rate_limit` (requests/s), `daily_limit` and expiry " +
          "(`expires_at`, or `expires_in` seconds). Admin only.",
        description:
          "Answers the new token once, in `token`: only its SHA-256 digest is stored, so it cannot be shown again. The user is found by `email` (lower-cased) or created. A `team` key may send only to the E.164 numbers, emails and identity ids of its `allow_list`; a `test` key goes through the whole pipeline to the LOG channel and never reaches a provider. Only message-sender issues `team` and `test` keys (400 elsewhere: the other services' routes could reach people past them). The token works on this service only: each service keeps its own tokens.",
        body: TokenBody,
        response: { 201: IssuedToken, ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { email, rate_limit = null, daily_limit = null } = request.body;
      const kind = kindOf(request.body.kind ?? "live", liveKeysOnly);
      const options = {
        kind,
        allowList: allowListOf(kind, request.body.allow_list),
        rateLimit: rate_limit,
        dailyLimit: daily_limit,
        expiresAt: expiryOf(request.body.expires_at, request.body.expires_in),
      };
      const issued = await authenticator.issue(email, options);
      return reply.code(201).send({
        token: issued.token,
        id: issued.id,
        user: issued.user,
        prefix: issued.prefix,
        created_at: toSeedTime(issued.createdAt),
        kind,
        allow_list: options.allowList,
        rate_limit,
        daily_limit,
        expires_at: toSeedTime(options.expiresAt),
      });
    },
  );

  app.get(
    "/api/v1/user/tokens/",
    {
      schema: {
        tags,
        summary:
          "API tokens, oldest first: id, prefix, user email, kind, limits, created, expires, revoked (never the " +
          "token or its digest). Admin only.",
        description:
          "Lists every issued token with what names it (its id and the first characters of the token, `prefix`) and what it was issued with; a revoked or expired one is listed with `revoked_at` or `expires_at` so operators can see it.",
        querystring: Type.Object({
          email: Type.Optional(Type.String({ maxLength: 254 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          offset: Type.Optional(Type.Integer({ minimum: 0 })),
        }),
        response: {
          200: Type.Object({
            count: Type.Integer(),
            next: Type.Union([Type.String(), Type.Null()]),
            previous: Type.Union([Type.String(), Type.Null()]),
            results: Type.Array(ListedToken),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const page = pageParams(request.query);
      const [count, tokens] = await authenticator.list(page, request.query.email);
      const results = tokens.map((t) => ({
        ...t,
        created_at: toSeedTime(t.created_at),
        expires_at: toSeedTime(t.expires_at),
        revoked_at: toSeedTime(t.revoked_at),
      }));
      return toPage(request, page, count, results);
    },
  );

  app.delete(
    "/api/v1/user/tokens/:id/",
    {
      schema: {
        tags,
        summary: "Revoke a token: every API process of this service refuses it at once (401). Admin only.",
        description:
          "Marks the token revoked and announces it to every API process of this service, which stop accepting it before this answers (their caches are evicted). The token stays listed, with `revoked_at`.",
        params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }),
        response: { 204: Type.Null({ description: "Revoked" }), ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      if (!(await authenticator.revoke(request.params.id))) {
        throw notFound("TOKEN_NOT_FOUND", `No token ${request.params.id}`);
      }
      return reply.code(204).send(null);
    },
  );
};
