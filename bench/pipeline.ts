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
  expect2xx,
  httpClient,
  type LoadResult,
  outboundBody,
  RssSampler,
  rate,
  record,
  type Send,
} from "./lib.ts";
import { PlatformMeters } from "./meters.ts";
import { AUTH, Platform, twilioChannel } from "./platform.ts";

const MESSAGES = Number(process.env.BENCH_PIPELINE_MESSAGES ?? 5_000);
/**
 * Sends delivered before the measured ones. The services' first thousands of messages run before V8 has optimised
 * their code (in `api`, an API's first ~11,500 requests took 0.27 ms of CPU each, the next 0.15): with 200, a run of
 * 5,000 measured 594-632 msgs/s where runs of 20,000 measured 694-774, the same hour.
 */
const WARM_UP = Number(process.env.BENCH_PIPELINE_WARMUP ?? 5_000);
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

/**
 * Waits until `count` outbounds are delivered, watching the simulator: message-sender's API answers a status
 * callback once its report is committed, so `count` delivered callbacks answered 2xx means `count` delivered
 * outbounds, which one query then confirms. (Polling the database instead counts the whole outbound table every
 * 100 ms: Postgres CPU that grows with the table and would be measured as the platform's.)
 */
export async function waitForDelivered(
  simulator: TwilioSimulator,
  pool: pg.Pool,
  count: number,
  timeoutMs = 600_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  let delivered = 0;
  while (delivered < count && Date.now() < deadline) {
    for (; seen < simulator.callbacks.length; seen++) {
      const { params, responseStatus } = simulator.callbacks[seen] as TwilioSimulator["callbacks"][number];
      if (params.MessageStatus === "delivered" && responseStatus >= 200 && responseStatus < 300) {
        delivered++;
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await waitForOutbounds(pool, "delivered", count, Math.max(deadline - Date.now(), 1_000));
}

/** `count` sends through the API until delivered: the workers are consuming and warmed up. */
export async function warmUp(
  simulator: TwilioSimulator,
  pool: pg.Pool,
  send: Send,
  count: number,
): Promise<LoadResult> {
  const warm = await closedLoop(count, 32, send);
  if (warm.failed > 0) {
    throw new Error(`warm-up: ${warm.failed} requests failed, first: ${warm.firstError}`);
  }
  await waitForDelivered(simulator, pool, warm.ok);
  return warm;
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
    const warm = await warmUp(simulator, pool, send, WARM_UP);
    const meters = await PlatformMeters.start(
      [
        ["API (accept + 2 status callbacks)", [platform.pid(api)]],
        ["workers", workers],
      ],
      [pool],
      "load generator and simulator",
    );
    const start = performance.now();
    const load = await closedLoop(MESSAGES, 32, send);
    if (load.failed > 0) {
      throw new Error(`pipeline: ${load.failed} requests failed, first: ${load.firstError}`);
    }
    await waitForDelivered(simulator, pool, warm.ok + MESSAGES);
    const ms = performance.now() - start;
    record({
      name: `pipeline: ${MESSAGES} accepted -> simulator -> delivered, ${WORKERS} workers`,
      value: rate(MESSAGES, ms),
      unit: "msgs/s",
      baseline: "amqplib consume",
      ratio: rate(MESSAGES, ms) / raw.consume,
      target: ">= 1000 msgs/s",
    });
    record({ name: "pipeline: API accepted (while the workers send)", value: load.rps, unit: "req/s" });
    // The targets of issue 22 (BENCHMARKS.md).
    await meters.report("pipeline", MESSAGES, {
      platform: "<= 1.5 ms",
      transactions: "<= 1.5",
      rows: "<= 6",
    });
    rss.report("pipeline");
  } finally {
    client.close();
    await pool.end();
    await platform.stop();
    await simulator?.close();
  }
}
