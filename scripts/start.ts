/**
 * `pnpm start`: runs every service's API and worker as separate processes, each line of output prefixed
 * with its process name. A process that dies is restarted; Ctrl-C (SIGINT) or SIGTERM stops them all
 * gracefully. Migrations run before this (see package.json).
 *
 *   WORKER_REPLICAS=3 pnpm start     three workers per service (competing consumers)
 *   SERVICES=identity,message-sender pnpm start
 *
 * The operator console (apps/console) is served on CONSOLE_PORT (default 3000), in front of the APIs started here.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { consoleSettingsOrExit, startConsoleServer } from "../apps/console/server/server.ts";
import { ROOT, type Role, type ServiceProcess, spawnService } from "../packages/testing/src/processes.ts";
import { checkBrokerOrExit } from "./probe-broker.ts";

const ALL = ["identity", "subscription", "content", "scheduler", "message-sender"];
const COLOURS = [36, 33, 35, 32, 34, 96, 93, 95, 92, 94];

const envFile = path.join(ROOT, ".env");
if (existsSync(envFile)) {
  process.loadEnvFile(envFile);
}
await checkBrokerOrExit();
/** A fresh checkout gets its own secrets, kept in .env (git-ignored) and never printed. */
function ensureSecret(name: string, bytes: number): void {
  if (!process.env[name]) {
    process.env[name] = randomBytes(bytes).toString("base64url");
    appendFileSync(envFile, `${name}=${process.env[name]}\n`);
    process.stdout.write(`start: generated an ${name} and wrote it to .env\n`);
  }
}
ensureSecret("ADMIN_TOKEN", 24);
// Signs topic messages' unsubscribe links; the subscription API and workers must share it.
ensureSecret("UNSUBSCRIBE_SECRET", 32);

const services = (process.env.SERVICES ?? ALL.join(",")).split(",").filter(Boolean);
// The message sender finds or creates the identity of a to_addr-only outbound or an unknown inbound sender
// at the identity service started here (with the platform's admin token) unless told otherwise.
if (services.includes("identity") && !process.env.IDENTITY_URL) {
  process.env.IDENTITY_URL = `http://127.0.0.1:${process.env.IDENTITY_PORT ?? 3001}`;
  process.env.IDENTITY_TOKEN ??= process.env.ADMIN_TOKEN;
}
// The subscription API forwards Seed's content paths (one STAGE_BASED_MESSAGING_URL) to the content API here.
if (services.includes("content") && !process.env.CONTENT_URL) {
  process.env.CONTENT_URL = `http://127.0.0.1:${process.env.CONTENT_PORT ?? 3003}`;
}
// Seed's legacy per-subscription send disables the subscription's old schedule at the scheduler started here.
if (services.includes("scheduler") && !process.env.SCHEDULER_URL) {
  process.env.SCHEDULER_URL = `http://127.0.0.1:${process.env.SCHEDULER_PORT ?? 3004}`;
}
// The console's settings, checked before any process starts: a bad one stops `pnpm start` naming it.
const consoleSettings = consoleSettingsOrExit(process.env, "start: ");
const replicas = Number(process.env.WORKER_REPLICAS ?? 1);
const apiPort = (service: string) =>
  Number(process.env[`${service.toUpperCase().replace("-", "_")}_PORT`] ?? 3001 + ALL.indexOf(service));
/**
 * Each worker's HTTP port (/health, /ready, /metrics): the API's + 100 (identity 3101), the next replicas' + 200,
 * + 300, ... (identity's second worker 3201); WORKER_HTTP_PORT=0 gives each a free one instead.
 */
const workerEnv = (service: string, replica: number): Record<string, string> =>
  process.env.WORKER_HTTP_PORT === "0"
    ? {}
    : { WORKER_HTTP_PORT: String(apiPort(service) + 100 * (replica + 1)) };
const plan: { service: string; role: Role; name: string; env?: Record<string, string> }[] = services.flatMap(
  (service) => [
    { service, role: "api" as const, name: `${service}-api` },
    ...Array.from({ length: replicas }, (_, i) => ({
      service,
      role: "worker" as const,
      name: replicas > 1 ? `${service}-worker-${i + 1}` : `${service}-worker`,
      env: workerEnv(service, i),
    })),
  ],
);
const width = Math.max(...plan.map((p) => p.name.length));

let stopping = false;
const running = new Map<string, ServiceProcess>();

function start(entry: (typeof plan)[number], colour: number): void {
  const proc = spawnService(entry.service, entry.role, {
    name: entry.name,
    env: entry.env,
    // Ctrl-C reaches this process alone, which stops every service with one SIGTERM: each drains and stops.
    ownProcessGroup: true,
    onLine: (line, name) => process.stdout.write(`\x1b[${colour}m${name.padEnd(width)}\x1b[0m | ${line}\n`),
  });
  running.set(entry.name, proc);
  void proc.exited.then(async (code) => {
    if (stopping) {
      return;
    }
    process.stdout.write(`start: ${entry.name} exited (${code}); restarting in 1 s\n`);
    await sleep(1_000);
    if (!stopping) {
      start(entry, colour);
    }
  });
}

for (const [i, entry] of plan.entries()) {
  start(entry, COLOURS[i % COLOURS.length] ?? 37);
}

// The console forwards /api/<service>/ to the APIs started here (their ports), or to <SERVICE>_URL for the others.
const consoleServer = await startConsoleServer({
  services: {
    ...consoleSettings.services,
    ...Object.fromEntries(services.map((s) => [s, `http://127.0.0.1:${apiPort(s)}`])),
  },
  publicDir: path.join(ROOT, "apps", "console", "dist", "public"),
  port: consoleSettings.port,
  host: process.env.HOST ?? "0.0.0.0",
});
process.stdout.write(`start: the console is on ${consoleServer.url}\n`);

async function stopAll(signal: string): Promise<void> {
  if (stopping) {
    return;
  }
  stopping = true;
  process.stdout.write(`start: ${signal}: stopping ${running.size} processes\n`);
  await consoleServer.close();
  await Promise.all([...running.values()].map((p) => p.stop(20_000)));
  process.exit(0);
}
process.on("SIGINT", () => void stopAll("SIGINT"));
process.on("SIGTERM", () => void stopAll("SIGTERM"));
