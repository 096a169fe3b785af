import type { SqlExecutor } from "@tidings/amqp";
import { maskPii } from "@tidings/contracts";
import type { Logger, Stop } from "@tidings/service-kit";
import { signatureHeader } from "./signing.ts";

export interface HookDispatcherOptions {
  db: SqlExecutor;
  logger: Logger;
  /** Sent as `Authorization: Token <authToken>` (Seed's HOOK_AUTH_TOKEN). Unset: no Authorization header. */
  authToken?: string;
  /** Attempts per delivery before it is marked failed (Seed's checklist: 15). */
  maxAttempts?: number;
  /** First retry wait; doubles on each retry, with ±20% jitter, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  pollIntervalMs?: number;
  timeoutMs?: number;
  batchSize?: number;
}

/** The wait before retry number `attempt` (1-based): exponential with jitter. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random()): number {
  const base = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(0, Math.round(base * (1 + 0.2 * (2 * random - 1))));
}

interface Claimed {
  id: string;
  hook_id: number;
  event: string;
  body: string;
  attempts: number;
  target: string;
  secret: string;
  /** The secret before a rotation, while its overlap lasts. */
  previous_secret: string | null;
}

/**
 * Sends due hook deliveries: claims a batch (`FOR UPDATE SKIP LOCKED`, so several workers share the work),
 * POSTs each with Seed's token and the Standard Webhooks headers (`webhook-id`: the delivery id, the same on
 * every attempt; `webhook-timestamp`: this attempt's; `webhook-signature`: one per valid secret), marks 2xx
 * delivered, and schedules anything else for a retry with backoff, or marks it failed once the attempts are
 * used up. Returns its stop.
 */
export function startHookDispatcher(options: HookDispatcherOptions): Stop {
  const {
    db,
    logger,
    authToken,
    maxAttempts = 15,
    baseDelayMs = 1_000,
    maxDelayMs = 3_600_000,
    pollIntervalMs = 1_000,
    timeoutMs = 10_000,
    batchSize = 20,
  } = options;
  const log = logger.child({ component: "hook-dispatcher" });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const deliver = async (d: Claimed) => {
    let statusCode: number | null = null;
    let error: string | null = null;
    const timestamp = Math.floor(Date.now() / 1000);
    const secrets = d.previous_secret ? [d.secret, d.previous_secret] : [d.secret];
    try {
      const res = await fetch(d.target, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(authToken ? { authorization: `Token ${authToken}` } : {}),
          "webhook-id": d.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signatureHeader(secrets, d.id, timestamp, d.body),
          "x-tidings-event": d.event,
        },
        body: d.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      statusCode = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) {
        await db.$executeRawUnsafe(
          `UPDATE tidings_hook_delivery SET status = 'delivered', delivered_at = now(), last_status_code = $2,
             last_error = NULL WHERE id = $1::uuid`,
          d.id,
          statusCode,
        );
        log.debug({ delivery: d.id, hook: d.hook_id, status: statusCode }, "hook delivered");
        return;
      }
      error = `HTTP ${statusCode}`;
    } catch (err) {
      error = maskPii((err as Error).message).slice(0, 500);
    }
    const final = d.attempts >= maxAttempts;
    await db.$executeRawUnsafe(
      `UPDATE tidings_hook_delivery SET status = $2, last_status_code = $3, last_error = $4,
         next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1::uuid`,
      d.id,
      final ? "failed" : "pending",
      statusCode,
      error,
      final ? 0 : backoffMs(d.attempts, baseDelayMs, maxDelayMs) / 1000,
    );
    log[final ? "warn" : "info"](
      { delivery: d.id, hook: d.hook_id, event: d.event, attempts: d.attempts, status: statusCode, error },
      final ? "hook delivery failed for good" : "hook delivery failed; will retry",
    );
  };

  const tick = async () => {
    try {
      // Claimed rows are leased (next_attempt_at moved on) so a crashed worker's claim is picked up later.
      const claimed = await db.$queryRawUnsafe<Claimed[]>(
        `UPDATE tidings_hook_delivery d
           SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
         FROM tidings_hook h
         WHERE h.id = d.hook_id AND d.id IN (
           SELECT id FROM tidings_hook_delivery
           WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING d.id::text AS id, d.hook_id, d.event, d.body, d.attempts, h.target, h.secret,
           CASE WHEN h.previous_secret_expires_at > now() THEN h.previous_secret END AS previous_secret`,
        batchSize,
        (timeoutMs * 2) / 1000,
      );
      await Promise.all(claimed.map(deliver));
      if (claimed.length === batchSize && !stopped) {
        return tick();
      }
    } catch (err) {
      log.warn({ err }, "hook dispatch failed");
    }
  };

  const loop = () => {
    if (stopped) {
      return;
    }
    running = tick().finally(() => {
      running = undefined;
      if (!stopped) {
        timer = setTimeout(loop, pollIntervalMs);
      }
    });
  };
  loop();

  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
