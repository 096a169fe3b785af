/**
 * `POST /api/v1/outbound/` against a real message-sender API process (no workers: its own outbox relay publishes
 * the sends it stored, and they wait in their queue), under the same load as the raw http + pg baseline and the same
 * route in a bare fastify app (the framework's share of the gap).
 */
import type { Baselines } from "./baselines.ts";
import { httpLoad, LOAD, RssSampler, record } from "./lib.ts";
import { AUTH, Platform } from "./platform.ts";

export async function benchApi(baselines: Baselines): Promise<void> {
  const raw = await baselines.http();
  const framework = await baselines.fastify();
  const platform = await Platform.create(["message-sender"], "a");
  const rss = new RssSampler();
  try {
    const api = await platform.start("message-sender", "api");
    rss.track("message-sender api", platform.pid(api));
    const { closed, open, cpuPerRequest, warmUpCpuPerRequest } = await httpLoad(
      platform.api("message-sender"),
      "/api/v1/outbound/",
      platform.pid(api),
      AUTH,
    );
    if (closed.failed + open.failed > 0) {
      throw new Error(
        `api: ${closed.failed + open.failed} requests failed, first: ${closed.firstError ?? open.firstError}`,
      );
    }
    record({
      name: `api: POST /api/v1/outbound/, ${LOAD.concurrency} concurrent`,
      value: closed.rps,
      unit: "req/s",
      baseline: "raw http",
      ratio: closed.rps / raw.closed.rps,
      target: ">= 0.8x raw http",
    });
    record({
      name: "api: the same throughput against the framework's",
      value: closed.rps,
      unit: "req/s",
      baseline: "fastify + pg insert",
      ratio: closed.rps / framework.closed.rps,
    });
    record({
      name: "api: p50 (closed loop)",
      value: closed.p50,
      unit: "ms",
      baseline: "raw http",
      ratio: closed.p50 / raw.closed.p50,
    });
    record({
      name: "api: p99 (closed loop)",
      value: closed.p99,
      unit: "ms",
      baseline: "raw http",
      ratio: closed.p99 / raw.closed.p99,
    });
    record({
      name: `api: p99 at ${LOAD.openRate} req/s offered (open loop)`,
      value: open.p99,
      unit: "ms",
      baseline: "raw http",
      ratio: open.p99 / raw.open.p99,
      target: "<= 50 ms at 1000 req/s",
    });
    record({
      name: "api: CPU time of the API process per request",
      value: cpuPerRequest,
      unit: "ms",
      baseline: "raw http",
      ratio: cpuPerRequest / raw.cpuPerRequest,
    });
    record({
      name: "api: the same CPU time against the framework's",
      value: cpuPerRequest,
      unit: "ms",
      baseline: "fastify + pg insert",
      ratio: cpuPerRequest / framework.cpuPerRequest,
    });
    record({
      name: `api: CPU time per request, its first ${LOAD.warmUp} after start (warm-up)`,
      value: warmUpCpuPerRequest,
      unit: "ms",
      baseline: "raw http",
      ratio: warmUpCpuPerRequest / raw.warmUpCpuPerRequest,
    });
    rss.report("api under load");
  } finally {
    await platform.stop();
  }
}
