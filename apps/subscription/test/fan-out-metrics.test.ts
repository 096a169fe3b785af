/** tidings_fanout_size and _duration_seconds: each completed fan-out observed once, by kind. */
import { register } from "prom-client";
import { describe, expect, it } from "vitest";
import { fanOutKeyset } from "../src/services/fan-out.ts";

/** The count and sum of a histogram's series of one kind. */
async function observed(name: string, kind: string): Promise<{ count?: number; sum?: number }> {
  const { values } = (await register.getSingleMetric(name)?.get()) ?? { values: [] };
  const of = (suffix: string) =>
    values.find(
      (v) => (v as { metricName?: string }).metricName === `${name}${suffix}` && v.labels.kind === kind,
    )?.value;
  return { count: of("_count"), sum: of("_sum") };
}

describe("fan-out metrics", () => {
  it("observes a completed fan-out's size and duration once, by kind", async () => {
    const ids = Array.from(
      { length: 2_500 },
      (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
    );
    const published: string[][] = [];
    const total = await fanOutKeyset(
      "topic",
      async (after, limit) => ids.filter((id) => id > after).slice(0, limit),
      async (batch) => published.push(batch),
      { pageSize: 1_000, sendBatchSize: 100 },
    );
    expect(total).toBe(2_500);
    expect(published).toHaveLength(25);
    expect(await observed("tidings_fanout_size", "topic")).toEqual({ count: 1, sum: 2_500 });
    expect((await observed("tidings_fanout_duration_seconds", "topic")).count).toBe(1);
    expect(await observed("tidings_fanout_size", "stage")).toEqual({ count: undefined, sum: undefined });

    // A fan-out that fails part-way is not observed (its redelivery will be).
    await expect(
      fanOutKeyset(
        "stage",
        async () => {
          throw new Error("database gone");
        },
        async () => undefined,
        { pageSize: 1_000, sendBatchSize: 100 },
      ),
    ).rejects.toThrow("database gone");
    expect((await observed("tidings_fanout_size", "stage")).count).toBeUndefined();
  });
});
