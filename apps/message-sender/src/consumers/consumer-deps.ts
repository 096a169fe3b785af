import type { Broker } from "@tidings/amqp";
import type { MessageSenderConfig } from "../config.ts";
import type { Db } from "../db.ts";
import type { Logger } from "../outbound/channel.ts";

/** What every consumer of the worker starts from. */
export interface ConsumerDeps {
  config: MessageSenderConfig;
  db: Db;
  broker: Broker;
  logger: Logger;
}
