/**
 * A broker that accepts TCP connections and never completes a handshake (RabbitMQ out of file handles) must cost
 * seconds, not an afternoon: a test run and a service process each end in under 30 s saying what hung and where
 * the recovery steps are.
 */
import { spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";
import path from "node:path";
import { ROOT, spawnService } from "@tidings/testing";
import { describe, expect, test } from "vitest";

/** The URL of a broker that accepts TCP connections and never answers, listening for the file's tests. */
const it = test.extend<{ silentUrl: string }>({
  silentUrl: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      const sockets = new Set<Socket>();
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on("error", () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        await use(`amqp://guest:guest@127.0.0.1:${(server.address() as { port: number }).port}`);
      } finally {
        for (const socket of sockets) {
          socket.destroy();
        }
        await new Promise((resolve) => server.close(resolve));
      }
    },
    { scope: "file" },
  ],
});

const HUNG = /RabbitMQ at amqp:\/\/127\.0\.0\.1:\d+ is not usable \(AMQP handshake\).*'A hung RabbitMQ'/;

describe("a broker that accepts connections and never answers", () => {
  it("ends a run of a single integration test file in under 30 s, saying so", async ({ silentUrl }) => {
    const started = Date.now();
    const child = spawn(
      path.join(ROOT, "node_modules", ".bin", "vitest"),
      // an integration file: only the integration project probes the broker (unit tests need none)
      ["run", "packages/amqp/test/consumer.int.test.ts"],
      { cwd: ROOT, env: { ...process.env, AMQP_URL: silentUrl }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(code).not.toBe(0);
    expect(output.replace(/\s+/g, " ")).toMatch(HUNG);
  }, 40_000);

  it("stops a service process at start in under 30 s, with that message in its log", async ({
    silentUrl,
  }) => {
    const started = Date.now();
    const lines: string[] = [];
    const proc = spawnService("identity", "worker", {
      env: { AMQP_URL: silentUrl, ADMIN_TOKEN: "hung-broker-admin-token-0123" },
      onLine: (line) => lines.push(line),
    });
    const code = await proc.exited;
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(code).toBe(1);
    expect(lines.join("\n")).toMatch(/start-up failed/);
    expect(lines.join("\n")).toMatch(HUNG);
  }, 40_000);
});
