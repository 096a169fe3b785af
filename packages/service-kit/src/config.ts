import { isIP } from "node:net";
import { databaseUrlFor } from "@tidings/db";
import envSchema from "env-schema";
import Type, { type Static, type TProperties } from "typebox";

const LogLevel = Type.Union(
  ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
  { default: "info" },
);

/** Settings every process of every service reads. */
export const BaseConfig = {
  HOST: Type.String({ default: "0.0.0.0" }),
  LOG_LEVEL: LogLevel,
  AMQP_URL: Type.String({ default: "amqp://guest:guest@127.0.0.1:5672", pattern: "^amqps?://" }),
  /** Prefixes every exchange and queue; lets several platforms share a broker (tests use one each). */
  AMQP_NAMESPACE: Type.String({ default: "", pattern: "^[a-z0-9_-]*$" }),
  AMQP_PREFETCH: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
  /** Bootstraps API access: it may call everything, including POST /api/v1/user/token/. Unset: no admin. */
  ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  /** Absolute base URL of this API, used in pagination links when behind a proxy. */
  PUBLIC_URL: Type.Optional(Type.String({ pattern: "^https?://" })),
  /**
   * The proxies whose X-Forwarded-For/-Proto/-Host the API believes: comma-separated addresses, CIDRs or
   * `loopback`/`linklocal`/`uniquelocal`. Unset: none (the headers are ignored; the client is the peer).
   */
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * Refused requests (4xx) a minute per client address (see TRUST_PROXY) to the unauthenticated routes of each API
   * process (provider callbacks, the unsubscribe page, docs; not health), and 401s (a bad or missing token) of its
   * other routes, before its requests are answered 429 for the rest of the minute (on authenticated routes, all but
   * those with a key the process knows without the database); the requests taken never count (RefusalLimiter).
   * 0: no limit.
   */
  PUBLIC_RATE_LIMIT: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 600 }),
  /** A worker process's HTTP port (/health, /ready, /metrics); unset: the API's port + 100; 0: any free port. */
  WORKER_HTTP_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
} satisfies TProperties;

export const baseConfigSchema = Type.Object(BaseConfig);
export type BaseConfig = Static<typeof baseConfigSchema> & { DATABASE_URL: string };

export class ConfigError extends Error {
  override name = "ConfigError";
}

const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/**
 * TRUST_PROXY as the list fastify's `trustProxy` takes (addresses, CIDRs, proxy-addr's names); undefined when
 * unset. Throws a ConfigError naming the entry that is none of those.
 */
export function trustedProxies(value: string | undefined): string[] | undefined {
  if (value === undefined) {
    return undefined;
  }
  const entries = value.split(",").map((entry) => entry.trim());
  for (const entry of entries) {
    const [address = "", bits, ...rest] = entry.split("/");
    const family = isIP(address);
    const validBits =
      bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_NAMES.has(entry) && (family === 0 || !validBits || rest.length > 0)) {
      throw new ConfigError(
        `TRUST_PROXY: "${entry}" is not an IP address, a CIDR or one of ${[...PROXY_NAMES].join(", ")}`,
      );
    }
  }
  return entries;
}

/**
 * Validates the environment against `schema` (defaults applied, numbers coerced) and adds the service's
 * DATABASE_URL from `<SERVICE>_DATABASE_URL`. `<SERVICE>_PORT` wins over `PORT`, so one environment (a
 * `.env` shared by every process) can give each service its port. A bad variable fails start-up with a
 * message naming it.
 */
export function loadConfig<P extends TProperties>(
  service: string,
  properties: P,
  env: Record<string, string | undefined> = process.env,
): Static<ReturnType<typeof Type.Object<P & typeof BaseConfig>>> & { DATABASE_URL: string } {
  const schema = Type.Object({ ...BaseConfig, ...properties });
  const portVar = `${service.toUpperCase().replaceAll("-", "_")}_PORT`;
  const data = env[portVar] === undefined ? env : { ...env, PORT: env[portVar] };
  try {
    // env: false, or env-schema merges process.env under `env` (a test's config would pick up the shell's).
    const config = envSchema({ schema, data, env: false, dotenv: false });
    trustedProxies((config as { TRUST_PROXY?: string }).TRUST_PROXY);
    return { ...(config as object), DATABASE_URL: databaseUrlFor(service, env) } as never;
  } catch (err) {
    throw new ConfigError(`${service}: invalid configuration: ${(err as Error).message}`);
  }
}
