import { catalog, type MessageName } from "./catalog.ts";
import { type MessageDefinition, SERVICES, type Service } from "./definitions.ts";

export interface RetryPolicy {
  /** Deliveries before a message goes to the dead-letter queue (the first try included). */
  maxAttempts: number;
  /** Wait before each retry; retry n waits delaysMs[n-1] (the last one repeats). */
  delaysMs: readonly number[];
  /** Each wait is spread by up to this fraction either way, so failures that came together retry apart. */
  jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  delaysMs: [1_000, 5_000, 30_000, 120_000],
  jitter: 0.2,
};

/** The wait before retry number `attempt` (1-based) under a policy, before jitter (the last delay repeats). */
export const baseRetryDelay = (policy: Pick<RetryPolicy, "delaysMs">, attempt: number): number =>
  policy.delaysMs[Math.min(attempt, policy.delaysMs.length) - 1] ?? 1_000;

/** The wait before retry number `attempt` (1-based) under a policy; `random` is in [0, 1). */
export function retryDelay(
  policy: Pick<RetryPolicy, "delaysMs" | "jitter">,
  attempt: number,
  random = Math.random(),
) {
  return Math.max(0, Math.round(baseRetryDelay(policy, attempt) * (1 + policy.jitter * (2 * random - 1))));
}

export interface QueueDefinition {
  /** The service whose workers consume it. */
  consumer: Service;
  /** The messages routed into it; each is bound from its own exchange with its name as routing key. */
  messages: readonly MessageName[];
  /** Routing keys bound instead of the message names (lanes: `outbound.send.high`), on their exchange. */
  bindings?: readonly string[];
  /**
   * Routing keys it was bound with before and no longer is, unbound from its messages' exchanges when the
   * topology is declared (a binding outlives the code that made it).
   */
  unbound?: readonly string[];
  retry: RetryPolicy;
  description: string;
}

const queue = <const M extends readonly MessageName[]>(
  consumer: Service,
  messages: M,
  description: string,
  retry: RetryPolicy = DEFAULT_RETRY,
) => ({ consumer, messages, retry, description }) satisfies QueueDefinition;

/** Queues are `<consumer-service>.<purpose>`. Each has a `<queue>.dlq`; retries wait in the namespace's delay queues. */
export const queues = {
  "scheduler.content-schedules": queue(
    "scheduler",
    ["content.schedule.changed", "content.schedule.deleted", "optout.created"],
    "Mirror content schedules into scheduler schedules; take a forgotten person out of every schedule (one queue for both: a namespace's queues are at their limit).",
  ),
  "scheduler.http-deliveries": queue(
    "scheduler",
    ["schedule.deliver"],
    "POST due slots of HTTP schedules; after the last attempt a failure record (GET /api/v1/failed-tasks/).",
    // Seed: 5 tries, growing delays capped near 300 s, with jitter.
    { maxAttempts: 5, delaysMs: [5_000, 30_000, 120_000, 300_000], jitter: 0.2 },
  ),
  "subscription.fan-out": queue(
    "subscription",
    ["schedule.fired", "subscription.fan-out"],
    "Fan a fired (or manually triggered) content schedule out to its ready subscriptions.",
  ),
  "subscription.send-next": queue(
    "subscription",
    ["subscription.send-next"],
    "Send one subscription its next message.",
  ),
  "subscription.content": queue(
    "subscription",
    [
      "content.schedule.changed",
      "content.schedule.deleted",
      "content.messageset.changed",
      "content.messageset.deleted",
      "content.message.changed",
      "content.message.deleted",
      "content.template.changed",
      "content.template.deleted",
    ],
    "Keep the local copy of schedules, message sets, messages and templates.",
  ),
  "subscription.identity-events": queue(
    "subscription",
    ["identity.deleted", "optout.created", "identity.max_failures", "identity.updated"],
    "Stop subscriptions of identities that are gone, opted out of everything, or keep failing; follow language changes.",
  ),
  "subscription.outbound-failures": queue(
    "subscription",
    ["outbound.failed"],
    "Mark a subscription whose identity has no address (process_status -1) when its send fails for that.",
  ),
  "subscription.topic-fan-out": queue(
    "subscription",
    ["topic.fan-out"],
    "Page through a topic publish's subscribers and send them in batches.",
  ),
  "subscription.topic-send": queue(
    "subscription",
    ["topic.send-batch"],
    "Mail-merge and send a topic publish to a batch of subscribers.",
  ),
  "subscription.identity-copy": queue(
    "subscription",
    ["identity.created", "identity.updated", "identity.deleted"],
    "Keep the local copy of identities (verified addresses, opt-outs, details) that topics send from.",
  ),
  "subscription.topic-deliveries": {
    ...queue(
      "subscription",
      ["outbound.delivery_report"],
      "Record delivery reports of topic messages in their publish's counts.",
    ),
    // Only topic messages' reports: until 2026-12 it was bound to every report, and changed nothing for the others.
    bindings: ["outbound.delivery_report.topic"],
    unbound: ["outbound.delivery_report"],
  },
  "message-sender.outbound-send": queue(
    "message-sender",
    ["outbound.send"],
    "Send outbound messages: the normal lane.",
  ),
  "message-sender.outbound-send-high": {
    ...queue("message-sender", ["outbound.send"], "Send outbound messages: the high-priority lane (codes)."),
    bindings: ["outbound.send.high"],
  },
  "message-sender.outbound-send-bulk": {
    ...queue("message-sender", ["outbound.send"], "Send outbound messages: the bulk lane (fan-outs)."),
    bindings: ["outbound.send.bulk"],
  },
  "message-sender.address-book": queue(
    "message-sender",
    ["identity.created", "identity.updated", "identity.deleted", "optout.created"],
    "Keep the local address book that resolves to_identity; on forget, cancel and redact the person's messages.",
  ),
  "message-sender.consent": queue(
    "message-sender",
    ["optout.created", "optin.created"],
    "Keep the local copy of consent that every send is checked against, however it is addressed.",
  ),
  "message-sender.templates": queue(
    "message-sender",
    ["content.template.changed", "content.template.deleted"],
    "Keep the local copy of content templates that renders templated sends.",
  ),
  "identity.inbound": queue(
    "identity",
    ["inbound.received"],
    "Turn STOP and START keywords in inbound messages into opt-outs and opt-ins.",
  ),
  "identity.provider-optouts": queue(
    "identity",
    ["optout.reported"],
    "Record a provider's report that a recipient unsubscribed (Twilio 21610) as a stop opt-out from source provider.",
  ),
  "identity.unsubscribes": queue(
    "identity",
    ["topic.unsubscribed"],
    "Record unsubscribe-link use as unsubscribe opt-outs in the consent ledger.",
  ),
  "identity.forgets": queue(
    "identity",
    ["optout.created"],
    "On a forget, remove the person's dead letters from identity's dead-letter queues (its database forgot them in the opt-out's transaction).",
  ),
  "identity.delivery-reports": {
    ...queue(
      "identity",
      ["outbound.delivery_report"],
      "Count consecutive failed sends per identity (and reset on a delivery).",
    ),
    bindings: routingKeysFor("outbound.delivery_report"),
  },
} as const satisfies Record<string, QueueDefinition>;

