import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { context } from "@opentelemetry/api";
import { assertPayload, type MessageName, type Payload } from "@tidings/contracts";
import pg from "pg";
import type { Logger } from "pino";
import type { Broker } from "./broker.ts";
import type { SqlExecutor } from "./sql.ts";
import { activeTraceCarrier, outboxPublished, type TraceCarrier, traceContextFrom } from "./telemetry.ts";

export const OUTBOX_CHANNEL = "tidings_outbox";

/**
 * The session advisory lock whose holder listens on OUTBOX_CHANNEL: one relay per database is woken by each
 * enqueue, however many worker processes run one. ("tidings" in ASCII.)
 */
const LISTENER_LOCK = "32766977284925299";

export interface OutboxMessage<N extends MessageName = MessageName> {
  name: N;
  payload: Payload<N>;
  /** Defaults to a random uuid; a deterministic one makes a repeated enqueue harmless. */
  messageId?: string;
  correlationId?: string;
  /** The trace it belongs to; default: the active one when it is enqueued. */
  traceContext?: TraceCarrier;
}

/**
 * Writes messages to the outbox inside the caller's transaction, so they are published if and only if the
 * transaction commits. Payloads are validated here, where a bad one can still fail the change. Ids already
 * in the outbox are skipped. Returns the message ids.
 */
export async function enqueue(tx: SqlExecutor, ...messages: OutboxMessage[]): Promise<string[]> {
  if (messages.length === 0) {
    return [];
  }
  const statement = enqueueStatement(messages);
  await tx.$queryRawUnsafe(statement.text, ...statement.values);
  return statement.ids;
}

/** A change to make in the same statement as the outbox insert (see enqueueStatement). */
export interface AtomicChange {
  /** Data-modifying CTEs (`name AS (...)`, comma-separated), using parameters $1 to $values.length. */
  ctes: string;
  values: unknown[];
  /**
   * A condition on those CTEs (e.g. `EXISTS (SELECT 1 FROM changed)`): the messages are written only when it
   * holds, so a compare-and-set that changed nothing enqueues nothing. Default: always.
   */
  onlyIf?: string;
  /** More columns of the statement's one row, on those CTEs (e.g. `(SELECT array_agg(id) FROM changed) AS ids`). */
  returning?: string;
}

/** The relays started in this process, by the database client whose statements kick them (OutboxRelayOptions.db). */
const localRelays = new WeakMap<object, OutboxRelay>();

/** What enqueueStatement makes: the statement, the message ids, and what to call once it has committed. */
export interface OutboxStatement {
  text: string;
  values: unknown[];
  ids: string[];
  /**
   * Call with the statement's `n` once it has committed (autocommit: once it has run): with a relay of this
   * process on the statement's database client (`db`), that relay is kicked, since the statement notified no one.
   */
  committed(inserted: number): void;
}

/**
 * The one statement `enqueue` runs, optionally with a change of the caller's as CTEs before it: a single
 * statement is atomic without an interactive transaction (one round trip instead of BEGIN ... COMMIT), so the
 * messages are published if and only if the change is stored. Payloads are validated here. The statement
 * returns one row: `n`, the number of messages inserted (and the change's `returning` columns).
 *
 * `db`: the database client the statement will run on, outside any transaction. When a relay of this process
 * relays for it (a worker's, or an API process's own), the statement does not NOTIFY: `committed` kicks that relay
 * in-process. A NOTIFY is heard by every backend listening on the database, whatever its channel (the relay's
 * listener, and each API process's token-revocation listener), and each reads it in a transaction of its own: per
 * statement, work in Postgres that grew with the number of API processes. Without `db`, or with no relay for it
 * here, the statement notifies when it inserted anything.
 *
 * `grouped`: the messages (those `onlyIf` keeps) go in ONE outbox row, the first in its columns and the others in
 * its `also`, instead of a row each: a statement that announces many changes (a batch of sends recorded, of
 * reports applied) writes and deletes one row, not one per event. The relay publishes each message of the group
 * under its own id, so consumers see exactly what separate rows would give them; a group is skipped as a whole
 * when its first id is already in the outbox (only ids of separate rows should be deterministic).
 */
