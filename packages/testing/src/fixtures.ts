import type { MessageName } from "@tidings/contracts";
import type { Database, ServiceConfig, ServiceDefinition } from "@tidings/service-kit";
import { test } from "vitest";
import { type Capture, captureMessages } from "./capture.ts";
import { closeAfter } from "./closing.ts";
import { type HttpReceiver, type ReceivedRequest, startHttpReceiver } from "./receiver.ts";
import { type StartOptions, startTestService, type TestService } from "./service.ts";

export interface ServiceFixtures<C extends ServiceConfig, D extends Database> {
  /** The service of this test file (see `startTestService`), stopped after the file's last test. */
  svc: TestService<C, D>;
  /** The messages named by `serviceTest`'s `events`, published in the service's namespace since the file began. */
  capture: Capture;
  /**
   * A local HTTP server recording every request (a webhook or callback target, answering as `answer` says),
   * started when a test of the file first asks for it and closed after the file's last test.
   */
  receiver: HttpReceiver;
  /** The status `receiver` answers a request with: 200, unless the file overrides this fixture (`.extend`). */
  answer: (request: ReceivedRequest) => number;
}

/**
 * The `it` of a test file about one service: its tests take `{ svc, capture, receiver }`. Both are file-scoped fixtures, started
 * before the file's first test (`capture` only when `events` names any) and stopped after its last one, as a
 * `beforeAll`/`afterAll` pair would.
 */
export function serviceTest<C extends ServiceConfig, D extends Database>(
  def: ServiceDefinition<C, D>,
  options: StartOptions = {},
  events: readonly MessageName[] = [],
) {
  return test.extend<ServiceFixtures<C, D>>({
    svc: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
      async ({}, use) => closeAfter(await startTestService(def, options), use),
      { scope: "file", auto: true },
    ],
    capture: [
      async ({ svc }, use) =>
        closeAfter(await captureMessages(svc.namespace, events), use, (capture) => capture.stop()),
      { scope: "file", auto: events.length > 0 },
    ],
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    answer: [async ({}, use) => use(() => 200), { scope: "file" }],
    receiver: [
      async ({ answer }, use) => closeAfter(await startHttpReceiver(answer), use),
      { scope: "file" },
    ],
  });
}
