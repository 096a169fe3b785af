/**
 * The end-to-end send pipeline over real processes: `POST /api/v1/outbound/` accepted -> a message-sender
 * worker sends it to the Twilio simulator (no latency) -> the simulator's status callbacks reach the API ->
 * the outbound is `delivered`. Messages per second from the first request to the last delivery.
 */
import { performance } from "node:perf_hooks";
import type pg from "pg";
import type { TwilioSimulator } from "../packages/provider-simulators/src/twilio.ts";
import type { Baselines } from "./baselines.ts";
import {
  closedLoop,
  cpuMeter,
  expect2xx,
  httpClient,
  outboundBody,
  pidsNamed,
  RssSampler,
  rate,
  record,
} from "./lib.ts";
import { AUTH, Platform, twilioChannel } from "./platform.ts";

const MESSAGES = Number(process.env.BENCH_PIPELINE_MESSAGES ?? 5_000);
const WORKERS = Number(process.env.BENCH_PIPELINE_WORKERS ?? 2);

/** Polls until `count` outbounds are in `status`; throws if any failed. */
export async function waitForOutbounds(
  pool: pg.Pool,
  status: "submitted" | "delivered",
  count: number,
  timeoutMs = 600_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const statuses = status === "submitted" ? ["submitted", "delivered"] : ["delivered"];
  for (;;) {
    const { rows } = await pool.query<{ done: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE status = ANY($1))::int AS done,
              count(*) FILTER (WHERE status = 'failed')::int AS failed FROM outbound`,
      [statuses],
    );
    const { done = 0, failed = 0 } = rows[0] ?? {};
    if (failed > 0) {
      throw new Error(`${failed} outbounds failed`);
    }
    if (done >= count) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`only ${done} of ${count} outbounds ${status} after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function benchPipeline(baselines: Baselines): Promise<void> {
  const raw = await baselines.amqp();
  const platform = await Platform.create(["message-sender"], "p");
  const rss = new RssSampler();
  const pool = platform.pool("message-sender");
  const workers: (number | undefined)[] = [];
  const client = httpClient(platform.api("message-sender"), 64);
  let n = 0;
  const send = () => expect2xx(client.request("POST", "/api/v1/outbound/", outboundBody(n++), AUTH));
  let simulator: TwilioSimulator | undefined;
  try {
    const api = await platform.start("message-sender", "api");
    rss.track("message-sender api", platform.pid(api));
    simulator = await twilioChannel(platform, 0);
    for (let w = 0; w < WORKERS; w++) {
      const worker = await platform.start("message-sender", "worker");
      rss.track(`message-sender worker ${w + 1}`, platform.pid(worker));
      workers.push(platform.pid(worker));
    }
    // Warm up (and wait for the workers to be consuming).
    const warm = await closedLoop(200, 16, send);
    if (warm.failed > 0) {
      throw new Error(`pipeline warm-up: ${warm.failed} requests failed, first: ${warm.firstError}`);
    }
    await waitForOutbounds(pool, "delivered", warm.ok);
    const apiCpu = await cpuMeter([platform.pid(api)]);
    const workerCpu = await cpuMeter(workers);
    // Everything else the pipeline runs on the same cores: Postgres (its backends, already connected), RabbitMQ,
    // and this process (load generator and Twilio simulator).
    const postgresCpu = await cpuMeter(await pidsNamed("postgres"));
    const rabbitCpu = await cpuMeter(await pidsNamed("beam.smp"));
    const benchCpu = await cpuMeter([process.pid]);
    const commits = async () =>
      (
        await pool.query<{ n: number; rows: number }>(
          `SELECT xact_commit::float8 AS n, (tup_inserted + tup_updated + tup_deleted)::float8 AS rows
           FROM pg_stat_database WHERE datname = current_database()`,
        )
      ).rows[0] ?? { n: 0, rows: 0 };
    const commitsBefore = await commits();
    const start = performance.now();
    const load = await closedLoop(MESSAGES, 32, send);
    if (load.failed > 0) {
      throw new Error(`pipeline: ${load.failed} requests failed, first: ${load.firstError}`);
    }
    await waitForOutbounds(pool, "delivered", warm.ok + MESSAGES);
    const ms = performance.now() - start;
    record({
      name: `pipeline: ${MESSAGES} accepted -> simulator -> delivered, ${WORKERS} workers`,
      value: rate(MESSAGES, ms),
      unit: "msgs/s",
      baseline: "amqplib consume",
      ratio: rate(MESSAGES, ms) / raw.consume,
      target: ">= 3000 msgs/s",
    });
    record({ name: "pipeline: API accepted (while the workers send)", value: load.rps, unit: "req/s" });
    record({
      name: "pipeline: CPU per message, API (accept + 2 status callbacks)",
      value: await apiCpu.per(MESSAGES),
      unit: "ms",
    });
    record({ name: "pipeline: CPU per message, workers", value: await workerCpu.per(MESSAGES), unit: "ms" });
    record({
      name: "pipeline: CPU per message, Postgres",
      value: await postgresCpu.per(MESSAGES),
      unit: "ms",
    });
    await new Promise((r) => setTimeout(r, 1_500)); // backends report their statistics about once a second
    const commitsAfter = await commits();
    record({
      name: "pipeline: Postgres transactions per message",
      value: (commitsAfter.n - commitsBefore.n) / MESSAGES,
      unit: "",
    });
    record({
      name: "pipeline: rows written per message",
      value: (commitsAfter.rows - commitsBefore.rows) / MESSAGES,
      unit: "",
    });
    record({ name: "pipeline: CPU per message, RabbitMQ", value: await rabbitCpu.per(MESSAGES), unit: "ms" });
    record({
      name: "pipeline: CPU per message, load generator and simulator",
      value: await benchCpu.per(MESSAGES),
      unit: "ms",
    });
    await rss.report("pipeline");
  } finally {
    client.close();
    await pool.end();
    await platform.stop();
    await simulator?.close();
  }
}
