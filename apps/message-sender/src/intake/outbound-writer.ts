import { activeTraceCarrier, enqueueStatement, type OutboxMessage } from "@tidings/amqp";
import { statement } from "@tidings/db";
import { isUniqueViolation } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { Outbound as OutboundRow } from "../generated/prisma/client.ts";
import { GroupCommit } from "../group-commit.ts";

/** One accepted outbound and its `outbound.send`. */
interface Accepted {
  row: OutboundRow;
  message: OutboxMessage;
}

/**
 * Stores accepted outbounds with their `outbound.send`, many in one statement (a group commit: the outbounds accepted
 * in the same turn, or while two writes are in flight, go together in the next), so under load a request costs a
 * fraction of a statement, a round trip and a commit, and when idle it is written at the end of its turn. Each
 * statement is atomic on its own (an outbound is sent if and only if it is stored); `store` resolves once its outbound
 * is committed. A failed statement of several outbounds is retried one outbound at a time, so only the one at fault
 * fails; an outbound whose id is then taken was stored by the statement that failed (it committed, its answer lost: the
 * connection broke): its id, random and new, can only have been taken by it.
 */
export class OutboundWriter {
  private readonly group: GroupCommit<Accepted, void>;

  constructor(db: Db) {
    this.group = new GroupCommit({
      maxBatch: 250,
      maxWrites: 2,
      write: async (batch) => {
        try {
          await storeOutbounds(db, batch);
        } catch (err) {
          if (batch.length > 1 || !isUniqueViolation(err)) {
            throw err;
          }
        }
        return batch.map(() => undefined);
      },
    });
  }

  store(row: OutboundRow, message: OutboxMessage): Promise<void> {
    // Its own request's trace, not that of the request whose write happens to carry it.
    return this.group.add({
      row,
      message: { ...message, traceContext: message.traceContext ?? activeTraceCarrier() },
    });
  }
}

/**
 * ONE statement: the outbounds (every column the API shows is given; the others are the table's defaults:
 * queued, no attempts) and their messages in the outbox.
 */
async function storeOutbounds(db: Db, batch: Accepted[]): Promise<void> {
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
    { grouped: true, db },
  );
  const [stored] = await statement<{ n: number }>(db, inserts.text, inserts.values);
  inserts.committed(stored?.n ?? 0);
}
