import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Broker, SqlExecutor } from "@tidings/amqp";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Stop } from "./lifecycle.ts";

export interface WorkerHttpOptions {
  port: number;
  host: string;
  /** When `port` is taken, listen on any free port instead (logged) rather than fail. */
  anyPortIfTaken?: boolean;
  logger: Logger;
  db: SqlExecutor;
  broker: Broker;
  /** Served at /metrics (see scrapeRegistry). */
  metrics: () => Registry;
}

/** How long /ready waits for the database to answer. */
const READY_TIMEOUT_MS = 2_000;

async function databaseAnswers(db: SqlExecutor): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
  });
  const query = Promise.resolve(db.$queryRawUnsafe("SELECT 1")).then(
    () => true,
    () => false,
  );
  return Promise.race([query, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A worker process's HTTP listener (no auth: bind it to an internal network): `GET /health` answers 200 while the
 * process runs (liveness), `GET /ready` 200 when the database answers and the broker connection is up, else 503
 * (readiness), and `GET /metrics` its Prometheus metrics. Returns the port it listens on and its stop.
 */
export async function startWorkerHttp(options: WorkerHttpOptions): Promise<{ port: number; stop: Stop }> {
  const { db, broker, logger } = options;
  const server = createServer((request, response) => {
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      response.end(body);
    };
    const json = (status: number, body: unknown) => send(status, "application/json", JSON.stringify(body));
    const path = (request.url ?? "/").split("?")[0]?.replace(/\/+$/, "") || "/";
    if (request.method !== "GET" && request.method !== "HEAD") {
      json(405, { error: { code: "METHOD_NOT_ALLOWED", message: "Only GET." } });
      return;
    }
    if (path === "/health") {
      json(200, { up: true });
    } else if (path === "/ready") {
      void databaseAnswers(db).then((database) => {
        const brokerUp = broker.isConnected;
        json(database && brokerUp ? 200 : 503, {
          up: database && brokerUp,
          result: {
            database: database ? "Accessible" : "Inaccessible",
            broker: brokerUp ? "Connected" : "Disconnected",
          },
        });
      });
    } else if (path === "/metrics") {
      const registry = options.metrics();
      registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        (err: unknown) => {
          logger.warn({ err }, "metrics scrape failed");
          json(500, { error: { code: "INTERNAL", message: "The metrics could not be read." } });
        },
      );
    } else {
      json(404, { error: { code: "NOT_FOUND", message: "GET /health, /ready or /metrics." } });
    }
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(options.port).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EADDRINUSE" || !options.anyPortIfTaken) {
      throw err;
    }
    logger.warn(
      { port: options.port },
      "worker http port taken (another worker here?); listening on a free port",
    );
    return listen(0);
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, "worker http listening (/health, /ready, /metrics)");
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
