import pino from "pino";
import { describe, expect, it } from "vitest";
import { type Stop, stopAll } from "./lifecycle.ts";

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describe("stopAll", () => {
  it("runs every step once, in order, even when some fail", async () => {
    const { logger, lines } = memoryLogger();
    const calls: string[] = [];
    const step =
      (name: string, fail?: "reject" | "throw"): Stop =>
      () => {
        calls.push(name);
        if (fail === "throw") {
          throw new Error(`${name} threw`);
        }
        return fail === "reject" ? Promise.reject(new Error(`${name} rejected`)) : Promise.resolve();
      };
    const stop = stopAll(logger, {
      a: step("a"),
      b: step("b", "reject"),
      none: undefined,
      c: step("c", "throw"),
      d: step("d"),
    });
    await expect(stop()).resolves.toBeUndefined();
    expect(calls).toEqual(["a", "b", "c", "d"]);
    const errors = lines.filter((l) => l.msg === "error while stopping");
    expect(errors.map((l) => [l.step, (l.err as { message: string }).message])).toEqual([
      ["b", "b rejected"],
      ["c", "c threw"],
    ]);
  });

  it("waits for each step before starting the next", async () => {
    const { logger } = memoryLogger();
    const events: string[] = [];
    const slow: Stop = async () => {
      events.push("slow start");
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push("slow end");
    };
    await stopAll(logger, { slow, next: async () => void events.push("next") })();
    expect(events).toEqual(["slow start", "slow end", "next"]);
  });

  it("is idempotent: later and concurrent calls share the first run", async () => {
    const { logger } = memoryLogger();
    let runs = 0;
    const stop = stopAll(logger, {
      once: async () => {
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
      },
    });
    const first = stop();
    const concurrent = stop();
    expect(concurrent).toBe(first);
    await Promise.all([first, concurrent]);
    await stop();
    expect(runs).toBe(1);
  });

  it("names the step it is waiting for, a nested one by its path, and how long each finished one took", async () => {
    const { logger } = memoryLogger();
    const released: (() => void)[] = [];
    const hung = new Promise<void>((resolve) => released.push(resolve));
    const release = () => {
      for (const resolve of released) {
        resolve();
      }
    };
    const inner = stopAll(logger, { quick: async () => undefined, hung: () => hung });
    const stop = stopAll(logger, {
      first: () => new Promise((resolve) => setTimeout(resolve, 30)),
      worker: inner,
      last: async () => undefined,
    });
    expect(stop.progress()).toEqual({ running: undefined, tookMs: {} });
    const done = stop();
    expect(stop.progress().running).toBe("first");
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(stop.progress().running).toBe("worker/hung");
    expect(stop.progress().tookMs.first).toBeGreaterThanOrEqual(25);
    release();
    await done;
    const { running, tookMs } = stop.progress();
    expect(running).toBeUndefined();
    expect(Object.keys(tookMs)).toEqual(["first", "worker", "worker/quick", "worker/hung", "last"]);
    expect(tookMs.worker).toBeGreaterThanOrEqual(tookMs["worker/hung"] ?? Number.NaN);
  });
});
