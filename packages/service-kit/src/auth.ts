import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { SqlExecutor } from "@tidings/amqp";
import pg from "pg";
import type { Logger } from "pino";
import { ApiError } from "./errors.ts";

/** The channel on which a revocation is announced (payload: the token's id), in the revoking statement. */
export const REVOKED_CHANNEL = "tidings_api_token_revoked";

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

/**
 * A `test` key's promise is that nothing reaches a provider, a `team` key's that it sends only to its allow-list.
 * Only message-sender's intake can keep them (it sends to the log channel, checks the allow-list); a route that
 * cannot (a publish to a topic, another person's identity, a STOP for any number) refuses the key, whoever holds it:
 * the auth plugin on `liveKeysOnly` routes, a route itself where only one kind is refused.
 */
export function refuseKeyKind(principal: Principal): ApiError {
  return new ApiError(
    403,
    "KEY_KIND_NOT_ALLOWED",
    `A ${principal.keyKind} key cannot be used here: this operation could reach or change people beyond what a ${principal.keyKind} key allows. Use a live key.`,
    [{ field: "headers.authorization", message: `a ${principal.keyKind} key` }],
  );
}

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
  /** When the token stops working; null: never. */
  expiresAt?: Date | null;
}

/** A token as it is listed: never its secret, nor its digest. */
export interface TokenInfo {
  id: number;
  prefix: string | null;
  user: number;
  email: string;
  kind: KeyKind;
  allow_list: string[];
  rate_limit: number | null;
  daily_limit: number | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

/** The issued token (shown once) and what names it from then on. */
export interface IssuedToken {
  token: string;
  id: number;
  /** The API user it belongs to (the id hooks are owned by, and `created_by` columns hold). */
  user: number;
  prefix: string;
  createdAt: Date;
}

/** An authenticated request's principal and the limits of its key (`digest` null for the bootstrap admin). */
export interface AuthenticatedKey {
  principal: Principal;
  digest: string | null;
  /** The token's id (null for the bootstrap admin). */
  tokenId?: number | null;
  rateLimit: number | null;
  dailyLimit: number | null;
}

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;
/** How long `revoke` waits for every listening process to acknowledge a revocation. */
const HEAR_BACK_MS = 2_000;
/** The application_name of the connections listening for revocations, to count them. */
const LISTENER_NAME = "tidings-token-revocations";

interface TokenRow {
  token_id?: number;
  expires_at?: Date | null;
  id: number;
  is_admin: boolean;
  kind?: KeyKind;
  allow_list?: string[] | null;
  rate_limit?: number | null;
  daily_limit?: number | null;
}

/**
 * Resolves API tokens against the shared `tidings_api_token` table (digests only) and the ADMIN_TOKEN; an expired
 * or revoked token is refused. Positive look-ups are cached for at most `cacheTtlMs` and never past the token's
 * expiry. Once `watchRevocations` runs, the cache is used only while this process listens on REVOKED_CHANNEL:
 * every revocation evicts the token at once, and while the listener is down nothing is cached.
 */
export class TokenAuthenticator {
  private readonly adminDigest: Buffer | undefined;
  private readonly cache = new Map<string, { key: AuthenticatedKey; expires: number }>();
  private readonly cacheTtlMs: number;
  private watching = false;
  private listening = false;
  private listener: pg.Client | undefined;
  private closed = false;
  /** Bumped by every revocation heard and every listener loss: a look-up that spans one is not cached. */
  private generation = 0;
  /** Revocations made here, counting the acknowledgements of the listening processes (see `revoke`). */
  private readonly heard = new Map<number, () => void>();

  constructor(
    private readonly db: SqlExecutor,
    adminToken: string | undefined,
    options: { cacheTtlMs?: number } = {},
  ) {
    this.adminDigest = adminToken ? Buffer.from(digestToken(adminToken), "hex") : undefined;
    this.cacheTtlMs = options.cacheTtlMs ?? CACHE_TTL_MS;
  }

  /**
   * Listens for revocations on a connection of its own, reconnecting when it drops (caching nothing meanwhile).
   * Resolves once listening, or after the first attempt failed (it keeps trying).
   */
  async watchRevocations(databaseUrl: string, log: Pick<Logger, "warn">): Promise<void> {
    this.watching = true;
    if (!(await this.listen(databaseUrl, log))) {
      void this.relisten(databaseUrl, log);
    }
  }

