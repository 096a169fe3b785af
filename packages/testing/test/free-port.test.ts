import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "../src/index.ts";

describe("freePort", () => {
  it("never hands out a port twice before the block comes round, though none is listened on yet", async () => {
    const ports = [];
    for (let i = 0; i < 1_000; i++) {
      ports.push(await freePort());
    }
    expect(new Set(ports).size).toBe(ports.length);
    expect(Math.min(...ports)).toBeGreaterThanOrEqual(10_000);
    expect(Math.max(...ports)).toBeLessThan(32_768);
  });

  it("skips a port something listens on", async () => {
    const taken = await freePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(taken, "0.0.0.0", resolve));
    try {
      for (let i = 0; i < 1_400; i++) {
        expect(await freePort()).not.toBe(taken);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
