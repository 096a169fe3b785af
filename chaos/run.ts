/**
 * `pnpm test:chaos`: proves that nothing accepted is lost and nothing is sent twice while processes die.
 *
 * Starts message-sender (API + CHAOS_SENDER_WORKERS workers) and subscription (API + CHAOS_SUBSCRIPTION_WORKERS
 * workers) as real processes on scratch databases, with a Twilio simulator in this process that records every
 * provider call (each message has its own recipient number, so calls are counted per message). Half the
 * messages are direct `POST /api/v1/outbound/` sends, half one stage-based tick (`POST
 * /api/v1/schedule/1/send/`) over as many subscriptions. Meanwhile it kill -9s a random worker or API every
 * CHAOS_KILL_INTERVAL_MS (restarting it), and, with CHAOS_INFRA=1 (the default), restarts RabbitMQ
 * (`rabbitmqctl stop_app`/`start_app`) and Postgres (`pg_ctlcluster`, else `service postgresql restart`)
 * once each. Then it waits for quiescence and checks: every accepted message reached the simulator, none
 * twice, and every outbound is final, a failed task or dead-lettered. Exits 1 on any loss, duplicate or
 * stuck message.
 *
 *   CHAOS_MESSAGES=20000          messages in all (half direct, half stage-based)
 *   CHAOS_INFRA=0                 process kills only (no broker or database restart): the CI version
 *   CHAOS_KILL_INTERVAL_MS=3000, CHAOS_SENDER_WORKERS=3, CHAOS_SUBSCRIPTION_WORKERS=2
 *   CHAOS_KILL_PHASE_MS=<ms>      stop killing this long after the load began, even while messages still flow
 *                                 (default: only once they stop flowing); bounds a run whose kills slow it down
 *   CHAOS_QUIET_MS=30000          quiescence: nothing changed for this long and every main/retry queue empty
 *   CHAOS_TIMEOUT_MS=900000       give up waiting for quiescence after this long
 *   PLATFORM_LOG_DIR=<dir>        keep every process's output there (<process name>.log)
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Broker, listDeadLetters } from "@tidings/amqp";
import { declaredQueues, namesFor, type QueueName, queues } from "@tidings/contracts";
import amqp from "amqplib";
import type pg from "pg";
import { seedAddressBook, seedSubscriptions } from "../bench/fanout.ts";
import { AMQP_URL, beginScratchRun, closedLoop, expect2xx, httpClient, logger } from "../bench/lib.ts";
import { AUTH, msisdn, Platform, twilioChannel } from "../bench/platform.ts";
import type { Role } from "../packages/testing/src/processes.ts";

const env = process.env;
const MESSAGES = Number(env.CHAOS_MESSAGES ?? 20_000);
const INFRA = env.CHAOS_INFRA !== "0";
const KILL_INTERVAL_MS = Number(env.CHAOS_KILL_INTERVAL_MS ?? 3_000);
const SENDER_WORKERS = Number(env.CHAOS_SENDER_WORKERS ?? 3);
const SUBSCRIPTION_WORKERS = Number(env.CHAOS_SUBSCRIPTION_WORKERS ?? 2);
const KILL_PHASE_MS = Number(env.CHAOS_KILL_PHASE_MS ?? Number.POSITIVE_INFINITY);
const QUIET_MS = Number(env.CHAOS_QUIET_MS ?? 30_000);
const TIMEOUT_MS = Number(env.CHAOS_TIMEOUT_MS ?? 900_000);
const SUBSCRIPTIONS = Math.floor(MESSAGES / 2);
const DIRECT = MESSAGES - SUBSCRIPTIONS;
/** Direct sends go to numbers above every subscriber's. */
const DIRECT_BASE = 5_000_000;

const log = (line: string) =>
  process.stdout.write(`chaos ${new Date().toISOString().slice(11, 19)} ${line}\n`);

