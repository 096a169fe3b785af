import { describe, expect, it } from "vitest";
import { idempotencyKey, inPool, newRunId } from "./run.ts";

describe("inPool", () => {
  it("runs at most `size` at a time, reports each as it finishes and keeps the items' order", async () => {
    let running = 0;
    let most = 0;
    const reported: number[] = [];
    const results = await inPool(
      [30, 5, 20, 1, 10, 2, 8],
      3,
      async (ms) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, ms));
        running--;
        return ms * 2;
      },
      (_, done) => reported.push(done),
    );
    expect(results).toEqual([60, 10, 40, 2, 20, 4, 16]);
    expect(most).toBe(3);
    expect(reported).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("finishes at once with nothing to do", async () => {
    expect(await inPool([], 4, async () => 1)).toEqual([]);
  });
});

describe("idempotencyKey", () => {
  it("is a valid Idempotency-Key, new in each run", () => {
    const [one, two] = [newRunId(), newRunId()];
    expect(one).not.toBe(two);
    const key = idempotencyKey(one, "subscription:6f1d8a52-3c4b-4e8a-9b7e-2d5c1a0f9e37:12");
    expect(key).toMatch(/^[\x21-\x7E]{1,255}$/);
    expect(key).not.toBe(idempotencyKey(two, "subscription:6f1d8a52-3c4b-4e8a-9b7e-2d5c1a0f9e37:12"));
  });
});
