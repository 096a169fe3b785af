import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** Runs the fixture, signals it once it has started, and returns its exit code and JSON log lines. */
async function stopProcess(
  stepMs: string,
): Promise<{ code: number | null; lines: Record<string, unknown>[] }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("./fixtures/stopping-process.ts", import.meta.url)), stepMs],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, CI: "1" } },
  );
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line === "started") {
      child.kill("SIGTERM");
    } else {
      lines.push(JSON.parse(line));
    }
  });
  return { code: await exited, lines };
}

describe("runProcess stopping on SIGTERM", () => {
  it("logs how long each step took and exits 0 when the stop ends within its grace", async () => {
    const { code, lines } = await stopProcess("50");
    expect(code).toBe(0);
    const stopped = lines.find((l) => l.msg === "stopped");
    const tookMs = stopped?.tookMs as Record<string, number>;
    expect(Object.keys(tookMs)).toEqual(["quick", "worker", "worker/slow", "timer"]);
    expect(tookMs["worker/slow"]).toBeGreaterThanOrEqual(45);
  });

  it("names the step it was still waiting for when the grace runs out, and exits 1", async () => {
    const { code, lines } = await stopProcess("never");
    expect(code).toBe(1);
    expect(lines.some((l) => l.msg === "stopped")).toBe(false);
    const cut = lines.find((l) => l.level === 60);
    expect(cut).toMatchObject({
      msg: "not stopped within 300 ms: exiting",
      waitingFor: "worker/slow",
      tookMs: { quick: expect.any(Number) },
    });
  });
});
