import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { namesFor } from "@tidings/contracts";
import { withAdminClient } from "@tidings/db";
import amqp from "amqplib";
import { describe, expect, it } from "vitest";
import { AMQP_URL, DATABASE_SERVER, ROOT, waitFor } from "../src/index.ts";

const queueExists = async (queue: string): Promise<boolean> => {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    channel.on("error", () => undefined);
    return await channel.checkQueue(queue).then(
      () => true,
      () => false,
    );
  } finally {
    await connection.close();
  }
};

const databaseExists = (name: string) =>
  withAdminClient(`${DATABASE_SERVER}/postgres`, async (client) => {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return rowCount === 1;
  });

describe("a run killed with SIGKILL", () => {
  it("leaves nothing behind: its janitor deletes its namespace and drops its databases", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("./fixtures/killed-run.ts", import.meta.url))],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const namespace = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`the run exited (${code}) before it was ready`)));
    });
    const queue = namesFor(namespace).queue("message-sender.outbound-send");
    const database = `tidings_killedrun_${child.pid}_scratch`;
    expect(await queueExists(queue)).toBe(true);
    expect(await databaseExists(database)).toBe(true);

    child.kill("SIGKILL");
    await waitFor(async () => !(await queueExists(queue)), {
      timeoutMs: 20_000,
      what: "the namespace to go",
    });
    await waitFor(async () => !(await databaseExists(database)), {
      timeoutMs: 10_000,
      what: "the database to go",
    });
  });
});
