import { activeTraceCarrier, enqueueStatement, type OutboxMessage } from "@tidings/amqp";
import { statement } from "@tidings/db";
import { isUniqueViolation } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { Outbound as OutboundRow } from "../generated/prisma/client.ts";

/** The most outbounds one statement stores. */
const MAX_BATCH = 250;
/** Statements in flight at once; outbounds accepted meanwhile gather for the next. */
const MAX_WRITES = 2;

interface Pending {
  row: OutboundRow;
  message: OutboxMessage;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Stores accepted outbounds with their `outbound.send`, many in one statement: the outbounds accepted while
 * a write is in flight go together in the next one (a group commit), so under load a request costs a fraction
 * of a statement, a round trip and a commit, and when idle it is written at once. Each statement is atomic on
 * its own (an outbound is sent if and only if it is stored); `store` resolves once its outbound is committed.
 * A failed statement of several outbounds is retried one outbound at a time, so only the one at fault fails
 * (and those of a statement that had committed, its answer lost, are found stored rather than failed).
 */
export class OutboundWriter {
  private readonly queue: Pending[] = [];
  private writes = 0;

  constructor(private readonly db: Db) {}

  store(row: OutboundRow, message: OutboxMessage): Promise<void> {
    // Its own request's trace, not that of the request whose write happens to carry it.
    const traced = { ...message, traceContext: message.traceContext ?? activeTraceCarrier() };
    return new Promise((resolve, reject) => {
      this.queue.push({ row, message: traced, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (this.queue.length > 0 && this.writes < MAX_WRITES) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.writes++;
      void this.write(batch).finally(() => {
        this.writes--;
        this.next();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      await storeOutbounds(this.db, batch);
      for (const pending of batch) {
        pending.resolve();
      }
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      // A statement that committed but whose answer was lost (the connection broke) stored every outbound of
      // it: their ids, random and new, can only have been taken by it, so a taken id means stored.
      await Promise.all(
        batch.map((pending) =>
          storeOutbounds(this.db, [pending]).then(pending.resolve, (retryErr: unknown) =>
            isUniqueViolation(retryErr) ? pending.resolve() : pending.reject(retryErr),
          ),
        ),
      );
    }
  }
}

/**
 * ONE statement: the outbounds (every column the API shows is given; the others are the table's defaults:
 * queued, no attempts) and their messages in the outbox.
 */
async function storeOutbounds(db: Db, batch: Pending[]): Promise<void> {
  const rows = batch.map(({ row }) => ({
    id: row.id,
    version: row.version,
    to_addr: row.toAddr,
    to_identity: row.toIdentity,
    content: row.content,
    channel: row.channel,
    metadata: row.metadata,
    resend: row.resend,
    test: row.test,
    template: row.template,
    template_version: row.templateVersion,
    priority: row.priority,
    sending_window: row.sendingWindow,
    not_before: row.notBefore,
    expires_at: row.expiresAt,
    sensitive: row.sensitive,
    created_at: row.createdAt,
    created_by: row.createdBy,
  }));
  const inserts = enqueueStatement(
    batch.map((pending) => pending.message),
    {
      ctes: `stored AS (
        INSERT INTO outbound (id, version, to_addr, to_identity, content, channel, metadata, resend, test,
                              template, template_version, priority, sending_window, not_before, expires_at,
                              sensitive, created_at, created_by, updated_at, updated_by)
        SELECT id, version, to_addr, to_identity, content, channel, metadata, resend, test, template,
               template_version, priority::outbound_priority, sending_window, not_before, expires_at,
               sensitive, created_at, created_by, created_at, created_by
        FROM jsonb_to_recordset($1::jsonb) AS r(
          id uuid, version int, to_addr text, to_identity uuid, content text, channel text, metadata jsonb,
          resend boolean, test boolean, template int, template_version int, priority text, sending_window jsonb,
          not_before timestamptz, expires_at timestamptz, sensitive boolean, created_at timestamptz,
          created_by int))`,
      values: [JSON.stringify(rows)],
    },
    { grouped: true },
  );
  await statement(db, inserts.text, inserts.values);
}
