import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OutboundDeliveryReport, OutboundStatusChanged } from "@tidings/contracts";
import {
  startTwilioSimulator,
  startVonageSimulator,
  type TwilioSimulator,
  type TwilioSimulatorOptions,
  type VonageSimulator,
  type VonageSimulatorOptions,
} from "@tidings/provider-simulators";
import { adminAuth, type Capture, serviceTest, type TestService, waitFor } from "@tidings/testing";
import { expect } from "vitest";
import { buildAdapter } from "../src/channels/adapters.ts";
import { ChannelCache } from "../src/channels/channel-cache.ts";
import { LogChannel } from "../src/channels/log/adapter.ts";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { type ReconcileOptions, reconcile } from "../src/delivery-reports/reconcile.ts";
import { type Channel, type Logger, PermanentSendError } from "../src/outbound/channel.ts";
import { defaultRedelivery } from "../src/outbound/redelivery.ts";
import { createMessageSenderService, messageSenderService } from "../src/service.ts";
import { createTwilioChannel, type identityEvent, msisdn } from "./helpers.ts";

// Fixtures and calls shared by message-sender's test files: `serviceTest(...).extend({ twilio: twilioSimulator(...) })`.

/** The message-sender of a test file (`serviceTest`'s `svc`). */
export type Svc = TestService<MessageSenderConfig, Db>;

/** A file-scoped fixture, as `test.extend` takes it: started when a test first asks for it, ended after the file. */
type FileFixture<T, Context = object> = [
  (context: Context, use: (value: T) => Promise<void>) => Promise<void>,
  { scope: "file"; auto?: boolean },
];

/** A resource a file-scoped fixture starts with `start` and closes after the file's last test. */
export const closedAfterFile = <T extends { close(): Promise<unknown> }>(
  start: () => Promise<T>,
): FileFixture<T> => [
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  async ({}, use) => {
    const resource = await start();
    try {
      await use(resource);
    } finally {
      await resource.close();
    }
  },
  { scope: "file" },
];

/** A Twilio simulator for the test file. */
export const twilioSimulator = (options: TwilioSimulatorOptions) =>
  closedAfterFile<TwilioSimulator>(() => startTwilioSimulator(options));

/** A Vonage simulator for the test file. */
export const vonageSimulator = (options: VonageSimulatorOptions) =>
  closedAfterFile<VonageSimulator>(() => startVonageSimulator(options));

/** A file's Twilio simulator and its set-up on it (`twilioSimulator`, `twilioSetUp`). */
export interface TwilioFixtures {
  sim: TwilioSimulator;
  setUp: undefined;
}

/**
 * The file's set-up on its service and Twilio simulator (`sim`), such as creating its channels: run once before the
 * file's first test, as a `beforeAll` would.
 */
export const twilioSetUp = (
  setUp: (svc: Svc, sim: TwilioSimulator) => Promise<unknown>,
): FileFixture<undefined, { svc: Svc; sim: TwilioSimulator }> => [
  async ({ svc, sim }, use) => {
    await setUp(svc, sim);
    await use(undefined);
  },
  { scope: "file", auto: true },
];

/**
 * The origin (`http://127.0.0.1:<port>`) of the file's service API listening on a free port, for callers that need a
 * real URL (provider callbacks and webhooks, signed over the URL). `svc.close()` closes the listener.
 */
export const listening: FileFixture<string, { svc: Svc }> = [
  async ({ svc }, use) => {
    await svc.app.listen({ port: 0, host: "127.0.0.1" });
    await use(`http://127.0.0.1:${(svc.app.server.address() as AddressInfo).port}`);
  },
  { scope: "file" },
];

/** A request to the service's API as the admin. */
export const call = (
  svc: Pick<Svc, "app">,
  method: "GET" | "POST" | "PATCH" | "DELETE",
  url: string,
  payload?: object,
) => svc.app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) });

/** POST /api/v1/outbound/ to a new number, with no metadata but `fields`. */
export const sendToNew = (svc: Pick<Svc, "app">, fields: object) =>
  call(svc, "POST", "/api/v1/outbound/", { to_addr: msisdn(), metadata: {}, ...fields });

