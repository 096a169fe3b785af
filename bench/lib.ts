/**
 * What every benchmark shares: the figure table and its JSON, timing and percentiles, a closed-loop and an
 * open-loop HTTP load generator (keep-alive), a per-process RSS sampler, and scratch databases/namespaces.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  deleteNamespace as deleteAmqpNamespace,
  deleteScratchNamespaces,
  probeBroker,
  scratchNamespace,
} from "@tidings/amqp";
import { applyMigrations, DEFAULT_DATABASE_SERVER, dropDatabase } from "@tidings/db";
import type pg from "pg";
import pino from "pino";
import { startJanitor } from "../packages/testing/src/cleanup.ts";
import { ROOT } from "../packages/testing/src/processes.ts";

export { freePort } from "../packages/testing/src/processes.ts";

export const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
export const logger = pino({ level: "silent" });
/** Names this run's databases (`tidings_<run>_…`), so concurrent runs never touch each other. */
export const run = `bench${process.pid}`;

let scratchKind = "bench";

/**
 * Before a benchmark or chaos run: checks that the broker answers (a hung one fails in seconds, saying why),
 * deletes the scratch namespaces that runs killed over an hour ago left, and starts a janitor that deletes this
 * run's namespaces and databases once it is gone, however it ends.
 */
export async function beginScratchRun(kind: "bench" | "chaos"): Promise<void> {
  scratchKind = kind;
  await probeBroker(AMQP_URL);
  await deleteScratchNamespaces(AMQP_URL);
  startJanitor([`tidings_${run}_`]);
}

/** A new AMQP namespace of this run (`bench-<time>-<pid>-<random>`, or `chaos-…`). */
export const newNamespace = (): string => scratchNamespace(scratchKind);

/** Deletes every queue and exchange of a namespace. */
export const deleteNamespace = (namespace: string): Promise<void> => deleteAmqpNamespace(AMQP_URL, namespace);

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The baseline this figure is compared with, measured in the same run. */
  baseline?: string;
  ratio?: number;
  /** A target from issue 10, as text (e.g. ">= 1500 req/s"). */
  target?: string;
  /** What the value is made of, as text (e.g. each round's ratio). */
  detail?: string;
}

const figures: Figure[] = [];

const digits = (value: number) => (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);

/** Records a figure and prints its row of the table. */
export function record(f: Figure): void {
  figures.push(f);
  const ratio =
    f.ratio === undefined
      ? ""
      : `${f.ratio >= 0.1 ? f.ratio.toFixed(2) : f.ratio.toPrecision(2)}x ${f.baseline}`;
  const target = f.target ? `  (target ${f.target})` : "";
  const detail = f.detail ? `  [${f.detail}]` : "";
  process.stdout.write(
    `  ${f.name.padEnd(62)} ${f.value.toFixed(digits(f.value)).padStart(10)} ${f.unit.padEnd(8)} ${ratio}${target}${detail}\n`,
  );
}

