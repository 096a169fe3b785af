import type { AddressInfo } from "node:net";
import {
  startTwilioSimulator,
  startVonageSimulator,
  type TwilioSimulator,
  type TwilioSimulatorOptions,
  type VonageSimulator,
  type VonageSimulatorOptions,
} from "@tidings/provider-simulators";
import { adminAuth, type TestService, waitFor } from "@tidings/testing";
import { expect } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";

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
