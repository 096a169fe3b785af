/**
 * Worker scaling: message-sender throughput with 1, 2 and 4 worker processes against a Twilio simulator that
 * takes 50 ms per request. The outbound.send commands are published straight to the broker (as the
 * subscription service does), so the API is not what is measured; throughput is the batch divided by the
 * time from its publishing until every outbound is recorded as submitted.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Broker } from "@tidings/amqp";
import type { TwilioSimulator } from "../packages/provider-simulators/src/twilio.ts";
import type { Baselines } from "./baselines.ts";
import { AMQP_URL, cpuMeter, logger, outboundBody, RssSampler, rate, record, timed } from "./lib.ts";
import { waitForOutbounds } from "./pipeline.ts";
import { Platform, twilioChannel } from "./platform.ts";

const MESSAGES = Number(process.env.BENCH_SCALING_MESSAGES ?? 2_000);
const LATENCY_MS = Number(process.env.BENCH_SCALING_LATENCY_MS ?? 50);
const COUNTS = (process.env.BENCH_SCALING_WORKERS ?? "1,2,4").split(",").map(Number);

/** Waits until `count` consumers are attached to the send queue: every worker is up. */
async function consumersAttached(broker: Broker, count: number): Promise<void> {
  const channel = await broker.channel();
  try {
    const queue = broker.names.queue("message-sender.outbound-send");
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(200)) {
      if ((await channel.checkQueue(queue)).consumerCount >= count) {
        return;
      }
    }
    throw new Error(`fewer than ${count} consumers on ${queue} after 120 s`);
  } finally {
    await channel.close();
  }
}

/**
 * BENCH_SCALING_PREFETCH: the sends in flight per worker, one run each; "default" is the services' AMQP_PREFETCH
 * (100). The default list adds 2: a worker that keeps only 2 sends in flight against a 50 ms provider is bound
 * by the provider's latency, not by the machine, so its run shows how workers scale while the machine has room.
 */
const PREFETCHES = (process.env.BENCH_SCALING_PREFETCH ?? "default,2").split(",");

export async function benchScaling(_baselines: Baselines): Promise<void> {
  for (const prefetch of PREFETCHES) {
    await scaling(prefetch === "default" ? undefined : prefetch);
  }
}

async function scaling(prefetch: string | undefined): Promise<void> {
  const platform = await Platform.create(
    ["message-sender"],
    `s${prefetch ?? ""}`,
    prefetch ? { AMQP_PREFETCH: prefetch } : {},
  );
  const pool = platform.pool("message-sender");
  const rss = new RssSampler();
  const broker = await Broker.connect({
    url: AMQP_URL,
    namespace: platform.namespace,
    service: "bench",
    logger,
  });
  const publish = (count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        broker.publish("outbound.send", { id: randomUUID(), ...outboundBody(i) }),
      ),
    );
  const results = new Map<number, number>();
  let total = 0;
  let simulator: TwilioSimulator | undefined;
  try {
    await platform.start("message-sender", "api");
    simulator = await twilioChannel(platform, LATENCY_MS);
    for (const workers of COUNTS) {
      for (const name of platform.names("message-sender", "worker")) {
        await platform.stopProcess(name);
      }
      const pids: (number | undefined)[] = [];
      for (let w = 0; w < workers; w++) {
        const name = await platform.start("message-sender", "worker");
        rss.track(
          `message-sender worker ${w + 1} of ${workers}, prefetch ${prefetch ?? "default"}`,
          platform.pid(name),
        );
        pids.push(platform.pid(name));
      }
      // Every worker consuming, and warmed up.
      await consumersAttached(broker, workers);
      await publish(20 * workers);
      total += 20 * workers;
      await waitForOutbounds(pool, "submitted", total);
      const cpu = cpuMeter(pids);
      const ms = await timed(async () => {
        await publish(MESSAGES);
        total += MESSAGES;
        await waitForOutbounds(pool, "submitted", total);
      });
      const value = rate(MESSAGES, ms);
      results.set(workers, value);
      record({
        name: `scaling: ${workers} worker(s), simulator ${LATENCY_MS} ms, prefetch ${prefetch ?? "default"}`,
        value,
        unit: "msgs/s",
        ...(workers > 1 && results.has(1)
          ? { baseline: "1 worker", ratio: value / (results.get(1) ?? value) }
          : {}),
        ...(workers === 4 ? { target: ">= 3.5x 1 worker" } : {}),
      });
      record({
        name: `scaling: ${workers} worker(s), prefetch ${prefetch ?? "default"}, CPU per message`,
        value: cpu.per(MESSAGES),
        unit: "ms",
      });
    }
    rss.report("scaling");
  } finally {
    await broker.close();
    await pool.end();
    await platform.stop();
    await simulator?.close();
  }
}
