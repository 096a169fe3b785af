/**
 * The platform the console's browser tests run against, started once per vitest run by global-setup.ts in a
 * process of its own (`node --import tsx stack.ts`): the five services (their APIs listening on free ports, their
 * workers consuming, one shared AMQP namespace, real Postgres and RabbitMQ) and the console built with Vite and
 * served by its own server in front of them. The process prints the stack's addresses (one JSON line) once it is
 * up, and stops it when its standard input ends (its parent closed it, or is gone). The test files reach it
 * through what the global set-up provides (`inject("consoleStack")`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestNamespace, startTestService } from "@tidings/testing";
import { contentService } from "../../content/src/service.ts";
import { identityService } from "../../identity/src/service.ts";
import { createMessageSenderService } from "../../message-sender/src/service.ts";
import { schedulerService } from "../../scheduler/src/service.ts";
import { subscriptionService } from "../../subscription/src/service.ts";
import { buildConsole } from "../build.ts";
import { startConsoleServer } from "../server/server.ts";
import { SERVICE_NAMES, type ServiceUrls } from "../server/services.ts";

type ServiceName = keyof ServiceUrls;

/** What the test files get: every address, to call the APIs, open the console and read the databases. */
export interface StackInfo {
  /** The console's origin. */
  url: string;
  /** The services' shared AMQP namespace. */
  namespace: string;
  services: Record<ServiceName, { url: string; database: string }>;
}

declare module "vitest" {
  interface ProvidedContext {
    consoleStack: StackInfo;
  }
}

/** The services in SERVICE_NAMES' order; message-sender's log channel writes to `work`/sent.jsonl and its archives go to `work`/archive. */
function startServices(namespace: string, work: string) {
  const shared = { worker: true, namespace };
  return Promise.all([
    startTestService(identityService, shared),
    startTestService(subscriptionService, shared),
    startTestService(contentService, shared),
    startTestService(schedulerService(), shared),
    startTestService(createMessageSenderService(), {
      ...shared,
      env: { LOG_CHANNEL_FILE: path.join(work, "sent.jsonl"), ARCHIVE_DIR: path.join(work, "archive") },
    }),
  ]);
}

/** Starts the stack; `close` stops it and deletes its databases, namespace and files. */
export async function startStack(): Promise<{ info: StackInfo; close(): Promise<void> }> {
  const work = await mkdtemp(path.join(tmpdir(), "tidings-console-"));
  const namespace = createTestNamespace();
  const [started] = await Promise.all([
    startServices(namespace.namespace, work),
    buildConsole(path.join(work, "public")),
  ]);
  const urls = await Promise.all(started.map((svc) => svc.app.listen({ host: "127.0.0.1", port: 0 })));
  const services = Object.fromEntries(
    SERVICE_NAMES.map((name, i) => [
      name,
      { url: urls[i] as string, database: started[i]?.config.DATABASE_URL as string },
    ]),
  ) as StackInfo["services"];
  const server = await startConsoleServer({
    services: Object.fromEntries(SERVICE_NAMES.map((name) => [name, services[name].url])) as ServiceUrls,
    publicDir: path.join(work, "public"),
    host: "127.0.0.1",
    port: 0,
  });
  return {
    info: { url: server.url, namespace: namespace.namespace, services },
    async close() {
      await server.close();
      await Promise.all(started.map((s) => s.close()));
      await namespace.cleanup();
      await rm(work, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const stack = await startStack();
  process.stdout.write(`${JSON.stringify(stack.info)}\n`);
  process.stdin.resume();
  process.stdin.once("end", async () => {
    await stack.close();
    process.exit(0);
  });
}
