import { type Broker, OUTBOX_COUNT_CAP, outboxBacklog, queueStats, type SqlExecutor } from "@tidings/amqp";
import { queuesOf, type Service } from "@tidings/contracts";
import { collectDefaultMetrics, Gauge, Registry, register } from "prom-client";

// Prometheus metrics of a process. Business metrics (messages, providers, fan-outs, the consumers' and the relay's
// counters) are defined where they happen, on prom-client's default registry; each process adds its own registry
// (Node's default metrics, the API's request timings, a worker's scrape-time gauges) and serves both at /metrics.

/** What a process serves at /metrics: its own registry and the business metrics, labelled with its service. */
export function scrapeRegistry(own: Registry, service: string): Registry {
  const merged = Registry.merge([own, register]);
  merged.setDefaultLabels({ service });
  return merged;
}

/** A registry with Node's default process metrics (CPU, memory, event loop lag, handles). */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * `load` at most once per `ttlMs`: several gauges read one result per scrape, and scrapes from several Prometheus
 * servers (or a fast interval) do not multiply the queries behind them. A failed load is not kept.
 */
export function cached<T>(load: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ttlMs) {
      const value = load();
      last = { at: Date.now(), value };
      value.catch(() => {
        last = undefined;
      });
    }
    return last.value;
  };
}

/** How long a worker's scrape-time readings (queues, outbox) are reused. */
export const SCRAPE_CACHE_MS = 5_000;

/** A gauge whose value(s) are read at scrape time; a reading that fails leaves the gauge without values. */
export function scrapeGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Promise<{ labels?: Partial<Record<L, string>>; value: number }[]>,
): Gauge<L> {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      const values = await read().catch(() => []);
      for (const { labels, value } of values) {
        if (labels) {
          this.set(labels, value);
        } else {
          this.set(value);
        }
      }
    },
  });
}

/**
 * A worker's gauges read on scrape (each reading cached SCRAPE_CACHE_MS): the depth, consumers and dead letters of
 * every queue its service consumes, and its database's outbox backlog and the age of its oldest message.
 */
export function registerWorkerGauges(
  registry: Registry,
  { service, broker, db }: { service: Service; broker: Broker; db: SqlExecutor },
): void {
  const readQueues = cached(() => queueStats(broker, queuesOf(service)), SCRAPE_CACHE_MS);
  const perQueue = (pick: (s: Awaited<ReturnType<typeof readQueues>>[number]) => number) => async () =>
    (await readQueues()).map((s) => ({ labels: { queue: s.queue }, value: pick(s) }));
  scrapeGauge(
    registry,
    "tidings_queue_messages",
    "Messages ready in each queue the service consumes",
    ["queue"],
    perQueue((s) => s.messages),
  );
  scrapeGauge(
    registry,
    "tidings_queue_consumers",
    "Consumers subscribed to each queue the service consumes (every worker's)",
    ["queue"],
    perQueue((s) => s.consumers),
  );
  scrapeGauge(
    registry,
    "tidings_queue_dead_letters",
    "Messages in each queue's dead-letter queue (<queue>.dlq)",
    ["queue"],
    perQueue((s) => s.deadLetters),
  );
  const readOutbox = cached(() => outboxBacklog(db), SCRAPE_CACHE_MS);
  scrapeGauge(
    registry,
    "tidings_outbox_backlog",
    `Outbox messages not yet published (counted up to ${OUTBOX_COUNT_CAP})`,
    [],
    async () => [{ value: (await readOutbox()).rows }],
  );
  scrapeGauge(
    registry,
    "tidings_outbox_oldest_age_seconds",
    "Age of the oldest outbox message not yet published (0 when the outbox is empty)",
    [],
    async () => [{ value: (await readOutbox()).oldestAgeSeconds }],
  );
}
