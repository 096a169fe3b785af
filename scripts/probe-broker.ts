/**
 * `node --import tsx scripts/probe-broker.ts`: checks that RabbitMQ (AMQP_URL, from the environment or .env)
 * connects, completes its handshake and declares a queue, each within 10 s. Exits 1 with what hung and how to
 * recover it otherwise, so start.sh, test.sh and `pnpm start` fail in seconds instead of stalling on a hung broker.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { probeBroker } from "@tidings/amqp";
import { ROOT } from "../packages/testing/src/processes.ts";

export async function checkBrokerOrExit(): Promise<void> {
  const url = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
  try {
    const { version, ms } = await probeBroker(url);
    process.stdout.write(`RabbitMQ ${version} answered in ${ms} ms\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const envFile = path.join(ROOT, ".env");
  if (existsSync(envFile)) {
    process.loadEnvFile(envFile);
  }
  await checkBrokerOrExit();
}
