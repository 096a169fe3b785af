import { describe, expect, it } from "vitest";
import { digest, idempotencyKey, inPool } from "./run.ts";

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
  it("is the same for the same body and differs for another, within the header's limits", () => {
    const body = {
      details: { lang_code: "eng_ZA", addresses: { msisdn: { "+27820001001": { default: true } } } },
    };
    const key = idempotencyKey("identity:+27820001001", body);
    expect(key).toBe(idempotencyKey("identity:+27820001001", structuredClone(body)));
    expect(key).not.toBe(
      idempotencyKey("identity:+27820001001", { details: { ...body.details, lang_code: "zul_ZA" } }),
    );
    expect(key).toMatch(/^[\x21-\x7E]{1,255}$/);
    expect(digest("a")).not.toBe(digest("b"));
  });
});