/** Sends an outbound through `channel` (201 expected): "Reply to book a visit" but for `fields`; returns its id. */
export async function sendVia(svc: Pick<Svc, "app">, channel: string, to: string, fields: object = {}) {
  const res = await call(svc, "POST", "/api/v1/outbound/", {
    to_addr: to,
    content: "Reply to book a visit",
    metadata: {},
    channel,
    ...fields,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** How many outbounds and batches the service holds: what a refused request leaves as it was. */
export const stored = async (svc: Svc) => ({
  outbounds: await svc.db.outbound.count(),
  batches: await svc.db.outboundBatch.count(),
});

/** Outbound `id` as `GET /api/v1/outbound/:id/` shows it. */
export const outbound = async (svc: Svc, id: string) =>
  (await call(svc, "GET", `/api/v1/outbound/${id}/`)).json();

/** Sends `body` ("hello", no metadata, unless it says otherwise) through `POST /api/v1/outbound/`; returns its id. */
export const send = async (svc: Svc, body: object) => {
  const res = await call(svc, "POST", "/api/v1/outbound/", { content: "hello", metadata: {}, ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
};

/** Waits until outbound `id`, as the API shows it, has `status`; returns it. */
export const waitForStatus = (svc: Svc, id: string, status: string, timeoutMs = 10_000) =>
  waitFor(
    async () => {
      const o = await outbound(svc, id);
      return o.status === status && o;
    },
    { what: `outbound ${id} to be ${status}`, timeoutMs },
  );

// The twilio channel's tests (twilio-channel.int.test.ts, twilio-channel-settings.int.test.ts).

/** The twilio channel tests' account on their simulator. */
export const TWILIO_SID = `AC${"2".repeat(32)}`;
export const TWILIO_TOKEN = "twilio-test-auth-token";

/**
 * The `it` of the twilio channel's tests: a worker, the Twilio simulator `sim`, the listening API `base` and the TW
 * channel on the simulator, its status callbacks to `base`; `capture` holds the delivery and opt-out reports.
 */
export const twilioChannelTest = () =>
  serviceTest(
    createMessageSenderService(),
    {
      worker: true,
      // TRUST_PROXY: inject's peer, for the callback signed over the URL a proxy forwarded.
      env: {
        OUTBOUND_RETRY_DELAYS_MS: "100,300,1000,3000",
        CHANNEL_CACHE_TTL_MS: "100",
        TRUST_PROXY: "127.0.0.1",
        // One attempt: a failed report is final here (retries: redelivery.int.test.ts).
        REDELIVERY_MAX_ATTEMPTS: "1",
      },
    },
    ["outbound.delivery_report", "optout.reported"],
  ).extend<TwilioFixtures & { base: string }>({
    sim: twilioSimulator({ accounts: { [TWILIO_SID]: TWILIO_TOKEN }, callbackIntervalMs: 20 }),
    base: listening,
    setUp: [
      async ({ svc, sim, base }, use) => {
        await createTwilioTestChannel(svc, sim, base, "TW");
        await use(undefined);
      },
      { scope: "file", auto: true },
    ],
  });

/**
 * Creates twilio channel `channelId` on the simulator, its status callbacks to `base` (none without it: its outbounds
 * stay submitted); `fields` add to the request.
 */
export const createTwilioTestChannel = (
  svc: Svc,
  sim: TwilioSimulator,
  base: string | undefined,
  channelId: string,
  fields: Record<string, unknown> = {},
) =>
  createTwilioChannel(
    svc.app,
    channelId,
    { sid: TWILIO_SID, token: TWILIO_TOKEN, url: sim.url },
    base ? { status_callback: base } : {},
    fields,
  );

/** Sends "Your code is 1234" to `to` (a fresh number unless given) through `channel`. */
export const sendThrough = async (svc: Svc, channel: string, to = msisdn()) => ({
  id: await send(svc, { to_addr: to, content: "Your code is 1234", channel }),
  to,
});

/** The delivery reports `capture` holds for outbound `id`. */
export const reportsOf = (capture: Capture, id: string) =>
  capture.named<OutboundDeliveryReport>("outbound.delivery_report").filter((p) => p.outbound_id === id);

/** The create-message requests the simulator received for `to`. */
export const requestsTo = (sim: TwilioSimulator, to: string) => sim.requests.filter((r) => r.To === to);

// The sending tests (sending.int.test.ts, sending-idempotency.int.test.ts).

/** A call of a channel's send in the sending tests: what was sent where. */
export interface Sent {
  id: string;
  channel: string;
  address: string;
}

const recording = (sends: Sent[], name: string, channel: Channel): Channel => ({
  send: (outbound, to) => {
    sends.push({ id: outbound.id, channel: name, address: to });
    return channel.send(outbound, to);
  },
});

/** Fails the first send of each outbound as a provider outage would, then sends through the log channel. */
const flaky = (log: Channel): Channel => {
  const failed = new Set<string>();
  return {
    send: async (outbound, to) => {
      if (!failed.has(outbound.id)) {
        failed.add(outbound.id);
        throw new Error(`provider timed out sending to ${to}`);
      }
      return log.send(outbound, to);
    },
  };
};

/**
 * The `it` of the sending tests: a worker with the channels LOG, FLAKY (failing each outbound's first send) and
 * REJECTING (refusing every send for good), whose sends `sendsOf(id)` lists; `capture` holds outbound.send and the
 * status events and delivery reports.
 */
export const sendingTest = () => {
  const sends: Sent[] = [];
  const service = createMessageSenderService({
    channels: (logger) => {
      const log = new LogChannel(logger);
      return {
        LOG: recording(sends, "LOG", log),
        FLAKY: recording(sends, "FLAKY", flaky(log)),
        REJECTING: recording(sends, "REJECTING", {
          send: async (_, to) => {
            throw new PermanentSendError(`rejected by the provider: ${to} is not a mobile number`);
          },
        }),
      };
    },
  });
  return serviceTest(service, { worker: true, env: { OUTBOUND_RETRY_DELAYS_MS: "100,300,1000,3000" } }, [
    "outbound.send",
    "outbound.submitted",
    "outbound.delivered",
    "outbound.failed",
    "outbound.delivery_report",
  ]).extend<{ sendsOf: (id: string) => Sent[] }>({
    /** Every call of a channel's send for outbound `id`. */
    sendsOf: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
      async ({}, use) => use((id) => sends.filter((s) => s.id === id)),
      { scope: "file" },
    ],
  });
};

/** `POST /api/v1/outbound/` as the admin. */
export const post = (svc: Svc, payload: Record<string, unknown>) =>
  call(svc, "POST", "/api/v1/outbound/", payload);

/** Waits until outbound `id` is delivered or failed; returns it as the API shows it. */
export const finalOutbound = (svc: Svc, id: string) =>
  waitFor(
    async () => {
      const shown = await outbound(svc, id);
      return ["delivered", "failed"].includes(shown.status) && shown;
    },
    { what: `outbound ${id} to be final` },
  );

/** The status events and delivery reports of one outbound, in publish order. */
export const eventsOf = (capture: Capture, id: string) =>
  capture.messages
    .filter((m) => m.name !== "outbound.send")
    .filter((m) => {
      const p = m.payload as Partial<OutboundStatusChanged & OutboundDeliveryReport>;
      return p.id === id || p.outbound_id === id;
    });

/** Waits until `capture` holds `n` events of outbound `id`; returns them. */
export const waitForEvents = (capture: Capture, id: string, n: number) =>
  waitFor(() => eventsOf(capture, id).length >= n && eventsOf(capture, id), { what: `${n} events of ${id}` });

/** Publishes an identity event and waits until the address book holds it. */
export async function addToBook(
  svc: Svc,
  event: ReturnType<typeof identityEvent>,
  name: "identity.created" | "identity.updated",
) {
  await svc.broker.publish(name, event);
  await waitFor(
    async () => {
      const entry = await svc.db.addressBookEntry.findUnique({ where: { identity: event.id } });
      return entry?.identityUpdatedAt.toISOString() === event.updated_at;
    },
    { what: `address book entry for ${event.id}` },
  );
}

/**
 * The API alone, archiving to `archiveDir`: a temporary directory made before the service starts (its
 * ARCHIVE_DIR) and removed after the file's last test.
 */
export function archivingTest(prefix: string) {
  const archiveDir = mkdtempSync(join(tmpdir(), prefix));
  const it = serviceTest(messageSenderService, { env: { ARCHIVE_DIR: archiveDir } }).extend<{
    archive: string;
  }>({
    archive: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
      async ({}, use) => {
        await use(archiveDir);
        await rm(archiveDir, { recursive: true, force: true });
      },
      { scope: "file", auto: true },
    ],
  });
  return { it, archiveDir };
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

/**
 * A worker's reconciliation passes, run by the test itself (every `submitted` outbound is due at once, and due again
 * as soon as it was asked about, unless `againAfterMs` says otherwise), with a channel cache of their own whose
 * adapters are built as a worker builds them, logging nothing.
 */
export function reconcilerOf(svc: Svc) {
  const channels = new ChannelCache(svc.db, 60_000, {
    injected: {},
    build: (row) => buildAdapter(row, quiet, svc.config, svc.db),
  });
  return {
    channels,
    pass: (options: Partial<ReconcileOptions> = {}) =>
      reconcile(svc.db, channels, 0, defaultRedelivery(svc.config), quiet, { againAfterMs: 0, ...options }),
  };
}
