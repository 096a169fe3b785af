/**
 * `pnpm bench [name ...]`: Tidings against raw baselines measured in the same run, on the same broker and
 * database. Prints a table and writes bench/results/latest.json. Without names, every benchmark runs.
 *
 *   pnpm bench api pipeline        only those (and the baselines they compare with)
 *   BENCH_MESSAGES=20000           messages for the AMQP figures
 *   BENCH_ROWS=2000                rows for the database figures
 *   BENCH_SUBSCRIPTIONS=20000      subscriptions for the fan-out (100000 for the target figure)
 *   BENCH_TOPIC_SUBSCRIBERS=10000  verified subscribers of the topic publish
 *   BENCH_API_WARMUP=10000, BENCH_API_REQUESTS=20000, BENCH_API_ROUNDS=10, BENCH_API_CONCURRENCY=32,
 *   BENCH_OPEN_RATE=1000, BENCH_OPEN_SECONDS=5
 *   BENCH_PIPELINE_WARMUP=5000, BENCH_PIPELINE_MESSAGES=5000, BENCH_PIPELINE_WORKERS=2
 *   BENCH_SCALING_MESSAGES=2000, BENCH_SCALING_LATENCY_MS=50, BENCH_SCALING_WORKERS=1,2,4,
 *                              BENCH_SCALING_PREFETCH (sends in flight per worker; default "default,2")
 *   BENCH_STAGE_SUBSCRIPTIONS=100000, BENCH_STAGE_WORKERS=2   the stage-based send end to end
 *   BENCH_PROVIDER_REQUESTS=4000   Twilio creates per client in the providers benchmark
 *   BENCH_ARCHIVE_DAYS=3, BENCH_ARCHIVE_OUTBOUNDS=20000   days archived, and delivered outbounds a day
 *   SERVICE_NODE_ARGS='--max-old-space-size=96'  node flags for every service process (scripts/service.sh)
 *   BENCH_CPU_PROF=/tmp/prof                   every service process writes a V8 CPU profile there
 */
import os from "node:os";
import path from "node:path";
import { benchApi } from "./api.ts";
import { benchArchives } from "./archives.ts";
import { type Baselines, createBaselines } from "./baselines.ts";
import { benchFanOut } from "./fanout.ts";
import { benchAmqp, benchOutbox, benchStatements } from "./layers.ts";
import { beginScratchRun, rate, record, writeResults } from "./lib.ts";
import { benchPipeline } from "./pipeline.ts";
import { benchProviders } from "./providers.ts";
import { benchScaling } from "./scaling.ts";
import { benchStage } from "./stage.ts";
import { benchTopicPublish } from "./topics.ts";

/**
 * A benchmark records its own figures, or returns how many recipients it reached in how long, and this
 * records the rate and the wall time.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: most benchmarks resolve to nothing (Promise<void>)
type Bench = (baselines: Baselines) => Promise<void | { recipients: number; ms: number }>;

/** Every benchmark by name, in the order a full run takes them. */
const benches: Record<string, Bench> = {
  baselines: async (b) => {
    await b.amqp();
    await b.pg();
  },
  amqp: benchAmqp,
  outbox: benchOutbox,
  statements: benchStatements,
  providers: benchProviders,
  fanout: benchFanOut,
  topics: benchTopicPublish,
  api: benchApi,
  pipeline: benchPipeline,
  scaling: benchScaling,
  stage: benchStage,
  archives: benchArchives,
};

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in benches));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(benches).join(", ")}\n`,
  );
  process.exit(2);
}
const selected = asked.length > 0 ? asked : Object.keys(benches);
await beginScratchRun("bench");
process.stdout.write(
  `Tidings bench (${selected.join(", ")}): ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`,
);
const baselines = createBaselines();
for (const name of selected) {
  const counted = await benches[name]?.(baselines);
  if (counted) {
    const { recipients, ms } = counted;
    record({ name: `${name}: ${recipients} recipients`, value: rate(recipients, ms), unit: "msgs/s" });
    record({ name: `${name}: wall time`, value: ms / 1000, unit: "s" });
  }
}
record({ name: "peak RSS of the bench process", value: process.resourceUsage().maxRSS / 1024, unit: "MB" });
const file = await writeResults(selected);
process.stdout.write(`written to ${path.relative(process.cwd(), file)}\n`);
process.exit(0);
