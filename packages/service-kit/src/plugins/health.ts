import type { Broker, SqlExecutor } from "@tidings/amqp";
import type { FastifyPluginAsync } from "fastify";

export const HEALTH = "/api/health/";

export interface HealthOptions {
  version: string;
  db: SqlExecutor;
  /** Absent in tests of an API alone: the broker is then reported as not configured. */
  broker?: Broker;
}

/** `GET /api/health/` (public): 200 when the database answers and the broker is connected (or not configured), else 503. */
export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, { version, db, broker }) => {
  app.get(HEALTH, { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    const database = await db.$queryRawUnsafe("SELECT 1").then(
      () => "Accessible",
      () => "Inaccessible",
    );
    const brokerState = broker ? (broker.isConnected ? "Connected" : "Disconnected") : "Not configured";
    const up = database === "Accessible" && brokerState !== "Disconnected";
    return reply.code(up ? 200 : 503).send({ up, result: { database, broker: brokerState, version } });
  });
};
