import type { MessageName } from "@tidings/contracts";
import type { Api, Lookup } from "@tidings/service-kit";
import { adminAuth, serviceTest, testLogger } from "@tidings/testing";
import type { CatchUpLimits } from "../src/config.ts";
import { createDb, type Db } from "../src/db.ts";
import { schedulerService } from "../src/service.ts";
import { Ticker } from "../src/ticker.ts";

/** The time the scheduler under test sees; a test moves it by setting `now`. */
export interface TestClock {
  now: Date;
}

export interface SchedulerTestOptions {
  /** What the message capture records (none by default). */
  events?: readonly MessageName[];
  env?: Record<string, string>;
  /** Name resolution for the endpoint checks and connections (the system's by default). */
  lookup?: Lookup;
}

/**
 * A scheduler test file's `it` (its tests take `{ svc, capture, api }`: `api` is `scheduleApi(svc.app)`), with its worker, on a clock starting at `start`
 * that the test moves. The worker's interval ticker is kept out of the way: tests drive ticks themselves (`tickers`).
 */
export function schedulerTest(start: string, { events = [], env = {}, lookup }: SchedulerTestOptions = {}) {
  const clock: TestClock = { now: new Date(start) };
  const read = () => clock.now;
  const it = serviceTest(
    schedulerService(read, { lookup }),
    { worker: true, env: { TICK_INTERVAL_MS: "60000", ...env } },
    events,
  ).extend<{ api: ScheduleApi }>({
    api: [async ({ svc }, use) => use(scheduleApi(svc.app)), { scope: "file" }],
  });
  /** A ticker on the test clock, over `db`. */
  const ticker = (db: Db, limits?: CatchUpLimits) => new Ticker(db, testLogger(), read, limits);
  /**
   * `count` tickers, each with a database client of its own (competing scheduler processes), for `run`; their
   * clients are closed after it.
   */
  const competing = async <T>(url: string, count: number, run: (tickers: Ticker[]) => Promise<T>) => {
    const clients = Array.from({ length: count }, () => createDb(url));
    try {
      return await run(clients.map((db) => ticker(db)));
    } finally {
      await Promise.all(clients.map((c) => c.$disconnect()));
    }
  };
  return { it, clock, ticker, competing };
}

export type ScheduleApi = ReturnType<typeof scheduleApi>;

/** Admin requests to the schedule API of `app`. */
export function scheduleApi(app: Api) {
  const call = (method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", url: string, payload?: object) =>
    app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) });
  return {
    call,
    create: (payload: object) => call("POST", "/api/v1/schedule/", payload),
    get: (id: string) => call("GET", `/api/v1/schedule/${id}/`),
    patch: (id: string, payload: object) => call("PATCH", `/api/v1/schedule/${id}/`, payload),
    fire: (id: string) => call("POST", `/api/v1/schedule/${id}/fire/`),
  };
}

/** A schedule id no schedule has. */
export const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";
