import type { IncomingHttpHeaders } from "node:http";
import { closing, type HttpReceiver, startHttpReceiver } from "@tidings/testing";
import { test } from "vitest";

export interface SimulatorFixtures<S, R> {
  /** The simulator, started for the file's tests and closed after its last one. */
  sim: S;
  /** Where the tests ask the simulator to send its callbacks: a local server answering each with the file's status. */
  callbackUrl: string;
  /** Every callback that server received, in order, as the file records them. */
  received: R[];
}

/**
 * The `it` of a simulator's test file: `sim` (what `start` starts), and a callback server answering `status` to the
 * form-encoded callbacks it receives at `callbackPath`, each recorded as `record` makes it; all file-scoped.
 */
export function simulatorTest<S extends { close(): Promise<void> }, R>(
  start: () => Promise<S>,
  callback: {
    path: string;
    status: number;
    record: (params: Record<string, string>, headers: IncomingHttpHeaders) => R;
  },
) {
  const received: R[] = [];
  return test.extend<SimulatorFixtures<S, R> & { callbackServer: HttpReceiver }>({
    sim: [closing(start), { scope: "file" }],
    callbackServer: [
      closing(() =>
        startHttpReceiver((request) => {
          received.push(
            callback.record(Object.fromEntries(new URLSearchParams(request.body)), request.headers),
          );
          return callback.status;
        }),
      ),
      { scope: "file" },
    ],
    callbackUrl: [
      async ({ callbackServer }, use) => use(`${callbackServer.url}${callback.path}`),
      { scope: "file" },
    ],
    received: [async ({ callbackServer: _ }, use) => use(received), { scope: "file" }],
  });
}