export function enqueueStatement(
  messages: OutboxMessage[],
  change: AtomicChange = { ctes: "", values: [] },
  { grouped = false, db }: { grouped?: boolean; db?: object } = {},
): OutboxStatement {
  // The relay publishes them in the trace they were enqueued in (a hub's request, a consumed message).
  const traceContext = activeTraceCarrier() ?? null;
  const rows = messages.map((m) => ({
    id: m.messageId ?? randomUUID(),
    name: m.name,
    payload: assertPayload(m.name, m.payload),
    correlation_id: m.correlationId ?? null,
    trace_context: m.traceContext ?? traceContext,
  }));
  const param = change.values.length + 1;
  const messagesCte = `outbox_message AS (
       SELECT m.*, row_number() OVER (ORDER BY m.k) AS k_kept
       FROM ROWS FROM (jsonb_to_recordset($${param}::jsonb)
         AS (id uuid, name text, payload jsonb, correlation_id text, trace_context jsonb)) WITH ORDINALITY
         AS m(id, name, payload, correlation_id, trace_context, k)
       ${change.onlyIf ? `WHERE ${change.onlyIf}` : ""})`;
  const insert = grouped
    ? `inserted AS (
       INSERT INTO tidings_outbox (id, name, payload, correlation_id, trace_context, also)
       SELECT id, name, payload, correlation_id, trace_context, (
           SELECT jsonb_agg(jsonb_build_object('id', o.id, 'name', o.name, 'payload', o.payload,
             'correlation_id', o.correlation_id, 'trace_context', o.trace_context) ORDER BY o.k_kept)
           FROM outbox_message o WHERE o.k_kept > 1)
       FROM outbox_message WHERE k_kept = 1
       ON CONFLICT (id) DO NOTHING
       RETURNING 1 + coalesce(jsonb_array_length(also), 0) AS n
     )`
    : `inserted AS (
       INSERT INTO tidings_outbox (id, name, payload, correlation_id, trace_context)
       SELECT id, name, payload, correlation_id, trace_context FROM outbox_message ORDER BY k
       ON CONFLICT (id) DO NOTHING
       RETURNING 1 AS n
     )`;
  // The insert, and, unless a relay here is kicked, a notification the listening relay receives when the
  // statement's transaction commits.
  const relay = db && localRelays.get(db);
  const notify = relay
    ? ""
    : `(SELECT pg_notify('${OUTBOX_CHANNEL}', '') WHERE EXISTS (SELECT 1 FROM inserted))::text AS notified, `;
  const text = `WITH ${change.ctes ? `${change.ctes},` : ""}
     ${messagesCte},
     ${insert}
     SELECT ${notify}(SELECT coalesce(sum(n), 0) FROM inserted)::int AS n
       ${change.returning ? `, ${change.returning}` : ""}`;
  return {
    text,
    values: [...change.values, JSON.stringify(rows)],
    ids: rows.map((r) => r.id),
    committed: (inserted) => {
      if (relay && inserted > 0) {
        relay.kick();
      }
    },
  };
}

/**
 * The outbox's messages, one row each however they are stored (a row of its own, or in a group): use it as
 * `FROM ${OUTBOX_MESSAGES}` for seq and k (their order: `ORDER BY seq, k`), id, name, payload, correlation_id and
 * trace_context (tests, an operator's query).
 */
export const OUTBOX_MESSAGES = `(
    SELECT o.seq, e.k, (m->>'id')::uuid AS id, m->>'name' AS name, m->'payload' AS payload,
      m->>'correlation_id' AS correlation_id, m->'trace_context' AS trace_context
    FROM tidings_outbox o, jsonb_array_elements(
      jsonb_build_array(jsonb_build_object('id', o.id, 'name', o.name, 'payload', o.payload,
        'correlation_id', o.correlation_id, 'trace_context', o.trace_context)) || coalesce(o.also, '[]'::jsonb))
      WITH ORDINALITY AS e(m, k)
  ) AS outbox_message`;

interface OutboxRow {
  /** bigint, as text */
  seq: string;
  id: string;
  name: MessageName;
  payload: unknown;
  correlation_id: string | null;
  trace_context: TraceCarrier | null;
  /** The rest of a group (see enqueueStatement). */
  also: Omit<OutboxRow, "also" | "seq">[] | null;
}

/** A message the relay published (see OutboxRelayOptions.onPublished). */
export interface PublishedMessage {
  id: string;
  name: MessageName;
  payload: unknown;
}

