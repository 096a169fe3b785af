/**
 * `POST /api/v1/outbound/` against a real message-sender API process (no workers: its own outbox relay publishes
 * the sends it stored, and they wait in their queue), taking turns under the same load with the raw baseline (a bare
 * node:http server doing one pg insert a request) and the same route in a bare fastify app (the framework's share of
 * the gap).
 */
import { startHttpBaseline } from "./baselines.ts";
import {
  type HttpLoadResult,
  type HttpTarget,
  httpLoads,
  LOAD,
  medianRatio,
  RssSampler,
  record,
  roundRatios,
} from "./lib.ts";
import { AUTH, Platform } from "./platform.ts";

const RAW = "raw http + pg insert";
const FRAMEWORK = "fastify + pg insert";

/**
 * BENCH_API_AGAINST=<checkout>: the API of another checkout (built there, same schema) takes turns with the others,
 * and this checkout's API is compared with it round by round: a change's effect, measured in one run.
 */
const AGAINST = process.env.BENCH_API_AGAINST;

/** An API process of a platform of its own (this checkout's, or `root`'s) as a load target. */
async function startApi(
  label: string,
  root?: string,
): Promise<{ target: HttpTarget; stop(): Promise<void> }> {
  const platform = await Platform.create(["message-sender"], label, {}, root);
  try {
    const api = await platform.start("message-sender", "api");
    const target = {
      base: platform.api("message-sender"),
      path: "/api/v1/outbound/",
      pid: platform.pid(api),
      headers: AUTH,
    };
    return { target, stop: () => platform.stop() };
  } catch (err) {
    await platform.stop();
    throw err;
  }
}

export async function benchApi(): Promise<void> {
  const rss = new RssSampler();
  const stops: (() => Promise<void>)[] = [];
  try {
    const raw = await startHttpBaseline("node");
    stops.push(raw.stop);
    const framework = await startHttpBaseline("fastify");
    stops.push(framework.stop);
    const api = await startApi("a");
    stops.push(api.stop);
    const other = AGAINST ? await startApi("b", AGAINST) : undefined;
    if (other) {
      stops.push(other.stop);
    }
    const servers: [string, HttpTarget][] = [
      [RAW, { base: raw.base, path: "/", pid: raw.pid }],
      [FRAMEWORK, { base: framework.base, path: "/", pid: framework.pid }],
      ["message-sender api", api.target],
      ...(other ? [[`message-sender api of ${AGAINST}`, other.target] as [string, HttpTarget]] : []),
    ];
    for (const [label, { pid }] of servers) {
      rss.track(label, pid);
    }
    const loads = await httpLoads(servers.map(([, target]) => target));
    for (const [i, load] of loads.entries()) {
      if (load.closed.failed + load.open.failed > 0) {
        throw new Error(
          `${servers[i]?.[0]}: ${load.closed.failed + load.open.failed} requests failed, first: ${load.closed.firstError ?? load.open.firstError}`,
        );
      }
    }
    const [rawLoad, frameworkLoad, apiLoad, otherLoad] = loads as [
      HttpLoadResult,
      HttpLoadResult,
      HttpLoadResult,
      HttpLoadResult | undefined,
    ];
    recordServer(RAW, rawLoad);
    recordServer(FRAMEWORK, frameworkLoad, rawLoad);
    recordServer("api", apiLoad, rawLoad, {
      throughput: ">= 0.8x raw http",
      openP99: `<= 50 ms at ${LOAD.openRate} req/s`,
    });
    recordAgainst(apiLoad, frameworkLoad, FRAMEWORK);
    if (otherLoad) {
      recordServer(`api of ${AGAINST}`, otherLoad, rawLoad);
      recordAgainst(apiLoad, otherLoad, `api of ${AGAINST}`);
    }
    rss.report("api under load");
  } finally {
    for (const stop of stops.reverse()) {
      await stop();
    }
  }
}

const roundsDetail = (a: HttpLoadResult, b: HttpLoadResult) =>
  `median of the rounds: ${roundRatios(a, b)
    .map((ratio) => ratio.toFixed(2))
    .join(", ")}`;

/** The API's throughput (the median of the rounds' ratios) and CPU per request against another server's. */
function recordAgainst(api: HttpLoadResult, other: HttpLoadResult, label: string): void {
  record({
    name: `api: throughput against the ${label}'s`,
    value: api.closed.rps,
    unit: "req/s",
    baseline: label,
    ratio: medianRatio(api, other),
    detail: roundsDetail(api, other),
  });
  record({
    name: `api: CPU time per request against the ${label}'s`,
    value: api.cpuPerRequest,
    unit: "ms",
    baseline: label,
    ratio: api.cpuPerRequest / other.cpuPerRequest,
  });
}

/** One server's figures; against the raw server's when given (throughput: the median of the rounds' ratios). */
function recordServer(
  label: string,
  load: HttpLoadResult,
  raw?: HttpLoadResult,
  targets?: { throughput: string; openP99: string },
): void {
  record({
    name: `${label}: throughput, ${LOAD.concurrency} concurrent, ${LOAD.rounds} rounds`,
    value: load.closed.rps,
    unit: "req/s",
    ...(raw
      ? {
          baseline: "raw http",
          ratio: medianRatio(load, raw),
          detail: roundsDetail(load, raw),
        }
      : { detail: `rounds: ${load.rounds.map((rps) => rps.toFixed(0)).join(", ")} req/s` }),
    ...(targets ? { target: targets.throughput } : {}),
  });
  const timings: [string, (l: HttpLoadResult) => number, string?][] = [
    ["p50 (closed loop)", (l) => l.closed.p50],
    ["p99 (closed loop)", (l) => l.closed.p99],
    [`p99 at ${LOAD.openRate} req/s offered (open loop)`, (l) => l.open.p99, targets?.openP99],
    ["CPU time of the server process per request", (l) => l.cpuPerRequest],
    [`CPU time per request, its first ${LOAD.warmUp} (warm-up)`, (l) => l.warmUpCpuPerRequest],
  ];
  for (const [name, of, target] of timings) {
    record({
      name: `${label}: ${name}`,
      value: of(load),
      unit: "ms",
      ...(raw ? { baseline: "raw http", ratio: of(load) / of(raw) } : {}),
      ...(target ? { target } : {}),
    });
  }
}