/** Writes bench/results/latest.json with every figure recorded so far. */
export async function writeResults(benches: string[]): Promise<string> {
  const out = path.join(ROOT, "bench", "results");
  await mkdir(out, { recursive: true });
  const file = path.join(out, "latest.json");
  const load = (await readFile("/proc/loadavg", "utf8").catch(() => "")).split(" ").slice(0, 3).join(" ");
  await writeFile(
    file,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        machine: {
          cores: os.cpus().length,
          cpu: os.cpus()[0]?.model,
          memoryGiB: Math.round(os.totalmem() / 2 ** 30),
          node: process.version,
          loadAverageAtEnd: load,
        },
        benches,
        figures,
      },
      null,
      2,
    )}\n`,
  );
  return file;
}

export const rate = (count: number, ms: number) => (count * 1000) / ms;

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** The p-th percentile (0-100) of the values, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** A migrated scratch database of one service, named after this run. */
export async function benchDatabase(
  service: string,
  label = "",
): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = `${DEFAULT_DATABASE_SERVER}/tidings_${run}_${label}_${service.replaceAll("-", "_")}`;
  await dropDatabase(url);
  await applyMigrations(path.join(ROOT, "apps", service), url);
  return { url, drop: () => dropDatabase(url) };
}

/**
 * Autovacuum as a production server runs it, where this one does not: this machine's Postgres has autovacuum off
 * (its CI configuration), so dead rows pile up (the outbox's, each inserted and deleted; each outbound's older
 * versions) and the planner's statistics stay those of the empty tables. When the server's autovacuum is off,
 * VACUUM (ANALYZE) each database every 60 s (autovacuum_naptime's default) until the returned stop; else nothing.
 */
export async function emulateAutovacuum(pools: pg.Pool[]): Promise<() => Promise<void>> {
  const [first] = pools;
  const { rows } = first ? await first.query<{ autovacuum: string }>("SHOW autovacuum") : { rows: [] };
  if (rows[0]?.autovacuum !== "off") {
    return async () => undefined;
  }
  process.stdout.write(
    "  (autovacuum is off on this server: the bench runs VACUUM (ANALYZE) every 60 s instead)\n",
  );
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      for (const pool of pools) {
        await pool
          .query("VACUUM (ANALYZE)")
          .catch((err) => process.stderr.write(`  VACUUM failed: ${err}\n`));
      }
    });
  }, 60_000);
  timer.unref(); // a benchmark that throws before its stop still exits
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export interface HttpReply {
  status: number;
  body: string;
}

export interface HttpClient {
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpReply>;
  close(): void;
}

/** A keep-alive HTTP/1.1 client over at most `connections` sockets (node:http: less overhead than fetch). */
export function httpClient(base: string, connections: number): HttpClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const origin = new URL(base);
  return {
    request(method, urlPath, body, headers = {}) {
      const data = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: origin.hostname,
            port: origin.port,
            path: urlPath,
            method,
            agent,
            headers: {
              ...headers,
              ...(data === undefined
                ? {}
                : { "content-type": "application/json", "content-length": Buffer.byteLength(data) }),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
            );
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end(data);
      });
    },
    close: () => agent.destroy(),
  };
}

/** The reply, or an error naming its status and body when it is not a 2xx. */
export async function expect2xx(reply: Promise<HttpReply>): Promise<HttpReply> {
  const res = await reply;
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  }
  return res;
}

export interface LoadResult {
  ok: number;
  failed: number;
  ms: number;
  /** Successful requests per second. */
  rps: number;
  p50: number;
  p99: number;
  /** What the first failed request threw. */
  firstError?: string;
}

/** One request; it throws (or rejects) when it did not succeed. */
export type Send = (i: number) => Promise<unknown>;

/** Counts the outcomes and latencies of requests. */
class Tally {
  readonly latencies: number[] = [];
  ok = 0;
  failed = 0;
  firstError?: string;

  async time(send: Send, i: number, from: number): Promise<void> {
    try {
      await send(i);
      this.ok++;
    } catch (err) {
      this.failed++;
      this.firstError ??= String(err);
    }
    this.latencies.push(performance.now() - from);
  }

  result(ms: number): LoadResult {
    const { ok, failed, firstError, latencies } = this;
    return {
      ok,
      failed,
      ms,
      rps: rate(ok, ms),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      ...(firstError ? { firstError } : {}),
    };
  }
}

/** Closed loop: `concurrency` callers, each sending its next request when the previous one answered. */
export async function closedLoop(
  total: number,
  concurrency: number,
  send: Send,
  tally = new Tally(),
): Promise<LoadResult> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        await tally.time(send, next++, performance.now());
      }
    }),
  );
  return tally.result(performance.now() - start);
}

/**
 * Open loop: requests are started at a fixed rate whatever the answers do, and each latency is measured from
 * when its request was due (no coordinated omission: a stalled server is charged for the queue it causes).
 */
export async function openLoop(perSecond: number, durationMs: number, send: Send): Promise<LoadResult> {
  const total = Math.round((perSecond * durationMs) / 1000);
  const tally = new Tally();
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let issued = 0;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * perSecond) / 1000) + 1);
    for (; issued < due; issued++) {
      inFlight.push(tally.time(send, issued, start + (issued * 1000) / perSecond));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inFlight);
  return tally.result(performance.now() - start);
}

/**
 * A file of /proc, or "" once its process is gone. Read synchronously: the meters read one every 1-2 ms (each
 * process's name, every 250 ms, for each named meter), and asynchronous reads (open, stat, read and close on the thread
 * pool, each with its promise) took a sixth of the bench process's busy samples in `pipeline`, CPU counted as the load
 * generator's and taken from the machine the platform runs on; a read of /proc does not block.
 */
function readProc(file: string): string {
  try {
    return readFileSync(`/proc/${file}`, "utf8");
  } catch {
    return "";
  }
}

/** The resident set size of a process in MB (from /proc), or undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  const status = readProc(`${pid}/status`);
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
}

/** Samples the RSS of named processes every 250 ms and keeps each one's maximum. */
export class RssSampler {
  readonly max = new Map<string, number>();
  private readonly pids = new Map<string, number>();
  private readonly timer = setInterval(() => this.sample(), 250).unref();

  track(name: string, pid: number | undefined): void {
    if (pid !== undefined) {
      this.pids.set(name, pid);
    }
  }

  sample(): void {
    for (const [name, pid] of this.pids) {
      const mb = rssMb(pid);
      if (mb !== undefined && mb > (this.max.get(name) ?? 0)) {
        this.max.set(name, mb);
      }
    }
  }

  /** Stops sampling and records one figure per process: its maximum RSS. */
  report(label: string): void {
    clearInterval(this.timer);
    this.sample();
    for (const [name, mb] of this.max) {
      record({ name: `RSS max, ${label}: ${name}`, value: mb, unit: "MB", target: "<= 200 MB" });
    }
  }
}

/**
 * The HTTP load both the raw baseline and the API get (BENCH_API_* scale it): `warmUp` requests first, then 20,000
 * measured. A server just started spends its first thousands of requests before V8 has optimised its code: the
 * message-sender API's first 11,500 took 0.27 ms of CPU each, the next 0.15 (its compiler threads 0.08 ms a request,
 * then 0.01-0.02), so a figure that averaged them measured how far the JIT had got (0.74x raw in one run of 5,000
 * requests, 0.47-0.66x in runs of 20,000 the same hour). The warm-up's CPU is reported on its own.
 */
export const LOAD = {
  warmUp: Number(process.env.BENCH_API_WARMUP ?? 10_000),
  requests: Number(process.env.BENCH_API_REQUESTS ?? 20_000),
  concurrency: Number(process.env.BENCH_API_CONCURRENCY ?? 32),
  openRate: Number(process.env.BENCH_OPEN_RATE ?? 1_000),
  openSeconds: Number(process.env.BENCH_OPEN_SECONDS ?? 5),
  /** The closed loops' requests are split in this many rounds, the servers taking turns (httpLoads). */
  rounds: Number(process.env.BENCH_API_ROUNDS ?? 10),
};

/** A send request's body: a distinct address and content per index. */
export const outboundBody = (i: number) => ({
  to_addr: `+2782${String(i % 10_000_000).padStart(7, "0")}`,
  content: `Bench message ${i}`,
  metadata: {},
});

/** A server `httpLoads` POSTs `path` to, and its pid (for its CPU time). */
export interface HttpTarget {
  base: string;
  path: string;
  pid: number | undefined;
  headers?: Record<string, string>;
}

export interface HttpLoadResult {
  /** The closed loops of every round together: throughput, p50/p99 at LOAD.concurrency. */
  closed: LoadResult;
  /** Each round's closed-loop throughput (req/s), in round order. */
  rounds: number[];
  /** At LOAD.openRate per second: p99. */
  open: LoadResult;
  /**
   * CPU time of the server per request in its warm-up, and from the first round to the end of its open loop (its
   * idle time in the others' turns included: a few ms a second for an API's pollers; the relaying of its last
   * requests after its turn too).
   */
  warmUpCpuPerRequest: number;
  cpuPerRequest: number;
}

/**
 * `POST path` to each target under LOAD, the targets taking turns: each is warmed up, then in each of LOAD.rounds
 * rounds every target has a closed loop of its share of LOAD.requests (the order turning from round to round), then
 * each an open loop at LOAD.openRate per second. A request succeeds on a 2xx. Taking turns puts what else the machine
 * does meanwhile on every target alike, so a ratio of two targets' throughputs taken round by round
 * (`medianRatio`) holds still where loads measured one after the other, a minute apart, did not: six runs of the same
 * code gave the API 0.66x to 0.83x the raw server's throughput that way.
 */
export async function httpLoads(targets: HttpTarget[]): Promise<HttpLoadResult[]> {
  const loads = targets.map(({ base, path: urlPath, pid, headers = {} }) => {
    const client = httpClient(base, Math.max(LOAD.concurrency, 256));
    const counter = { sent: 0 };
    const send: Send = () =>
      expect2xx(client.request("POST", urlPath, outboundBody(counter.sent++), headers));
    return { client, pid, counter, send, tally: new Tally(), ms: 0, rounds: [] as number[] };
  });
  try {
    const warmUps: number[] = [];
    for (const load of loads) {
      const cpu = cpuMeter([load.pid]);
      await closedLoop(LOAD.warmUp, LOAD.concurrency, load.send);
      warmUps.push(cpu.per(load.counter.sent));
    }
    const measured = loads.map((load) => ({ cpu: cpuMeter([load.pid]), from: load.counter.sent }));
    const perRound = Math.ceil(LOAD.requests / LOAD.rounds);
    for (let round = 0; round < LOAD.rounds; round++) {
      for (let k = 0; k < loads.length; k++) {
        const load = loads[(round + k) % loads.length] as (typeof loads)[number];
        const ok = load.tally.ok;
        const { ms } = await closedLoop(perRound, LOAD.concurrency, load.send, load.tally);
        load.ms += ms;
        load.rounds[round] = rate(load.tally.ok - ok, ms);
      }
    }
    const results: HttpLoadResult[] = [];
    for (const [i, load] of loads.entries()) {
      const open = await openLoop(LOAD.openRate, LOAD.openSeconds * 1000, load.send);
      const { cpu, from } = measured[i] as (typeof measured)[number];
      results.push({
        closed: load.tally.result(load.ms),
        rounds: load.rounds,
        open,
        warmUpCpuPerRequest: warmUps[i] as number,
        cpuPerRequest: cpu.per(load.counter.sent - from),
      });
    }
    return results;
  } finally {
    for (const load of loads) {
      load.client.close();
    }
  }
}

/** `a`'s throughput against `b`'s in each round. */
export const roundRatios = (a: HttpLoadResult, b: HttpLoadResult): number[] =>
  a.rounds.map((rps, round) => rps / (b.rounds[round] as number));

/** The median (nearest rank) over rounds of `a`'s throughput against `b`'s in the same round. */
export const medianRatio = (a: HttpLoadResult, b: HttpLoadResult): number =>
  percentile(roundRatios(a, b), 50);

/** CPU time (user + system) a process has used so far, in ms, from /proc (clock ticks of 10 ms). */
export function cpuMs(pid: number | undefined): number {
  const stat = pid === undefined ? "" : readProc(`${pid}/stat`);
  // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10;
}

/**
 * CPU time used per unit of work by a group of processes between `start()` and `per(count)`: unlike
 * throughput, it hardly moves with what else runs on the machine.
 */
export function cpuMeter(pids: (number | undefined)[]): { per(count: number): number } {
  const total = () => pids.map(cpuMs).reduce((a, b) => a + b, 0);
  const before = total();
  return { per: (count) => (total() - before) / count };
}

/**
 * CPU time used per unit of work by every process named `name` (Postgres's backends), those that start or exit
 * meanwhile included: a backend connected after the start counts in full, one that exits counts until its last
 * sample (every 250 ms), and neither one's CPU before the start is subtracted from the others' (`cpuMeter` on a
 * fixed list of pids did both wrongly once pools opened and closed connections during a run).
 */
export function namedCpuMeter(name: string): { per(count: number): number } {
  const baseline = new Map<number, number>();
  const last = new Map<number, number>();
  const sample = () => {
    for (const pid of pidsNamed(name)) {
      const ms = cpuMs(pid);
      if (ms > 0) {
        last.set(pid, Math.max(last.get(pid) ?? 0, ms));
      }
    }
  };
  sample();
  for (const [pid, ms] of last) {
    baseline.set(pid, ms);
  }
  const timer = setInterval(sample, 250);
  timer.unref();
  return {
    per: (count) => {
      clearInterval(timer);
      sample();
      let used = 0;
      for (const [pid, ms] of last) {
        used += ms - (baseline.get(pid) ?? 0);
      }
      return used / count;
    },
  };
}

/** The pids of this machine's processes whose command name is `name` (e.g. postgres, beam.smp). */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (/^\d+$/.test(entry)) {
      if (readProc(`${entry}/comm`).trim() === name) {
        pids.push(Number(entry));
      }
    }
  }
  return pids;
}