// Short claims and an eager reconciler: a killed worker's claim lapses, and a status callback lost while
// the API was down is asked for, within the run.
const SERVICES = ["message-sender", "subscription"];
await beginScratchRun("chaos");
const platform = await Platform.create(SERVICES, "chaos", {
  OUTBOUND_CLAIM_TTL_MS: "15000",
  RECONCILE_INTERVAL_MS: "2000",
  RECONCILE_AFTER_MS: "5000",
  LOG_LEVEL: "warn",
});
const lapsedClaims = platform.watch(/took over a lapsed claim/);
const sender = platform.pool("message-sender");
const subscription = platform.pool("subscription");
// A Postgres restart ends their connections; the pools reconnect on the next query.
for (const pool of [sender, subscription]) {
  pool.on("error", () => {});
}

let stopping = false;
/**
 * Starts a process and restarts it (under the same name) whenever it exits, until the run ends; resolves
 * once it is up (an API: healthy) or has died trying (it is then restarted like any other death).
 */
async function supervised(service: string, role: Role, name: string): Promise<void> {
  const starting = platform.start(service, role, name);
  void platform.processes.get(name)?.proc.exited.then(async () => {
    await sleep(1_000);
    if (!stopping) {
      await supervised(service, role, name);
    }
  });
  await starting.catch((err: unknown) => log(`${name} died while starting: ${String(err).split("\n")[0]}`));
}

// Ctrl-C or a CI timeout: stop the service processes and drop the scratch databases before leaving.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stopping = true;
    void platform.stop().finally(() => process.exit(130));
  });
}

async function seed(): Promise<void> {
  const identities = Array.from({ length: SUBSCRIPTIONS }, () => randomUUID());
  await seedSubscriptions(subscription, identities);
  // The address book as identity.created would have filled it: one number per subscriber.
  await seedAddressBook(sender, identities);
}

/** The messages waiting in each queue of the namespace (main, delay and dead-letter), non-empty ones only. */
async function queueDepths(): Promise<Map<string, number>> {
  const connection = await amqp.connect(AMQP_URL);
  const found = new Map<string, number>();
  try {
    for (const queue of declaredQueues(namesFor(platform.namespace))) {
      const channel = await connection.createChannel();
      const { messageCount } = await channel.checkQueue(queue).catch(() => ({ messageCount: 0 }));
      if (messageCount > 0) {
        found.set(queue, messageCount);
      }
      await channel.close().catch(() => {});
    }
  } finally {
    await connection.close();
  }
  return found;
}
/**
 * Messages the running services still have to handle: in their main queues and the delay queues (the queues of
 * services not started here fill up unread; only the running services' consumers put retries in delay queues).
 */
const pending = (depths: Map<string, number>) =>
  [...depths].filter(
    ([queue]) =>
      !queue.endsWith(".dlq") &&
      [...SERVICES, "tidings"].some((s) => queue.startsWith(`${platform.namespace}.${s}.`)),
  );
const waiting = (depths: Map<string, number>) => pending(depths).reduce((sum, [, n]) => sum + n, 0);

/** The ids of the outbound.send commands in message-sender's dead-letter queues (every lane). */
async function deadLetteredSends(): Promise<Set<string>> {
  const broker = await Broker.connect({
    url: AMQP_URL,
    namespace: platform.namespace,
    service: "chaos",
    logger,
  });
  try {
    const ids = new Set<string>();
    const sendQueues = Object.keys(queues).filter((q) => q.startsWith("message-sender.outbound-send"));
    for (const queue of sendQueues as QueueName[]) {
      for (const letter of await listDeadLetters(broker, queue, { limit: 1_000_000 })) {
        ids.add(letter.messageId);
      }
    }
    return ids;
  } finally {
    await broker.close();
  }
}

