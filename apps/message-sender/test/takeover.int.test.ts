import { TWILIO_ERRORS, type TwilioSimulator } from "@tidings/provider-simulators";
import { AMQP_URL, type ServiceProcess, serviceTest, spawnService, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, msisdn, statusesOf } from "./helpers.ts";
import { type Svc, send, type TwilioFixtures, twilioSetUp, twilioSimulator } from "./support.ts";

// A worker that dies after Twilio accepted a message, before it recorded the send: the worker that takes the
// outbound over asks Twilio before sending, so the message is not sent twice. Real worker processes, killed with
// SIGKILL, on the API's database and namespace, against the Twilio simulator.

const SID = `AC${"7".repeat(32)}`;
const TOKEN = "takeover-auth-token";
const CLAIM_TTL_MS = 4_000;

interface Worker {
  process: ServiceProcess;
  logs: Record<string, unknown>[];
}

/** Starts worker process `name` on the service's database and namespace, adding it to `workers`. */
async function startWorker(svc: Svc, workers: Worker[], name: string): Promise<Worker> {
  const logs: Record<string, unknown>[] = [];
  const output: string[] = [];
  const process = spawnService("message-sender", "worker", {
    name,
    env: {
      MESSAGE_SENDER_DATABASE_URL: svc.config.DATABASE_URL,
      AMQP_URL,
      AMQP_NAMESPACE: svc.namespace,
      ADMIN_TOKEN: "takeover-admin-token",
      LOG_LEVEL: "info",
      WORKER_ID: name,
      OUTBOUND_CLAIM_TTL_MS: String(CLAIM_TTL_MS),
      OUTBOUND_RETRY_DELAYS_MS: "300,1000,2000,3000",
    },
    onLine: (line) => {
      output.push(line);
      if (line.startsWith("{")) {
        logs.push(JSON.parse(line));
      }
    },
  });
  const worker = { process, logs };
  workers.push(worker);
  await waitFor(() => logs.some((l) => l.msg === "worker started"), {
    timeoutMs: 30_000,
    what: `${name} to start`,
  }).catch((err: Error) => {
    throw new Error(`${err.message}; its output:\n${output.slice(-20).join("\n")}`);
  });
  return worker;
}

/** A Twilio channel on the simulator. A worker starts a send only while its claim outlasts `timeoutMs` + 1 s. */
const createChannel = (svc: Svc, sim: TwilioSimulator, id: string, timeoutMs: number) =>
  createTwilioChannel(svc.app, id, { sid: SID, token: TOKEN, url: sim.url }, { timeout_ms: timeoutMs });

const it = serviceTest(createMessageSenderService()).extend<TwilioFixtures & { workers: Worker[] }>({
  sim: twilioSimulator({ accounts: { [SID]: TOKEN } }),
  setUp: twilioSetUp((svc, sim) => createChannel(svc, sim, "TW_TAKEOVER", 1_000)),
  /** The worker processes, takeover-1 started before the first test: stopped after the file's last test. */
  workers: [
    async ({ svc }, use) => {
      const workers: Worker[] = [];
      try {
        await startWorker(svc, workers, "takeover-1");
        await use(workers);
      } finally {
        await Promise.all(workers.map((w) => w.process.stop(5_000)));
      }
    },
    { scope: "file", auto: true },
  ],
});

const sendTo = (svc: Svc, to: string, content: string, channel = "TW_TAKEOVER") =>
  send(svc, { to_addr: to, content, channel });

const submitted = (svc: Svc, id: string) =>
  waitFor(
    async () => {
      const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
      return row.status === "submitted" && row;
    },
    { timeoutMs: 20_000, what: `outbound ${id} to be submitted` },
  );

const acceptedFor = (sim: TwilioSimulator, to: string) => sim.messages.filter((m) => m.to === to);

