export { Broker, type BrokerOptions, type PublishOptions } from "./broker.ts";
export {
  ATTEMPT_HEADER,
  type ConsumeOptions,
  Consumer,
  DEFAULT_PREFETCH,
  type Handler,
  type Handlers,
  type MessageContext,
} from "./consumer.ts";
export {
  countDeadLetters,
  type DeadLetter,
  forgetDeadLetters,
  listDeadLetters,
  type QueueStats,
  queueStats,
  replayDeadLetters,
} from "./dead-letters.ts";
export { NonRetryableError, RetryNotBeforeError } from "./errors.ts";
export { lazyChild } from "./lazy-logger.ts";
export {
  deleteNamespace,
  deleteScratchNamespaces,
  listBrokerQueues,
  parseScratchNamespace,
  type ScratchNamespace,
  STALE_AFTER_MS,
  scratchNamespace,
} from "./namespaces.ts";
export {
  type AtomicChange,
  enqueue,
  enqueueStatement,
  OUTBOX_CHANNEL,
  OUTBOX_COUNT_CAP,
  OUTBOX_MESSAGES,
  type OutboxMessage,
  OutboxRelay,
  type OutboxRelayOptions,
  type OutboxStatement,
  outboxBacklog,
  type PublishedMessage,
} from "./outbox.ts";
export { BrokerUnavailableError, HUNG_BROKER_HELP, type ProbeResult, probeBroker } from "./probe.ts";
export { isFirstDelivery, pruneProcessedMessages } from "./processed.ts";
export type { SqlExecutor } from "./sql.ts";
export {
  activeTraceCarrier,
  handledMessages,
  type TraceCarrier,
  traceContextFrom,
  tracer,
} from "./telemetry.ts";
export { assertTopology, DELIVERY_LIMIT } from "./topology.ts";