/** One query's rows as "key n, key n" (a row's first column, then its count). */
async function state(pool: pg.Pool, sql: string): Promise<string> {
  const { rows } = await pool.query<Record<string, unknown>>(sql);
  return rows.map((row) => Object.values(row).join(" ")).join(", ") || "none";
}
/** Where everything is, for quiescence, as one line that says so. */
const snapshot = async () =>
  [
    `outbounds ${await state(sender, "SELECT status, count(*)::int FROM outbound GROUP BY status ORDER BY status")}`,
    `outbox ${await state(sender, "SELECT count(*)::int FROM tidings_outbox")}`,
    `failed tasks ${await state(sender, "SELECT count(*)::int FROM outbound_send_failure")}`,
    `subscriptions by next message ${await state(subscription, "SELECT next_sequence_number, count(*)::int FROM subscription GROUP BY 1 ORDER BY 1")}`,
    `subscription outbox ${await state(subscription, "SELECT count(*)::int FROM tidings_outbox")}`,
    `provider calls ${simulator.messages.length}`,
  ].join("; ");

const restarted: string[] = [];
/** Restarts the broker or the database, without blocking this process (the simulator lives here). */
async function restartInfrastructure(what: "rabbitmq" | "postgres"): Promise<void> {
  const run = (cmd: string, args: string[]) => promisify(execFile)(cmd, args, { timeout: 120_000 });
  log(`restarting ${what}`);
  if (what === "rabbitmq") {
    await run("rabbitmqctl", ["stop_app"]);
    await sleep(5_000);
    await run("rabbitmqctl", ["start_app"]);
  } else {
    await run("pg_ctlcluster", ["15", "main", "restart"]).catch(() =>
      run("service", ["postgresql", "restart"]),
    );
  }
  restarted.push(what);
  log(`restarted ${what}`);
}

// --- set-up -------------------------------------------------------------------------------------------
log(
  `${MESSAGES} messages (${DIRECT} direct, ${SUBSCRIPTIONS} stage-based), kills every ${KILL_INTERVAL_MS} ms${Number.isFinite(KILL_PHASE_MS) ? ` for at most ${KILL_PHASE_MS / 1000} s` : ""}, infrastructure restarts ${INFRA ? "on" : "off"}`,
);
await seed();
await supervised("message-sender", "api", "message-sender-api");
await supervised("subscription", "api", "subscription-api");
const simulator = await twilioChannel(platform, 0);
await Promise.all([
  ...Array.from({ length: SENDER_WORKERS }, (_, i) =>
    supervised("message-sender", "worker", `message-sender-worker-${i + 1}`),
  ),
  ...Array.from({ length: SUBSCRIPTION_WORKERS }, (_, i) =>
    supervised("subscription", "worker", `subscription-worker-${i + 1}`),
  ),
]);

// --- load and chaos -----------------------------------------------------------------------------------
const started = Date.now();
const subscriptionApi = httpClient(platform.api("subscription"), 1);
await expect2xx(subscriptionApi.request("POST", "/api/v1/schedule/1/send/", {}, AUTH));
subscriptionApi.close();
log(`tick accepted for ${SUBSCRIPTIONS} subscriptions`);

const accepted = new Set<string>();
const senderApi = httpClient(platform.api("message-sender"), 16);
let unanswered = 0;
const load = closedLoop(DIRECT, 16, async (i) => {
  const to = msisdn(DIRECT_BASE + i);
  for (;;) {
    try {
      const body = { to_addr: to, content: `Chaos ${i}`, metadata: {} };
      await expect2xx(senderApi.request("POST", "/api/v1/outbound/", body, AUTH));
      accepted.add(to);
      return;
    } catch (err) {
      // Refused: the API is down and nothing was sent, so a client may try again. Anything else (a reset
      // mid-request, a 5xx) leaves it unknown whether the send was stored: not accepted, not retried.
      if ((err as { code?: string }).code !== "ECONNREFUSED") {
        unanswered++;
        throw err;
      }
      await sleep(250);
    }
  }
});

