import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { SqlExecutor } from "@tidings/amqp";
import { ApiError } from "./errors.ts";

export interface Principal {
  /** The API user, or null for the bootstrap admin token. */
  userId: number | null;
  isAdmin: boolean;
  /**
   * The kind of API key (GOV.UK Notify's three): `live` sends for real, `team` may only send to the
   * `allowList`, `test` goes through the whole pipeline to the `log` channel and never reaches a provider.
   */
  keyKind: KeyKind;
  /** For `team` keys: the E.164 numbers, lower-case emails and identity ids the key may send to. */
  allowList: string[];
}

export type KeyKind = "live" | "team" | "test";

export const digestToken = (token: string): string => createHash("sha256").update(token).digest("hex");

/** `Authorization: Token <key>` (Seed) or `Bearer <key>`. */
export function tokenFromHeader(header: string | undefined): string | undefined {
  const match = /^(?:Token|Bearer)\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** What a token was issued with, besides its user: its kind, allow-list and limits (null: unlimited). */
export interface KeyOptions {
  kind: KeyKind;
  allowList: string[];
  /** Requests per second, enforced per API process. */
  rateLimit: number | null;
  /** Requests per UTC day, counted in the database. */
  dailyLimit: number | null;
}

/** An authenticated request's principal and the limits of its key (`digest` null for the bootstrap admin). */
export interface AuthenticatedKey {
  principal: Principal;
  digest: string | null;
  rateLimit: number | null;
  dailyLimit: number | null;
}

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

interface TokenRow {
  id: number;
  is_admin: boolean;
  kind?: KeyKind;
  allow_list?: string[] | null;
  rate_limit?: number | null;
  daily_limit?: number | null;
}

/**
 * Resolves API tokens against the shared `tidings_api_token` table (digests only) and the ADMIN_TOKEN.
 * Positive look-ups are cached briefly; a revoked token (or a changed limit) takes effect within the cache TTL.
 */
export class TokenAuthenticator {
  private readonly adminDigest: Buffer | undefined;
  private readonly cache = new Map<string, { key: AuthenticatedKey; expires: number }>();

  constructor(
    private readonly db: SqlExecutor,
    adminToken: string | undefined,
  ) {
    this.adminDigest = adminToken ? Buffer.from(digestToken(adminToken), "hex") : undefined;
  }

  async authenticate(header: string | undefined): Promise<Principal> {
    return (await this.authenticateKey(header)).principal;
  }

  async authenticateKey(header: string | undefined): Promise<AuthenticatedKey> {
    const token = tokenFromHeader(header);
    if (!token) {
      throw new ApiError(401, "UNAUTHENTICATED", "Authentication credentials were not provided.");
    }
    const digest = digestToken(token);
    if (this.adminDigest && timingSafeEqual(this.adminDigest, Buffer.from(digest, "hex"))) {
      return {
        principal: { userId: null, isAdmin: true, keyKind: "live", allowList: [] },
        digest: null,
        rateLimit: null,
        dailyLimit: null,
      };
    }
    const cached = this.cache.get(digest);
    if (cached && cached.expires > Date.now()) {
      return cached.key;
    }
    const rows = await this.db.$queryRawUnsafe<TokenRow[]>(
      `SELECT u.id, u.is_admin, t.kind, t.allow_list, t.rate_limit, t.daily_limit
       FROM tidings_api_token t JOIN tidings_api_user u ON u.id = t.user_id
       WHERE t.digest = $1 AND t.revoked_at IS NULL`,
      digest,
    );
    const row = rows[0];
    if (!row) {
      throw new ApiError(401, "INVALID_TOKEN", "Invalid token.");
    }
    const key: AuthenticatedKey = {
      principal: {
        userId: row.id,
        isAdmin: row.is_admin,
        keyKind: row.kind ?? "live",
        allowList: row.allow_list ?? [],
      },
      digest,
      rateLimit: row.rate_limit ?? null,
      dailyLimit: row.daily_limit ?? null,
    };
    if (this.cache.size >= CACHE_MAX) {
      this.cache.clear();
    }
    this.cache.set(digest, { key, expires: Date.now() + CACHE_TTL_MS });
    return key;
  }

  /** Gets or creates the user and issues a new token of the given kind for it; only the digest is stored. */
  async issueToken(
    email: string,
    options: KeyOptions = { kind: "live", allowList: [], rateLimit: null, dailyLimit: null },
  ): Promise<string> {
    const token = `tdg_${randomBytes(32).toString("base64url")}`;
    await this.db.$executeRawUnsafe(
      `WITH u AS (
         INSERT INTO tidings_api_user (email) VALUES ($1)
         ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
         RETURNING id
       )
       INSERT INTO tidings_api_token (digest, user_id, kind, allow_list, rate_limit, daily_limit)
       SELECT $2, id, $3, $4::text[], $5::int, $6::int FROM u`,
      email.toLowerCase(),
      digestToken(token),
      options.kind,
      options.allowList,
      options.rateLimit,
      options.dailyLimit,
    );
    return token;
  }
}
