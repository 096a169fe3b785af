import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "vitest";

export interface SimulatorFixtures<S, R> {
  /** The simulator, started for the file's tests and closed after its last one. */
  sim: S;
  /** Where the tests ask the simulator to send its callbacks: a local server answering each with the file's status. */
  callbackUrl: string;
  /** Every callback that server received, in order, as the file records them. */
  received: R[];
}

interface CallbackServer<R> {
  url: string;
  received: R[];
  close(): Promise<void>;
}

async function startCallbackServer<R>(
  status: number,
  record: (params: Record<string, string>, headers: IncomingHttpHeaders) => R,
): Promise<CallbackServer<R>> {
  const received: R[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push(record(Object.fromEntries(new URLSearchParams(body)), req.headers));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The `it` of a simulator's test file: `sim` (what `start` starts), and a callback server answering `status` to the
 * form-encoded callbacks it receives at `callbackPath`, each recorded as `record` makes it; both file-scoped.
 */
export function simulatorTest<S extends { close(): Promise<void> }, R>(
  start: () => Promise<S>,
  callback: {
    path: string;
    status: number;
    record: (params: Record<string, string>, headers: IncomingHttpHeaders) => R;
  },
) {
  return test.extend<SimulatorFixtures<S, R> & { callbackServer: CallbackServer<R> }>({
    sim: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
      async ({}, use) => {
        const sim = await start();
        try {
          await use(sim);
        } finally {
          await sim.close();
        }
      },
      { scope: "file" },
    ],
    callbackServer: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
      async ({}, use) => {
        const server = await startCallbackServer(callback.status, callback.record);
        try {
          await use(server);
        } finally {
          await server.close();
        }
      },
      { scope: "file" },
    ],
    callbackUrl: [
      async ({ callbackServer }, use) => use(`${callbackServer.url}${callback.path}`),
      { scope: "file" },
    ],
    received: [async ({ callbackServer }, use) => use(callbackServer.received), { scope: "file" }],
  });
}
