import pino, { type Logger } from "pino";
import { describe, expect, it } from "vitest";
import { lazyChild } from "../src/lazy-logger.ts";

/** A warn-level logger in memory that redacts `to_addr`, counting the children made of it. */
function counted(): { logger: Logger; lines: () => Record<string, unknown>[]; made: () => number } {
  const chunks: string[] = [];
  const logger = pino(
    { level: "warn", redact: { paths: ["to_addr"], censor: "[redacted]" } },
    { write: (s: string) => void chunks.push(s) },
  );
  const child = logger.child;
  let made = 0;
  logger.child = function (this: Logger, ...args: Parameters<Logger["child"]>) {
    made++;
    return child.apply(this, args);
  } as Logger["child"];
  return { logger, lines: () => chunks.map((c) => JSON.parse(c)), made: () => made };
}

describe("lazyChild", () => {
  it("makes its child only for a line its level lets through, and writes it with its bindings", () => {
    const { logger, lines, made } = counted();
    const log = lazyChild(logger, { messageId: "m-1" });
    log.info({ outboundId: "o-1" }, "sent");
    log.debug("quiet");
    // What fastify checks of a request's logger: that it has these methods.
    for (const method of ["info", "error", "debug", "fatal", "warn", "trace", "child"] as const) {
      expect(typeof log[method]).toBe("function");
    }
    expect(log.level).toBe("warn");
    expect(log.isLevelEnabled("info")).toBe(false);
    expect(log.isLevelEnabled("warn")).toBe(true);
    expect(made()).toBe(0);

    log.warn({ to_addr: "+27820001001" }, "slow");
    log.error("failed");
    expect(made()).toBe(1);
    expect(lines()).toMatchObject([
      { level: 40, messageId: "m-1", msg: "slow", to_addr: "[redacted]" },
      { level: 50, messageId: "m-1", msg: "failed" },
    ]);
  });

  it("takes a route's own level before its child is made, and a level set later", () => {
    const { logger, lines } = counted();
    const log = lazyChild(logger, { reqId: "req-2" }, { level: "info" });
    expect(log.level).toBe("info");
    log.info("route at info");
    log.debug("not at info");
    const quiet = lazyChild(logger, { reqId: "req-3" });
    quiet.level = "debug";
    quiet.debug("now at debug");
    expect(lines().map((l) => [l.reqId, l.msg])).toEqual([
      ["req-2", "route at info"],
      ["req-3", "now at debug"],
    ]);
  });

  it("gives its own children both sets of bindings", () => {
    const { logger, lines } = counted();
    lazyChild(logger, { messageId: "m-4" }).child({ outboundId: "o-4" }).warn("deferred");
    expect(lines()).toMatchObject([{ messageId: "m-4", outboundId: "o-4", msg: "deferred" }]);
  });
});