let kills = 0;
const chaos = (async () => {
  const infra: ("rabbitmq" | "postgres")[] = INFRA ? ["rabbitmq", "postgres"] : [];
  while (!stopping) {
    await sleep(KILL_INTERVAL_MS);
    if (stopping) {
      return;
    }
    const names = [...platform.processes.keys()];
    const victim = names[Math.floor(Math.random() * names.length)] as string;
    kills++;
    log(
      `kill -9 ${victim} (accepted so far ${accepted.size} direct, provider calls ${simulator.messages.length})`,
    );
    await platform.kill(victim);
    const sent = simulator.messages.length;
    // One infrastructure restart at a third and at two thirds of the provider traffic.
    if (infra.length > 0 && sent > (MESSAGES * (3 - infra.length)) / 3) {
      await restartInfrastructure(infra.shift() as "rabbitmq" | "postgres");
    }
  }
})();

const loadResult = await load;
senderApi.close();
log(
  `direct sends: ${loadResult.ok} accepted, ${unanswered} unanswered (first: ${loadResult.firstError ?? "none"})`,
);

// Keep killing while messages still flow to the provider (the tick's fan-out may still be running), at most
// CHAOS_KILL_PHASE_MS from the start, then settle.
const expected = [...accepted, ...Array.from({ length: SUBSCRIPTIONS }, (_, i) => msisdn(i))];
const reached = () => {
  const called = new Set(simulator.messages.map((m) => m.to));
  return expected.filter((to) => called.has(to)).length;
};
const deadline = started + TIMEOUT_MS;
let progressAt = Date.now();
const killsEnd = Math.min(deadline - QUIET_MS, started + KILL_PHASE_MS);
while (reached() < expected.length && Date.now() < killsEnd) {
  const before = simulator.messages.length;
  await sleep(2_000);
  if (simulator.messages.length > before) {
    progressAt = Date.now();
  } else if (Date.now() - progressAt > 20_000) {
    break;
  }
}
stopping = true;
await chaos;
log("chaos over; waiting for quiescence");
// Quiescent: nothing changed for QUIET_MS and no message waits in a queue (a retry may wait minutes).
// Every 10 s of it, what is still changing or waiting (what a slow settle was waiting for).
let last = "";
let since = Date.now();
let loggedAt = Date.now();
let depths = new Map<string, number>();
while ((Date.now() - since < QUIET_MS || waiting(depths) > 0) && Date.now() < deadline) {
  await sleep(2_000);
  depths = await queueDepths().catch(() => depths);
  const now = await snapshot().catch((err: Error) => `${err.message} ${Date.now()}`);
  if (now !== last) {
    last = now;
    since = Date.now();
  }
  if (Date.now() - loggedAt >= 10_000) {
    loggedAt = Date.now();
    const queued = pending(depths).map(([queue, n]) => `${queue.slice(platform.namespace.length + 1)} ${n}`);
    log(`settling: ${now}; queues ${queued.join(", ") || "empty"}`);
  }
}

// --- verdict ------------------------------------------------------------------------------------------
const calls = new Map<string, number>();
const firstCall = new Map<string, number>();
/** For each repeated call: seconds since the first call to the same recipient (a lapsed claim: >= its TTL). */
const resendGaps: number[] = [];
for (const m of simulator.messages) {
  calls.set(m.to, (calls.get(m.to) ?? 0) + 1);
  const first = firstCall.get(m.to);
  if (first === undefined) {
    firstCall.set(m.to, m.createdAt.getTime());
  } else {
    resendGaps.push((m.createdAt.getTime() - first) / 1000);
  }
}
/** What a recipient was sent: the same text twice (a resend) or different messages (two steps of a set). */
const bodiesTo = (to: string) =>
  simulator.messages
    .filter((m) => m.to === to)
    .map((m) => JSON.stringify(m.body.slice(0, 40)))
    .join(" / ");