export interface OutboxRelayOptions {
  databaseUrl: string;
  broker: Broker;
  logger: Logger;
  /**
   * Told of each batch once it is published and deleted: the events a change wrote exist exactly when the change
   * does, so this is where a service counts its changes (message-sender's status metrics). Must not throw.
   */
  onPublished?: (messages: PublishedMessage[]) => void;
  batchSize?: number;
  /** Polling, as a safety net for a missed notification. */
  pollIntervalMs?: number;
  /**
   * The database client this process runs its outbox statements on: a statement built for it (enqueueStatement's
   * `db`) kicks this relay once committed instead of notifying.
   */
  db?: object;
  /**
   * Listen for notifications and poll (the default): a worker's relay, which publishes what any process wrote.
   * false: only what this process's own statements kick it for (an API process's relay); what it leaves (it
   * stopped, the broker failed it) waits for the workers' relays' next poll.
   */
  watch?: boolean;
  /**
   * The least time between the starts of two batches (default 50 ms): the first kick or notification after a quiet
   * spell is relayed at once, those that follow within this time wait for it and go together. Under load a batch
   * then takes the rows of many commits (two round trips for all of them) instead of one commit's each. Each
   * process that writes relays its own statements, so a database sees a batch this often from each of them.
   */
  minBatchIntervalMs?: number;
}

/**
 * Publishes outbox rows in order and deletes them once the broker confirmed them. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED`, so several relays (worker replicas) share the work; a crash before the delete
 * leaves the rows to be published again (consumers are idempotent on messageId). One relay per database (the
 * holder of an advisory lock on its listening connection) wakes on NOTIFY; every relay also polls, so a
 * backlog is shared, and when the listening one dies (its connection, and so the lock, goes with it) another
 * takes the lock at its next poll. Without that, each enqueue woke every worker's relay, and all but one
 * found nothing to do: work per message that grew with the number of workers. A process's own statements
 * (enqueueStatement with its `db`) do not notify: they kick its relay in-process once committed.
 */
export class OutboxRelay {
  private readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
  /** The listener connection holds LISTENER_LOCK and listens. */
  private listening = false;
  private timer: NodeJS.Timeout | undefined;
  /** When the last batch began, and the kick waiting for minBatchIntervalMs to pass since. */
  private lastBatchAt = 0;
  private deferred: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  /** The last batch was full or cut short: more rows may wait. */
  private more = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly batchSize: number;

  constructor(private readonly options: OutboxRelayOptions) {
    this.pool = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
    this.pool.on("error", (err) => this.log.warn({ err }, "outbox pool error"));
    this.log = options.logger.child({ component: "outbox-relay" });
    this.batchSize = options.batchSize ?? 500;
  }

  async start(): Promise<void> {
    if (this.options.db) {
      localRelays.set(this.options.db, this);
    }
    if (this.options.watch === false) {
      return;
    }
    await this.listen();
    this.timer = setInterval(() => {
      this.kick();
      if (!this.listening) {
        void this.takeListening().catch((err: unknown) =>
          this.log.debug({ err }, "outbox listener lock check failed"),
        );
      }
    }, this.options.pollIntervalMs ?? 1_000);
    this.kick();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on("notification", () => this.kick());
    client.on("error", (err) => {
      this.log.warn({ err }, "outbox listener lost; polling until it is back");
      this.listener = undefined;
      this.listening = false;
      void client.end().catch(() => undefined);
      void this.relisten();
    });
    await client.connect();
    this.listener = client;
    await this.takeListening();
  }

  /** Listens if this relay's connection gets the listener lock (no other relay on the database holds it). */
  private async takeListening(): Promise<void> {
    const client = this.listener;
    if (!client || this.listening) {
      return;
    }
    const { rows } = await client.query<{ taken: boolean }>(
      "SELECT pg_try_advisory_lock($1::bigint) AS taken",
      [LISTENER_LOCK],
    );
    if (rows[0]?.taken && client === this.listener) {
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listening = true;
      this.kick(); // what was enqueued before it listened
    }
  }

  private async relisten(): Promise<void> {
    for (let attempt = 1; !this.stopped && !this.listener; attempt++) {
      await sleep(Math.min(5_000, 200 * attempt));
      await this.listen().catch((err: unknown) => this.log.debug({ err }, "outbox listener retry failed"));
    }
  }

