/**
 * The whole platform as a project hub sees it: every service's API and worker started as real processes (the same
 * command `pnpm start` runs), each on its own database, in one scratch broker namespace.
 */
import { createTidingsClient, type TidingsClient } from "@tidings/client";
import {
  createTestDatabase,
  createTestNamespace,
  freePort,
  type ServiceProcess,
  spawnService,
  type TestDatabase,
  type TestNamespace,
  waitForHealthy,
} from "@tidings/testing";

export const SERVICES = ["identity", "subscription", "content", "scheduler", "message-sender"] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface Platform {
  /** Each service's API origin, `http://127.0.0.1:<port>`. */
  base: Record<ServiceName, string>;
  /** Each service's worker's HTTP origin (/health, /ready, /metrics). */
  workers: Record<ServiceName, string>;
  databaseUrl(service: ServiceName): string;
  /** Every line the processes printed, prefixed with the process's name. */
  output: string[];
  /** The lines logged at error level or above. */
  errors(): string[];
  stop(): Promise<void>;
}

/** The typed client (@tidings/client) of the platform's five APIs, with `token` (none: only public routes answer). */
export const clientOf = (platform: Pick<Platform, "base">, token?: string): TidingsClient =>
  createTidingsClient({
    identity: { url: platform.base.identity, token },
    subscription: { url: platform.base.subscription, token },
    content: { url: platform.base.content, token },
    scheduler: { url: platform.base.scheduler, token },
    messageSender: { url: platform.base["message-sender"], token },
  });

const envName = (service: ServiceName, suffix: string) =>
  `${service.toUpperCase().replace("-", "_")}_${suffix}`;

/**
 * Starts the ten processes with `env` added to each one's environment and waits until every API is healthy and
 * every worker ready.
 */
export async function startPlatform(env: Record<string, string>): Promise<Platform> {
  const namespace: TestNamespace = createTestNamespace();
  const databases = new Map<ServiceName, TestDatabase>();
  const base = {} as Record<ServiceName, string>;
  const workers = {} as Record<ServiceName, string>;
  const workerEnv = {} as Record<ServiceName, Record<string, string>>;
  const all: Record<string, string> = { AMQP_NAMESPACE: namespace.namespace, LOG_LEVEL: "warn", ...env };
  for (const service of SERVICES) {
    const db = await createTestDatabase(service);
    databases.set(service, db);
    const port = await freePort();
    base[service] = `http://127.0.0.1:${port}`;
    all[envName(service, "DATABASE_URL")] = db.url;
    all[envName(service, "PORT")] = String(port);
    const workerPort = await freePort();
    workers[service] = `http://127.0.0.1:${workerPort}`;
    workerEnv[service] = { WORKER_HTTP_PORT: String(workerPort) };
  }
  all.IDENTITY_URL = base.identity;
  all.CONTENT_URL = base.content;
  const output: string[] = [];
  const onLine = (line: string, name: string) => output.push(`${name} | ${line}`);
  const processes: ServiceProcess[] = SERVICES.flatMap((service) => [
    spawnService(service, "api", { env: all, onLine }),
    spawnService(service, "worker", { env: { ...all, ...workerEnv[service] }, onLine }),
  ]);
  const platform: Platform = {
    base,
    workers,
    databaseUrl: (service) => databases.get(service)?.url as string,
    output,
    errors: () => output.filter((line) => /"level":(50|60)/.test(line)),
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
      await Promise.all([...databases.values()].map((d) => d.drop()));
      await namespace.cleanup();
    },
  };
  try {
    // Ten processes start at once on two cores: under load that can take a while.
    await Promise.all([
      ...SERVICES.map((s) => waitForHealthy(`${base[s]}/api/health/`, 80_000)),
      ...SERVICES.map((s) => waitForHealthy(`${workers[s]}/ready`, 80_000)),
    ]);
  } catch (err) {
    await platform.stop();
    throw new Error(`${(err as Error).message}\n${output.slice(-40).join("\n")}`);
  }
  return platform;
}