const lost = expected.filter((to) => !calls.has(to));
const duplicates = [...calls].filter(([, n]) => n > 1);
const deadSends = await deadLetteredSends();
const { rows: open } = await sender.query<{
  id: string;
  status: string;
  claimed_by: string | null;
  attempts: number;
  last_error: string | null;
  updated_at: Date;
}>(
  `SELECT o.id, o.status, o.claimed_by, o.attempts, o.last_error, o.updated_at FROM outbound o
   WHERE o.status NOT IN ('delivered', 'failed')
     AND NOT EXISTS (SELECT 1 FROM outbound_send_failure f WHERE f.outbound_id = o.id)`,
);
const notFinal = open.filter((o) => !deadSends.has(o.id));
const { rows: failedTasks } = await sender.query<{ n: number }>(
  "SELECT count(*)::int AS n FROM outbound_send_failure",
);
const { rows: unsent } = await subscription.query<{ n: number }>(
  "SELECT count(*)::int AS n FROM subscription WHERE next_sequence_number = 1",
);
const dlq = new Map([...depths].filter(([queue]) => queue.endsWith(".dlq")));
const deadLettered = [...dlq.values()].reduce((a, b) => a + b, 0);
/** The status callbacks not answered 200, by answer (-1: the API could not be reached, as while it was killed). */
const callbacksRefused = () => {
  const by = new Map<number, number>();
  for (const { responseStatus } of simulator.callbacks.filter((c) => c.responseStatus !== 200)) {
    by.set(responseStatus, (by.get(responseStatus) ?? 0) + 1);
  }
  const total = [...by.values()].reduce((a, b) => a + b, 0);
  const each = [...by]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${n} ${status === -1 ? "unreachable" : status}`);
  return `${total} status callbacks not answered 200${total > 0 ? `: ${each.join(", ")}` : ""}`;
};

process.stdout.write(`
chaos result (${Math.round((Date.now() - started) / 1000)} s, ${kills} kills, restarted: ${restarted.join(" and ") || "no infrastructure"})
  accepted        ${expected.length} (${accepted.size} direct of ${DIRECT} attempted, ${unanswered} unanswered; ${SUBSCRIPTIONS} by the tick)
  delivered       ${expected.length - lost.length} reached the simulator
  lost            ${lost.length}${lost.length ? `  e.g. ${lost.slice(0, 5).join(", ")}` : ""}
  duplicates      ${duplicates.length} messages sent more than once${
    duplicates.length
      ? `  e.g. ${duplicates
          .slice(0, 5)
          .map(([to, n]) => `${to} x${n} (${bodiesTo(to)})`)
          .join(
            ", ",
          )}; resent ${Math.min(...resendGaps).toFixed(1)}-${Math.max(...resendGaps).toFixed(1)} s after the first call`
      : ""
  }
  lapsed claims   ${lapsedClaims()} outbounds taken over from a killed worker (message-sender logged "took over a lapsed claim")
  dead-lettered   ${deadLettered} (${deadSends.size} outbound.send)${dlq.size ? `  (${[...dlq].map(([q, n]) => `${q}: ${n}`).join(", ")})` : ""}
  failed tasks    ${failedTasks[0]?.n ?? 0}
  not final       ${notFinal.length} outbounds neither delivered, failed, a failed task nor dead-lettered${
    notFinal.length
      ? `  e.g. ${notFinal
          .slice(0, 3)
          .map(
            (o) =>
              `${o.id} ${o.status} (claimed by ${o.claimed_by ?? "none"}, ${o.attempts} attempts, last error ${
                o.last_error ?? "none"
              }, updated ${o.updated_at.toISOString().slice(11, 23)})`,
          )
          .join(", ")}`
      : ""
  }
  queued          ${waiting(depths)} messages still in a main or retry queue when the wait ended
  subscriptions   ${unsent[0]?.n ?? 0} still waiting for their first message
  provider calls  ${simulator.messages.length} (${callbacksRefused()})
`);
const failed = lost.length > 0 || duplicates.length > 0 || notFinal.length > 0;
if (failed) {
  for (const name of platform.processes.keys()) {
    const errors = platform
      .tail(name)
      .split("\n")
      .filter((line) => /"level":(50|60)/.test(line));
    if (errors.length > 0) {
      process.stdout.write(`--- errors among the last lines of ${name}\n${errors.join("\n")}\n`);
    }
  }
}
await sender.end();
await subscription.end();
await platform.stop();
await simulator.close();
process.stdout.write(failed ? "chaos: FAILED\n" : "chaos: passed\n");
process.exit(failed ? 1 : 0);