export type QueueName = keyof typeof queues;
export type QueueMessages<Q extends QueueName> = (typeof queues)[Q]["messages"][number];

export const queueNames = Object.keys(queues) as QueueName[];

/** The queues `service` consumes. */
export const queuesOf = (service: Service): QueueName[] =>
  queueNames.filter((q) => queues[q].consumer === service);

export const exchangeFor = (name: MessageName): Service => catalog[name].exchange;

/** The routing key a message is published with: its name, or `<name>.<lane>` for a message with lanes. */
export function routingKey(name: MessageName, payload: unknown): string {
  const { lanes }: MessageDefinition = catalog[name];
  if (!lanes) {
    return name;
  }
  const value = (payload as Record<string, unknown> | null)?.[lanes.field];
  return typeof value === "string" && value !== lanes.default ? `${name}.${value}` : name;
}

/** Every routing key a message may be published with (to bind a queue that should see all of them). */
export function routingKeysFor(name: MessageName): string[] {
  const { lanes }: MessageDefinition = catalog[name];
  return [name, ...(lanes?.values ?? []).filter((v) => v !== lanes?.default).map((v) => `${name}.${v}`)];
}

/**
 * The delays a retry can wait, shared by every queue of a namespace: one delay queue each, whatever the number of
 * consumer queues (a quorum queue keeps several files open on the broker, so queues must not multiply per consumer
 * queue). Every policy's delays fall on or under one of them; a wait longer than the last waits in the last.
 */
export const DELAY_LEVELS_MS = [1_000, 5_000, 30_000, 120_000, 300_000] as const;

/** The delay queue a wait of `ms` belongs in: the shortest level that covers it (the last for longer waits). */
export const delayLevelFor = (ms: number): number =>
  DELAY_LEVELS_MS.find((level) => level >= ms) ?? (DELAY_LEVELS_MS.at(-1) as number);

/** The AMQP header that routes a retry through the delay exchange into its delay queue (no `x-`: those don't match). */
export const DELAY_HEADER = "tidings-delay";

/**
 * Names as declared on the broker. A namespace (tests use one per file) prefixes every exchange and queue,
 * so several platforms can share one broker without seeing each other's messages.
 */
export interface Names {
  exchange(service: Service): string;
  queue(name: QueueName): string;
  deadLetterQueue(name: QueueName): string;
  /** The headers exchange a retry is published to, with its queue's name as routing key. */
  delayExchange(): string;
  /** The delay queue of one level: it holds retries until they expire, then dead-letters them to their queue. */
  delayQueue(levelMs: number): string;
}

export function namesFor(namespace = ""): Names {
  const p = namespace ? `${namespace}.` : "";
  return {
    exchange: (service) => `${p}${service}`,
    queue: (name) => `${p}${name}`,
    deadLetterQueue: (name) => `${p}${name}.dlq`,
    // `tidings.delay-<ms>`: the per-queue `<queue>.retry-<n>` and `<queue>.retry.<n>` queues of earlier versions
    // may be deleted once empty.
    delayExchange: () => `${p}tidings.delay`,
    delayQueue: (levelMs) => `${p}tidings.delay-${levelMs}`,
  };
}

export const exchanges: readonly Service[] = SERVICES;

/**
 * Every queue name the topology declares: each consumer queue and its dead-letter queue, then the namespace's
 * delay queues. Clean-up tools delete exactly these.
 */
export function declaredQueues(names: Names): string[] {
  return [
    ...queueNames.flatMap((name) => [names.queue(name), names.deadLetterQueue(name)]),
    ...DELAY_LEVELS_MS.map((level) => names.delayQueue(level)),
  ];
}

/** The most queues a namespace may declare (issue 16: the broker here hangs when quorum queues pile up). */
export const MAX_QUEUES_PER_NAMESPACE = 50;
