import type { TSchema } from "typebox";

/** The services; each producing service owns one topic exchange of the same name. */
export const SERVICES = ["identity", "subscription", "content", "scheduler", "message-sender"] as const;
export type Service = (typeof SERVICES)[number];

export interface MessageDefinition {
  /** Events say what happened (`<entity>.<past-verb>`); commands ask for work (`<entity>.<imperative>`). */
  kind: "event" | "command";
  exchange: Service;
  schema: TSchema;
  example: unknown;
  description: string;
  /**
   * Routes copies of the message by a payload field: published with routing key `<name>.<value>` (the plain
   * name for `default` or no value), so queues can split it into lanes. See `routingKey`.
   */
  lanes?: { field: string; values: readonly string[]; default: string };
}