  private async listen(databaseUrl: string, log: Pick<Logger, "warn">): Promise<boolean> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: LISTENER_NAME });
    client.on("notification", (message) => {
      const [kind, id] = [message.payload?.slice(0, 2), Number(message.payload?.slice(2))];
      if (kind === "r:") {
        // Evicted; then acknowledged, so that the revoking process knows this one refuses the token.
        this.evict(id);
        client.query(`SELECT pg_notify('${REVOKED_CHANNEL}', $1)`, [`a:${id}`]).catch(() => undefined);
      } else if (kind === "a:") {
        this.heard.get(id)?.();
      }
    });
    client.on("error", (err) => {
      log.warn({ err }, "token revocation listener lost; not caching tokens until it is back");
      this.unlisten(client);
      void client.end().catch(() => undefined);
      void this.relisten(databaseUrl, log);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOKED_CHANNEL}`);
    } catch (err) {
      log.warn({ err }, "token revocation listener failed; not caching tokens until it listens");
      void client.end().catch(() => undefined);
      return false;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return true;
    }
    this.cache.clear(); // what was revoked while it was not listening
    this.generation++;
    this.listener = client;
    this.listening = true;
    return true;
  }

  private async relisten(databaseUrl: string, log: Pick<Logger, "warn">): Promise<void> {
    for (let attempt = 1; !this.closed && !this.listener; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * attempt)));
      if (!this.closed && !this.listener && (await this.listen(databaseUrl, log))) {
        return;
      }
    }
  }

  private unlisten(client: pg.Client): void {
    if (this.listener === client || this.listener === undefined) {
      this.listener = undefined;
      this.listening = false;
      this.cache.clear();
      this.generation++;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.listener;
    this.listener = undefined;
    this.listening = false;
    await client?.end().catch(() => undefined);
  }

  private get caching(): boolean {
    return this.cacheTtlMs > 0 && (!this.watching || this.listening);
  }

  /** Forgets the cached look-up of the token `tokenId` (revoked). */
  evict(tokenId: number): void {
    this.generation++;
    for (const [digest, entry] of this.cache) {
      if (entry.key.tokenId === tokenId) {
        this.cache.delete(digest);
      }
    }
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
    return this.known(digest) ?? (await this.lookUp(digest));
  }

  /**
   * The key of the header's token if this process knows it without the database: the ADMIN_TOKEN, or a token it
   * verified lately (cached); else undefined.
   */
  knownKey(header: string | undefined): AuthenticatedKey | undefined {
    const token = tokenFromHeader(header);
    return token ? this.known(digestToken(token)) : undefined;
  }

  private known(digest: string): AuthenticatedKey | undefined {
    if (this.adminDigest && timingSafeEqual(this.adminDigest, Buffer.from(digest, "hex"))) {
      return {
        principal: { userId: null, isAdmin: true, keyKind: "live", allowList: [] },
        digest: null,
        tokenId: null,
        rateLimit: null,
        dailyLimit: null,
      };
    }
    const cached = this.cache.get(digest);
    return cached && cached.expires > Date.now() && this.caching ? cached.key : undefined;
  }

  private async lookUp(digest: string): Promise<AuthenticatedKey> {
    const generation = this.generation;
    const rows = await this.db.$queryRawUnsafe<TokenRow[]>(
      `SELECT t.id AS token_id, t.expires_at, u.id, u.is_admin, t.kind, t.allow_list, t.rate_limit, t.daily_limit
       FROM tidings_api_token t JOIN tidings_api_user u ON u.id = t.user_id
       WHERE t.digest = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
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
      tokenId: row.token_id ?? null,
      rateLimit: row.rate_limit ?? null,
      dailyLimit: row.daily_limit ?? null,
    };
    if (this.caching && generation === this.generation) {
      if (this.cache.size >= CACHE_MAX) {
        this.cache.clear();
      }
      const expires = Math.min(Date.now() + this.cacheTtlMs, row.expires_at?.getTime() ?? Infinity);
      this.cache.set(digest, { key, expires });
    }
    return key;
  }

  /** Gets or creates the user and issues a new token of the given kind for it; only the digest is stored. */
  async issueToken(
    email: string,
    options: KeyOptions = { kind: "live", allowList: [], rateLimit: null, dailyLimit: null },
  ): Promise<string> {
    return (await this.issue(email, options)).token;
  }

  /** issueToken, with the id, prefix and creation time the token is listed by. */
  async issue(email: string, options: KeyOptions): Promise<IssuedToken> {
    const token = `tdg_${randomBytes(32).toString("base64url")}`;
    const prefix = token.slice(0, 12);
    const rows = await this.db.$queryRawUnsafe<{ id: number; user_id: number; created_at: Date }[]>(
      `WITH u AS (
         INSERT INTO tidings_api_user (email) VALUES ($1)
         ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
         RETURNING id
       )
       INSERT INTO tidings_api_token
         (digest, user_id, kind, allow_list, rate_limit, daily_limit, prefix, expires_at)
       SELECT $2, id, $3, $4::text[], $5::int, $6::int, $7, $8::timestamptz FROM u
       RETURNING id, user_id, created_at`,
      email.toLowerCase(),
      digestToken(token),
      options.kind,
      options.allowList,
      options.rateLimit,
      options.dailyLimit,
      prefix,
      options.expiresAt ?? null,
    );
    const row = rows[0] as { id: number; user_id: number; created_at: Date };
    return { token, id: row.id, user: row.user_id, prefix, createdAt: row.created_at };
  }

  /** Tokens by id, with their user's email; `email` narrows to one user's. */
  async list(page: { limit: number; offset: number }, email?: string): Promise<[number, TokenInfo[]]> {
    const where = email === undefined ? "" : "WHERE u.email = $3";
    const values: unknown[] = [
      page.limit,
      page.offset,
      ...(email === undefined ? [] : [email.toLowerCase()]),
    ];
    const rows = await this.db.$queryRawUnsafe<(TokenInfo & { total: number })[]>(
      `SELECT t.id, t.prefix, u.id AS user, u.email, t.kind, t.allow_list, t.rate_limit, t.daily_limit, t.created_at,
              t.expires_at, t.revoked_at, count(*) OVER ()::int AS total
       FROM tidings_api_token t JOIN tidings_api_user u ON u.id = t.user_id ${where}
       ORDER BY t.id LIMIT $1 OFFSET $2`,
      ...values,
    );
    const total = rows[0]?.total ?? (page.offset > 0 ? await this.count(email) : 0);
    return [total, rows.map(({ total: _, ...info }) => info)];
  }

  private async count(email?: string): Promise<number> {
    const rows = await this.db.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM tidings_api_token t JOIN tidings_api_user u ON u.id = t.user_id
       ${email === undefined ? "" : "WHERE u.email = $1"}`,
      ...(email === undefined ? [] : [email.toLowerCase()]),
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Revokes the token `id` and announces it (`r:<id>`) on REVOKED_CHANNEL in the same statement. Every API process
   * of the service listens there (a connection named LISTENER_NAME), evicts the token and acknowledges (`a:<id>`);
   * this returns once as many acknowledgements as there were listeners arrived (or after HEAR_BACK_MS, should one
   * hang), so when the revocation is answered every process refuses the token. False when there is no such
   * token; revoking twice keeps the first time.
   */
  async revoke(id: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    let heard: Promise<void> = Promise.resolve();
    if (this.listening) {
      const rows = await this.db.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1`,
        LISTENER_NAME,
      );
      let waiting = rows[0]?.n ?? 0;
      heard = new Promise<void>((resolve) => {
        this.heard.set(id, () => --waiting <= 0 && resolve());
        timer = setTimeout(resolve, HEAR_BACK_MS);
      });
    }
    try {
      const revoked = await this.db.$queryRawUnsafe<{ id: number }[]>(
        `WITH r AS (
           UPDATE tidings_api_token SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id
         )
         SELECT id, pg_notify('${REVOKED_CHANNEL}', 'r:' || id)::text AS announced FROM r`,
        id,
      );
      this.evict(id);
      if (revoked.length > 0) {
        await heard;
        return true;
      }
      const found = await this.db.$queryRawUnsafe<unknown[]>(
        "SELECT 1 FROM tidings_api_token WHERE id = $1",
        id,
      );
      return found.length > 0;
    } finally {
      clearTimeout(timer);
      this.heard.delete(id);
    }
  }
}
