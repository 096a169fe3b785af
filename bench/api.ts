/**
 * `POST /api/v1/outbound/` against a real message-sender API process (no workers: its own outbox relay publishes
 * the sends it stored, and they wait in their queue), taking turns under the same load with the raw baseline (a bare
 * node:http server doing one pg insert a request) and the same route in a bare fastify app (the framework's share of
 * the gap).
 */
import { startHttpBaseline } from "./baselines.ts";
import { type HttpLoadResult, httpLoads, LOAD, medianRatio, RssSampler, record } from "./lib.ts";
import { AUTH, Platform } from "./platform.ts";

const RAW = "raw http + pg insert";
const FRAMEWORK = "fastify + pg insert";

export async function benchApi(): Promise<void> {
  const rss = new RssSampler();
  const stops: (() => Promise<void>)[] = [];
  try {
    const raw = await startHttpBaseline("node");
    stops.push(raw.stop);
    const framework = await startHttpBaseline("fastify");
    stops.push(framework.stop);
    const platform = await Platform.create(["message-sender"], "a");
    stops.push(() => platform.stop());
    const api = await platform.start("message-sender", "api");
    rss.track(RAW, raw.pid);
    rss.track(FRAMEWORK, framework.pid);
    rss.track("message-sender api", platform.pid(api));
    const [rawLoad, frameworkLoad, apiLoad] = (await httpLoads([
      { base: raw.base, path: "/", pid: raw.pid },
      { base: framework.base, path: "/", pid: framework.pid },
      {
        base: platform.api("message-sender"),
        path: "/api/v1/outbound/",
        pid: platform.pid(api),
        headers: AUTH,
      },
    ])) as [HttpLoadResult, HttpLoadResult, HttpLoadResult];
    for (const [label, load] of [
      [RAW, rawLoad],
      [FRAMEWORK, frameworkLoad],
      ["api: POST /api/v1/outbound/", apiLoad],
    ] as const) {
      if (load.closed.failed + load.open.failed > 0) {
        throw new Error(
          `${label}: ${load.closed.failed + load.open.failed} requests failed, first: ${load.closed.firstError ?? load.open.firstError}`,
        );
      }
    }
    recordServer(RAW, rawLoad);
    recordServer(FRAMEWORK, frameworkLoad, rawLoad);
    recordServer("api", apiLoad, rawLoad, ">= 0.8x raw http");
    record({
      name: "api: throughput against the framework's",
      value: apiLoad.closed.rps,
      unit: "req/s",
      baseline: FRAMEWORK,
      ratio: medianRatio(apiLoad, frameworkLoad),
    });
    record({
      name: "api: CPU time per request against the framework's",
      value: apiLoad.cpuPerRequest,
      unit: "ms",
      baseline: FRAMEWORK,
      ratio: apiLoad.cpuPerRequest / frameworkLoad.cpuPerRequest,
    });
    rss.report("api under load");
  } finally {
    for (const stop of stops.reverse()) {
      await stop();
    }
  }
}

/**
 * One server's figures; against the raw server's when given (throughput: the median of the rounds' ratios). The
 * API's open-loop p99 has a target of its own.
 */
function recordServer(label: string, load: HttpLoadResult, raw?: HttpLoadResult, target?: string): void {
  const against = (value: number, base: number) => (raw ? { baseline: "raw http", ratio: value / base } : {});
  record({
    name: `${label}: throughput, ${LOAD.concurrency} concurrent, ${LOAD.rounds} rounds`,
    value: load.closed.rps,
    unit: "req/s",
    ...(raw
      ? {
          baseline: "raw http",
          ratio: medianRatio(load, raw),
          detail: `median of the rounds: ${load.rounds.map((rps, round) => (rps / (raw.rounds[round] as number)).toFixed(2)).join(", ")}`,
        }
      : { detail: `rounds: ${load.rounds.map((rps) => rps.toFixed(0)).join(", ")} req/s` }),
    ...(target ? { target } : {}),
  });
  record({
    name: `${label}: p50 (closed loop)`,
    value: load.closed.p50,
    unit: "ms",
    ...against(load.closed.p50, raw?.closed.p50 ?? 0),
  });
  record({
    name: `${label}: p99 (closed loop)`,
    value: load.closed.p99,
    unit: "ms",
    ...against(load.closed.p99, raw?.closed.p99 ?? 0),
  });
  record({
    name: `${label}: p99 at ${LOAD.openRate} req/s offered (open loop)`,
    value: load.open.p99,
    unit: "ms",
    ...against(load.open.p99, raw?.open.p99 ?? 0),
    ...(target ? { target: `<= 50 ms at ${LOAD.openRate} req/s` } : {}),
  });
  record({
    name: `${label}: CPU time of the server process per request`,
    value: load.cpuPerRequest,
    unit: "ms",
    ...against(load.cpuPerRequest, raw?.cpuPerRequest ?? 0),
  });
  record({
    name: `${label}: CPU time per request, its first ${LOAD.warmUp} (warm-up)`,
    value: load.warmUpCpuPerRequest,
    unit: "ms",
    ...against(load.warmUpCpuPerRequest, raw?.warmUpCpuPerRequest ?? 0),
  });
}
