import type { ServiceName } from "@tidings/client";

/** The services behind `/api/<service>/`, in the order of their default ports (3001-3005). */
export const SERVICE_NAMES = [
  "identity",
  "subscription",
  "content",
  "scheduler",
  "message-sender",
] as const satisfies readonly ServiceName[];

export type ServiceUrls = Record<ServiceName, string>;

/**
 * What the console's pages call of each service, the only paths forwarded to it: its API under `/api/v1/`, and
 * content's files under `/media/` (a message's audio, played as `/api/content/media/<key>`). The rest of a service
 * (`/metrics`, `/docs`, `/api/health/`, Seed's `/api/metrics/`, ...) is not the console's to reach.
 */
export const FORWARDED_PATHS: Record<ServiceName, readonly string[]> = {
  identity: ["/api/v1/"],
  subscription: ["/api/v1/"],
  content: ["/api/v1/", "/media/"],
  scheduler: ["/api/v1/"],
  "message-sender": ["/api/v1/"],
};

/**
 * Whether `/api/<service><rest>` is forwarded: `rest` (a URL's normalised pathname: `..`, `%2e%2e` and backslashes
 * already resolved) starts with one of the service's FORWARDED_PATHS. An encoded slash stays part of its segment
 * (a topic such as `clinic%2Fnews` is one path parameter), as the services' router reads it.
 */
export function isForwarded(service: string, rest: string): service is ServiceName {
  const prefixes = (FORWARDED_PATHS as Record<string, readonly string[] | undefined>)[service];
  return prefixes?.some((prefix) => rest.startsWith(prefix)) ?? false;
}

/** A variable of the console's that is not valid: its message names it, as the services' ConfigError does. */
export class ConsoleConfigError extends Error {
  override name = "ConsoleConfigError";
}

const invalid = (name: string, value: string, what: string) =>
  new ConsoleConfigError(`console: invalid configuration: ${name}: ${JSON.stringify(value)} is not ${what}`);

/**
 * The service URLs from the environment (`IDENTITY_URL`, ..., `MESSAGE_SENDER_URL`; default ports 3001-3005).
 * Throws a ConsoleConfigError naming a variable that is not an http(s) URL.
 */
export function serviceUrlsFromEnv(env: NodeJS.ProcessEnv): ServiceUrls {
  return Object.fromEntries(
    SERVICE_NAMES.map((service, i) => {
      const name = `${service.toUpperCase().replace("-", "_")}_URL`;
      const url = env[name] ?? `http://127.0.0.1:${3001 + i}`;
      if (!/^https?:\/\/\S+$/.test(url) || !URL.canParse(url)) {
        throw invalid(name, url, "an http or https URL");
      }
      return [service, url];
    }),
  ) as ServiceUrls;
}

/**
 * CONSOLE_PORT, where the console listens: 3000 unless set; 0, any free port. Throws a ConsoleConfigError naming it
 * when it is not an integer from 0 to 65535.
 */
export function consolePortFromEnv(env: NodeJS.ProcessEnv): number {
  const value = env.CONSOLE_PORT ?? "3000";
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65_535) {
    throw invalid("CONSOLE_PORT", value, "a port (an integer from 0 to 65535)");
  }
  return port;
}

/**
 * The console's settings from the environment (its service URLs and port), or, when one is not valid, its message on
 * stderr (prefixed with `prefix`) and exit code 1: the console's server and `pnpm start` check them before starting.
 */
export function consoleSettingsOrExit(
  env: NodeJS.ProcessEnv,
  prefix = "",
): { services: ServiceUrls; port: number } {
  try {
    return { services: serviceUrlsFromEnv(env), port: consolePortFromEnv(env) };
  } catch (err) {
    if (!(err instanceof ConsoleConfigError)) {
      throw err;
    }
    process.stderr.write(`${prefix}${err.message}\n`);
    process.exit(1);
  }
}