describe("taking over an outbound whose earlier send may have reached the provider", () => {
  it("sends it when the provider has no such message (the earlier attempt failed with a 500)", async ({
    svc,
    sim,
  }) => {
    const to = msisdn();
    sim.failNext(TWILIO_ERRORS.serverError());
    const id = await sendTo(svc, to, "Your clinic visit is on Tuesday");

    const row = await submitted(svc, id);
    expect(acceptedFor(sim, to)).toHaveLength(1);
    expect(row.providerId).toBe(acceptedFor(sim, to)[0]?.sid);
    // The lookup happened (the 500 left the claim's worker recorded) and found nothing to adopt.
    expect(sim.requests.filter((r) => r.To === to)).toHaveLength(2);
  });

  it("does not adopt a matching message that another outbound already recorded", async ({ svc, sim }) => {
    const to = msisdn();
    const first = await sendTo(svc, to, "Same words twice");
    await submitted(svc, first);
    sim.failNext(TWILIO_ERRORS.serverError());
    const second = await sendTo(svc, to, "Same words twice");

    const row = await submitted(svc, second);
    expect(acceptedFor(sim, to)).toHaveLength(2);
    const firstRow = await svc.db.outbound.findUniqueOrThrow({ where: { id: first } });
    expect(row.providerId).not.toBe(firstRow.providerId);
    expect(new Set(acceptedFor(sim, to).map((m) => m.sid))).toEqual(
      new Set([firstRow.providerId, row.providerId]),
    );
  });

  it("does not start a send that could outlast its claim", async ({ svc, sim }) => {
    // A 10 s request timeout against a 4 s claim: the claim could lapse (and another worker take the outbound
    // over) while Twilio is still accepting the message, so the worker does not call Twilio at all.
    await createChannel(svc, sim, "TW_SLOW", 10_000);
    const to = msisdn();
    const id = await sendTo(svc, to, "Never sent on a claim too short", "TW_SLOW");

    const row = await waitFor(
      async () => {
        const found = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
        return found.lastError?.includes("lapses before a send") && found;
      },
      { what: "the send to be refused for its claim" },
    );
    // Not sent, so the claim is cleared as if never taken: a later claim need not ask Twilio about it.
    expect(row).toMatchObject({ status: "queued", claimedBy: null, providerId: null });
    expect(sim.requests.filter((r) => r.To === to)).toHaveLength(0);
  });

  it("waits out a send that got no answer, and records it when Twilio accepted it late", async ({
    svc,
    sim,
    workers,
  }) => {
    // Twilio takes 2.5 s to accept the message; the worker gives up after its 1 s request timeout. Retried at
    // once, the lookup would find nothing yet and the message would be sent twice. The worker keeps the claim
    // until it lapses and retries after that, when the lookup finds the late acceptance.
    const [worker] = workers;
    const to = msisdn();
    sim.configure({ acceptDelayMs: 2_500 });
    const id = await sendTo(svc, to, "Week 20: halfway there");
    await waitFor(() => sim.requests.some((r) => r.To === to), { what: "the first create request" });
    sim.configure({ acceptDelayMs: 0 });
    await waitFor(
      async () =>
        (await svc.db.outbound.findUniqueOrThrow({ where: { id } })).lastError?.includes("no answer"),
      { what: "the send to time out" },
    );
    expect(acceptedFor(sim, to)).toHaveLength(0);

    const row = await submitted(svc, id);
    expect(acceptedFor(sim, to)).toHaveLength(1);
    expect(row.providerId).toBe(acceptedFor(sim, to)[0]?.sid);
    expect(sim.requests.filter((r) => r.To === to)).toHaveLength(1);
    // Logged before the record; its line may reach this process through the worker's stdout after the row changed.
    await waitFor(
      () =>
        worker?.logs.some(
          (l) =>
            l.outboundId === id &&
            l.msg === "an earlier claim's send was accepted by the provider: recorded, not sent again",
        ) === true,
      { what: "the worker's log of the earlier send recorded" },
    );
  }, 30_000);

  it("records the earlier send instead of sending again when the worker died after Twilio accepted it", async ({
    svc,
    sim,
    workers,
  }) => {
    const [doomed] = workers;
    const to = msisdn();
    // Twilio accepts at once but answers 30 s later: the worker dies in between, knowing nothing.
    sim.configure({ answerDelayMs: 30_000 });
    const id = await sendTo(svc, to, "Week 12: your baby is the size of a plum");
    await waitFor(() => acceptedFor(sim, to).length === 1, { what: "Twilio to accept the message" });
    doomed?.process.child.kill("SIGKILL");
    await doomed?.process.exited;
    sim.configure({ answerDelayMs: 0 });
    const dead = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
    expect(dead).toMatchObject({ status: "queued", claimedBy: "takeover-1", providerId: null });

    const heir = await startWorker(svc, workers, "takeover-2");
    const row = await submitted(svc, id);
    expect(row).toMatchObject({
      claimedBy: "takeover-2",
      providerId: acceptedFor(sim, to)[0]?.sid,
      attempts: 1,
    });
    expect(sim.requests.filter((r) => r.To === to)).toHaveLength(1);
    expect(acceptedFor(sim, to)).toHaveLength(1);
    expect(heir.logs.map((l) => l.msg)).toContain(
      "an earlier claim's send was accepted by the provider: recorded, not sent again",
    );
    expect((await statusesOf(svc.db, id)).filter((s) => s === "submitted")).toHaveLength(1);
  }, 60_000);
});