  /** Drain now, or once more after the current drain, at the earliest minBatchIntervalMs after the last batch began. */
  kick(): void {
    if (this.stopped || this.deferred) {
      return;
    }
    if (this.draining) {
      this.again = true;
      return;
    }
    const wait = this.lastBatchAt + (this.options.minBatchIntervalMs ?? 50) - Date.now();
    if (wait > 0) {
      this.deferred = setTimeout(() => {
        this.deferred = undefined;
        this.kick();
      }, wait);
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.relayBatch()) > 0 && this.more) {
        // a full batch: there may be more
      }
    } catch (err) {
      this.log.warn({ err }, "outbox relay failed; will retry");
    }
  }

  /**
   * Publishes one batch: rows in order (each one message or a group), as many as make at most `batchSize`
   * messages (at least one row); returns how many messages it published.
   */
  async relayBatch(): Promise<number> {
    this.lastBatchAt = Date.now();
    const client = await this.pool.connect();
    try {
      // Two round trips around the publishing, not four: BEGIN with the SELECT, the DELETE with the COMMIT (the
      // simple query protocol runs several statements; only numbers are written into them).
      const [, { rows: selected }] = (await client.query(
        `BEGIN; SELECT seq::text, id, name, payload, correlation_id, trace_context, also FROM tidings_outbox
         ORDER BY tidings_outbox.seq LIMIT ${Math.trunc(this.batchSize)} FOR UPDATE SKIP LOCKED`,
      )) as unknown as [pg.QueryResult, pg.QueryResult<OutboxRow>];
      const rows: OutboxRow[] = [];
      let size = 0;
      for (const row of selected) {
        size += 1 + (row.also?.length ?? 0);
        if (rows.length > 0 && size > this.batchSize) {
          break;
        }
        rows.push(row);
      }
      this.more = selected.length === this.batchSize || rows.length < selected.length;
      const messages = rows.flatMap(({ also, ...row }) => [row, ...(also ?? [])]);
      await Promise.all(
        messages.map((message) =>
          // In the trace it was enqueued in: its publish span and the consumer's continue that trace.
          context.with(traceContextFrom(message.trace_context), () =>
            this.options.broker.publishStored(message.name, message.payload, {
              messageId: message.id,
              correlationId: message.correlation_id ?? undefined,
            }),
          ),
        ),
      );
      await client.query(
        rows.length > 0
          ? `DELETE FROM tidings_outbox WHERE seq IN (${rows.map((r) => BigInt(r.seq)).join(",")}); COMMIT`
          : "COMMIT",
      );
      for (const message of messages) {
        outboxPublished.inc({ name: message.name });
      }
      if (messages.length > 0) {
        this.options.onPublished?.(messages);
      }
      return messages.length;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Stops polling and listening, lets the current batch finish, and closes its connections. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      if (this.options.db && localRelays.get(this.options.db) === this) {
        localRelays.delete(this.options.db); // its statements notify again
      }
      clearInterval(this.timer);
      clearTimeout(this.deferred);
      await this.draining;
      await this.listener?.end().catch(() => undefined);
      await this.pool.end();
    })();
    return this.stopping;
  }
}

/** Backlogs are counted up to this many rows, so a scrape stays cheap however far the relay fell behind. */
export const OUTBOX_COUNT_CAP = 1_000_000;

/** The outbox's backlog: rows not yet published (up to OUTBOX_COUNT_CAP), and the oldest one's age (0 when empty). */
export async function outboxBacklog(db: SqlExecutor): Promise<{ rows: number; oldestAgeSeconds: number }> {
  const [stats] = await db.$queryRawUnsafe<{ rows: number; age: number }[]>(
    `SELECT (SELECT count(*) FROM (SELECT 1 FROM tidings_outbox LIMIT ${OUTBOX_COUNT_CAP}) AS capped)::int AS rows,
       coalesce(extract(epoch FROM now() - (SELECT created_at FROM tidings_outbox ORDER BY seq LIMIT 1)), 0)::float8
         AS age`,
  );
  return { rows: stats?.rows ?? 0, oldestAgeSeconds: Math.max(0, stats?.age ?? 0) };
}
