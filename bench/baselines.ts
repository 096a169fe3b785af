/**
 * Raw baselines, measured once per run and only when a benchmark asks for one: amqplib publish with
 * confirms and consume (prefetch 200) on one queue; pg single-row and 1,000-row batched inserts. Each records its
 * figures when measured. And the HTTP baseline servers, which the api benchmark measures taking turns with the API
 * (startHttpBaseline).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { catalog } from "@tidings/contracts";
import { DEFAULT_DATABASE_SERVER, dropDatabase, ensureDatabase } from "@tidings/db";
import amqp from "amqplib";
import pg from "pg";
import { ROOT, waitForHealthy } from "../packages/testing/src/processes.ts";
import { AMQP_URL, freePort, newNamespace, rate, record, run, timed } from "./lib.ts";

export const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
export const ROWS = Number(process.env.BENCH_ROWS ?? 2_000);
const payload = catalog["outbound.send"].example;

/** Raw amqplib: publish with confirms (windows of 1,000), then consume with prefetch 200. */
async function amqpBaseline(): Promise<{ publish: number; consume: number }> {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createConfirmChannel();
  const queue = `${newNamespace()}.baseline`;
  await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
  const body = Buffer.from(JSON.stringify(payload));
  const publishMs = await timed(async () => {
    for (let i = 0; i < MESSAGES; i += 1000) {
      for (let j = i; j < Math.min(MESSAGES, i + 1000); j++) {
        channel.publish("", queue, body, {
          persistent: true,
          messageId: randomUUID(),
          contentType: "application/json",
        });
      }
      await channel.waitForConfirms();
    }
  });
  const consumer = await connection.createChannel();
  await consumer.prefetch(200);
  const consumeMs = await timed(
    () =>
      new Promise<void>((resolve) => {
        let seen = 0;
        void consumer.consume(queue, (msg) => {
          if (msg) {
            JSON.parse(msg.content.toString());
            consumer.ack(msg);
            if (++seen === MESSAGES) {
              resolve();
            }
          }
        });
      }),
  );
  await channel.deleteQueue(queue);
  await connection.close();
  const result = { publish: rate(MESSAGES, publishMs), consume: rate(MESSAGES, consumeMs) };
  record({ name: "amqplib: publish with confirms (baseline)", value: result.publish, unit: "msgs/s" });
  record({ name: "amqplib: consume, prefetch 200 (baseline)", value: result.consume, unit: "msgs/s" });
  return result;
}

/** Raw pg: single-row inserts, one round trip each, and 1,000-row batched inserts. */
async function pgBaseline(): Promise<{ single: number; batched: number }> {
  const url = `${DEFAULT_DATABASE_SERVER}/tidings_${run}_pg_baseline`;
  await dropDatabase(url);
  await ensureDatabase(url);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  try {
    await pool.query("CREATE TABLE bench_row (id uuid PRIMARY KEY, name text, payload jsonb)");
    const json = JSON.stringify(payload);
    const singleMs = await timed(async () => {
      for (let i = 0; i < ROWS; i++) {
        await pool.query("INSERT INTO bench_row VALUES ($1, $2, $3)", [randomUUID(), "outbound.send", json]);
      }
    });
    const batches = Math.max(1, Math.round((ROWS * 10) / 1000));
    const batchMs = await timed(async () => {
      for (let b = 0; b < batches; b++) {
        const ids = Array.from({ length: 1000 }, () => randomUUID());
        await pool.query(
          "INSERT INTO bench_row SELECT id, 'outbound.send', $2::jsonb FROM unnest($1::uuid[]) AS id",
          [ids, json],
        );
      }
    });
    const result = { single: rate(ROWS, singleMs), batched: rate(batches * 1000, batchMs) };
    record({ name: "pg: single-row inserts (baseline)", value: result.single, unit: "rows/s" });
    record({ name: "pg: 1,000-row batched inserts (baseline)", value: result.batched, unit: "rows/s" });
    return result;
  } finally {
    await pool.end();
    await dropDatabase(url);
  }
}

/**
 * A baseline server of bench/http-baseline-server.ts in its own process, on a scratch database: `node` (the raw
 * baseline) or `fastify` (the same route in the framework the APIs are built on). `stop` ends it and drops its
 * database.
 */
export async function startHttpBaseline(
  server: "node" | "fastify",
): Promise<{ base: string; pid: number | undefined; stop(): Promise<void> }> {
  const url = `${DEFAULT_DATABASE_SERVER}/tidings_${run}_${server}_baseline`;
  await dropDatabase(url);
  await ensureDatabase(url);
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join("bench", "http-baseline-server.ts")], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DATABASE_URL: url, BASELINE_SERVER: server },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("close", resolve));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    await dropDatabase(url);
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHealthy(base, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { base, pid: child.pid, stop };
}

export interface Baselines {
  amqp(): Promise<{ publish: number; consume: number }>;
  pg(): Promise<{ single: number; batched: number }>;
}

const once = <T>(fn: () => Promise<T>): (() => Promise<T>) => {
  let result: Promise<T> | undefined;
  return () => {
    result ??= fn();
    return result;
  };
};

/** Each baseline is measured the first time a benchmark asks for it, and reused for the rest of the run. */
export const createBaselines = (): Baselines => ({
  amqp: once(amqpBaseline),
  pg: once(pgBaseline),
});
