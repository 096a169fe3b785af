import type { SqlExecutor } from "@tidings/amqp";
import type { AuthenticatedKey } from "./auth.ts";
import { RetryLaterError } from "./errors.ts";

const MAX_BUCKETS = 10_000;
const DAY_MS = 86_400_000;

/**
 * Per-second limits: a token bucket per API key, holding up to `rate` requests and refilled at `rate` a
 * second. It lives in this process, so N API processes behind a load balancer allow up to N times the rate.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes one request from the key's bucket; the seconds to wait when it is empty, else 0. */
  take(digest: string, rate: number): number {
    const now = this.now();
    let bucket = this.buckets.get(digest);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) {
        this.buckets.clear();
      }
      bucket = { tokens: rate, at: now };
      this.buckets.set(digest, bucket);
    }
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
  }
}

/**
 * The per-address limit of the public routes (provider callbacks, the unsubscribe page, docs): the requests a
 * client address had refused (4xx but 429) in its current minute. Only refusals count, so a provider's callbacks,
 * verified by their signatures, are never throttled however fast they come (a provider does not send a refused
 * delivery report again: a limit on every request had refused 397 callbacks of a 100,000-message run, left to the
 * reconciler); an address whose requests are refused (forged signatures, unknown channels, bad input) is answered
 * 429 for the rest of its minute once it had `max`. Per process, as RateLimiter.
 */
export class RefusalLimiter {
  private readonly windows = new Map<string, { refused: number; resetAt: number }>();

  constructor(
    readonly max: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The seconds until the address may be served again: 0 while it is under the limit. */
  wait(address: string): number {
    const window = this.windows.get(address);
    const left = (window?.resetAt ?? 0) - this.now();
    return window && left > 0 && window.refused >= this.max ? Math.max(1, Math.ceil(left / 1000)) : 0;
  }

  /**
   * Counts one refused request of the address. The windows are kept in the order they began (a new minute of an
   * address moves it to the end); at MAX_BUCKETS addresses the oldest is forgotten, the first to end, so a client
   * rotating addresses (IPv6 gives one plenty) forgets only its own oldest and resets no one else's count.
   */
  refused(address: string): void {
    const now = this.now();
    let window = this.windows.get(address);
    if (!window || window.resetAt <= now) {
      this.windows.delete(address);
      if (this.windows.size >= MAX_BUCKETS) {
        const [oldest] = this.windows.keys();
        this.windows.delete(oldest as string);
      }
      window = { refused: 0, resetAt: now + this.windowMs };
      this.windows.set(address, window);
    }
    window.refused++;
  }
}

/** Counts one request of the key for today (UTC) in the database and returns the day's count so far. */
export async function countDailyRequest(db: SqlExecutor, digest: string): Promise<number> {
  const rows = await db.$queryRawUnsafe<{ count: number }[]>(
    `INSERT INTO tidings_api_token_usage AS u (digest, day, count)
     VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1)
     ON CONFLICT (digest, day) DO UPDATE SET count = u.count + 1
     RETURNING u.count`,
    digest,
  );
  return Number(rows[0]?.count ?? 0);
}

/** Seconds until the next UTC midnight, when daily limits reset (at least 1). */
export const secondsUntilUtcMidnight = (now: number = Date.now()): number =>
  Math.max(1, Math.ceil((DAY_MS - (now % DAY_MS)) / 1000));

/** Forgets daily counters of days before yesterday. */
export const pruneTokenUsage = async (db: SqlExecutor): Promise<number> =>
  db.$executeRawUnsafe(
    "DELETE FROM tidings_api_token_usage WHERE day < (now() AT TIME ZONE 'UTC')::date - 1",
  );

/**
 * Enforces the key's per-second rate limit, then counts the request against its daily limit. A request
 * refused by the rate limit is not counted for the day.
 */
export async function enforceKeyLimits(
  db: SqlExecutor,
  limiter: RateLimiter,
  key: AuthenticatedKey,
): Promise<void> {
  if (!key.digest) {
    return;
  }
  if (key.rateLimit !== null) {
    const wait = limiter.take(key.digest, key.rateLimit);
    if (wait > 0) {
      throw new RetryLaterError(
        "RATE_LIMITED",
        `This API key may make ${key.rateLimit} requests per second.`,
        wait,
      );
    }
  }
  if (key.dailyLimit !== null && (await countDailyRequest(db, key.digest)) > key.dailyLimit) {
    throw new RetryLaterError(
      "DAILY_LIMIT_EXCEEDED",
      `This API key may make ${key.dailyLimit} requests per UTC day.`,
      secondsUntilUtcMidnight(),
    );
  }
}
