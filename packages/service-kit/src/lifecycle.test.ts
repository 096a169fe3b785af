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
    const stop = stopAll(logger, step("a"), step("b", "reject"), undefined, step("c", "throw"), step("d"));
    await expect(stop()).resolves.toBeUndefined();
    expect(calls).toEqual(["a", "b", "c", "d"]);
    const errors = lines.filter((l) => l.msg === "error while stopping");
    expect(errors.map((l) => (l.err as { message: string }).message)).toEqual(["b rejected", "c threw"]);
  });

  it("waits for each step before starting the next", async () => {
    const { logger } = memoryLogger();
    const events: string[] = [];
    const slow: Stop = async () => {
      events.push("slow start");
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push("slow end");
    };
    await stopAll(logger, slow, async () => void events.push("next"))();
    expect(events).toEqual(["slow start", "slow end", "next"]);
  });

  it("is idempotent: later and concurrent calls share the first run", async () => {
    const { logger } = memoryLogger();
    let runs = 0;
    const stop = stopAll(logger, async () => {
      runs += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    const first = stop();
    const concurrent = stop();
    expect(concurrent).toBe(first);
    await Promise.all([first, concurrent]);
    await stop();
    expect(runs).toBe(1);
  });
});
