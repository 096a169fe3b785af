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

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

/**
 * Resolves API tokens against the shared `tidings_api_token` table (digests only) and the ADMIN_TOKEN.
 * Positive look-ups are cached briefly; a revoked token stops working within the cache TTL.
 */
export class TokenAuthenticator {
  private readonly adminDigest: Buffer | undefined;
  private readonly cache = new Map<string, { principal: Principal; expires: number }>();

  constructor(
    private readonly db: SqlExecutor,
    adminToken: string | undefined,
  ) {
    this.adminDigest = adminToken ? Buffer.from(digestToken(adminToken), "hex") : undefined;
  }

  async authenticate(header: string | undefined): Promise<Principal> {
    const token = tokenFromHeader(header);
    if (!token) {
      throw new ApiError(401, "UNAUTHENTICATED", "Authentication credentials were not provided.");
    }
    const digest = digestToken(token);
    if (this.adminDigest && timingSafeEqual(this.adminDigest, Buffer.from(digest, "hex"))) {
      return { userId: null, isAdmin: true, keyKind: "live", allowList: [] };
    }
    const cached = this.cache.get(digest);
    if (cached && cached.expires > Date.now()) {
      return cached.principal;
    }
    const rows = await this.db.$queryRawUnsafe<{ id: number; is_admin: boolean }[]>(
      `SELECT u.id, u.is_admin FROM tidings_api_token t JOIN tidings_api_user u ON u.id = t.user_id
       WHERE t.digest = $1 AND t.revoked_at IS NULL`,
      digest,
    );
    const row = rows[0];
    if (!row) {
      throw new ApiError(401, "INVALID_TOKEN", "Invalid token.");
    }
    const principal: Principal = { userId: row.id, isAdmin: row.is_admin, keyKind: "live", allowList: [] };
    if (this.cache.size >= CACHE_MAX) {
      this.cache.clear();
    }
    this.cache.set(digest, { principal, expires: Date.now() + CACHE_TTL_MS });
    return principal;
  }

  /** Gets or creates the user and issues a new token for it; only the digest is stored. */
  async issueToken(email: string): Promise<string> {
    const token = `tdg_${randomBytes(32).toString("base64url")}`;
    await this.db.$executeRawUnsafe(
      `WITH u AS (
         INSERT INTO tidings_api_user (email) VALUES ($1)
         ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
         RETURNING id
       )
       INSERT INTO tidings_api_token (digest, user_id) SELECT $2, id FROM u`,
      email.toLowerCase(),
      digestToken(token),
    );
    return token;
  }
}
