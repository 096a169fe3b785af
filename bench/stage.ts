/**
 * A stage-based send end to end over real processes: N active subscriptions due at one tick of schedule 1 ->
 * `POST /api/v1/schedule/1/send/` on the subscription API -> the subscription worker's fan-out publishes one
 * `outbound.send` per subscription -> message-sender workers send each to the Twilio simulator (no latency, status
 * callbacks on) -> the callbacks reach message-sender's API -> `delivered`. Figures: delivered messages per second
 * from the tick to the last delivery, and the platform's CPU per delivered message by process (issue 22).
 *
 * The subscriptions, content copies and address book are written straight into the scratch databases (multi-row
 * INSERT ... SELECT, what the events and APIs would have stored), so seeding 100,000 takes seconds.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { TwilioSimulator } from "../packages/provider-simulators/src/twilio.ts";
import type { Baselines } from "./baselines.ts";
import { seedAddressBook, seedSubscriptions } from "./fanout.ts";
import {
  emulateAutovacuum,
  expect2xx,
  httpClient,
  outboundBody,
  RssSampler,
  rate,
  record,
  timed,
} from "./lib.ts";
import { PlatformMeters } from "./meters.ts";
import { waitForDelivered, warmUp } from "./pipeline.ts";
import { AUTH, Platform, twilioChannel } from "./platform.ts";

const SUBSCRIPTIONS = Number(process.env.BENCH_STAGE_SUBSCRIPTIONS ?? 100_000);
const WORKERS = Number(process.env.BENCH_STAGE_WORKERS ?? 2);
/** Warm-up sends go to numbers above every subscriber's. */
const WARM_UP_BASE = 5_000_000;

export async function benchStage(baselines: Baselines): Promise<void> {
  const raw = await baselines.amqp();
  const platform = await Platform.create(["message-sender", "subscription"], "st");
  const rss = new RssSampler();
  const sender = platform.pool("message-sender");
  const subscription = platform.pool("subscription");
  const senderApi = httpClient(platform.api("message-sender"), 16);
  let simulator: TwilioSimulator | undefined;
  try {
    const identities = Array.from({ length: SUBSCRIPTIONS }, () => randomUUID());
    const seedMs = await timed(async () => {
      await seedSubscriptions(subscription, identities);
      await seedAddressBook(sender, identities);
      // What months of events would have stored, autovacuum would have analyzed: without it the plans made in the
      // run's first minute take the tables for empty (a scan of the book for each send by number).
      await subscription.query("ANALYZE subscription");
      await sender.query("ANALYZE address_book_entry");
    });
    process.stdout.write(
      `  (seeded ${SUBSCRIPTIONS} subscriptions and address book entries by INSERT ... SELECT straight into the databases, ${(seedMs / 1000).toFixed(1)} s)\n`,
    );
    const processes = {
      "message-sender api": await platform.start("message-sender", "api"),
      "subscription api": await platform.start("subscription", "api"),
      "subscription worker": await platform.start("subscription", "worker"),
    };
    simulator = await twilioChannel(platform, 0);
    const workers: (number | undefined)[] = [];
    for (let w = 0; w < WORKERS; w++) {
      workers.push(platform.pid(await platform.start("message-sender", "worker")));
      rss.track(`message-sender worker ${w + 1}`, workers[w]);
    }
    for (const [label, name] of Object.entries(processes)) {
      rss.track(label, platform.pid(name));
    }
    let n = WARM_UP_BASE;
    // 200: the 100,000 measured sends outlast the services' own warm-up by far.
    const warm = await warmUp(
      simulator,
      sender,
      () => expect2xx(senderApi.request("POST", "/api/v1/outbound/", outboundBody(n++), AUTH)),
      200,
    );
    const meters = await PlatformMeters.start(
      [
        [
          "APIs (the tick, 2 callbacks)",
          [platform.pid(processes["subscription api"]), platform.pid(processes["message-sender api"])],
        ],
        ["subscription worker", [platform.pid(processes["subscription worker"])]],
        ["message-sender workers", workers],
      ],
      [sender, subscription],
      "simulator",
    );
    const stopVacuum = await emulateAutovacuum([sender, subscription]);
    const start = performance.now();
    const tick = httpClient(platform.api("subscription"), 1);
    await expect2xx(tick.request("POST", "/api/v1/schedule/1/send/", {}, AUTH)).finally(() => tick.close());
    await waitForDelivered(simulator, sender, warm.ok + SUBSCRIPTIONS, 3_600_000);
    const ms = performance.now() - start;
    await stopVacuum();
    record({
      name: `stage: ${SUBSCRIPTIONS} subscriptions, tick -> delivered, ${WORKERS} workers`,
      value: rate(SUBSCRIPTIONS, ms),
      unit: "msgs/s",
      baseline: "amqplib consume",
      ratio: rate(SUBSCRIPTIONS, ms) / raw.consume,
    });
    record({ name: "stage: wall time", value: ms / 1000, unit: "s" });
    await meters.report("stage", SUBSCRIPTIONS);
    rss.report("stage");
  } finally {
    senderApi.close();
    await sender.end();
    await subscription.end();
    await platform.stop();
    await simulator?.close();
  }
}
