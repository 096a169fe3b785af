import { maskPii } from "@tidings/contracts";
import pino, { type Logger, type LoggerOptions } from "pino";

/** Field names whose values are secrets or personal data wherever they appear in a log object. */
const SENSITIVE_KEYS = [
  "authorization",
  "password",
  "token",
  "auth_token",
  "secret",
  "verification_code",
  "msisdn",
  "email",
  "to_addr",
  "from_addr",
  "address",
  "addresses",
  "details",
  "content",
];

export const REDACT_PATHS = [
  "req.headers.authorization",
  'req.headers["x-twilio-signature"]',
  ...SENSITIVE_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

/**
 * A request URL for the log: the path, and the names of query parameters without their values (searches
 * carry phone numbers and emails: `?details__addresses__msisdn=%2B27...`).
 */
export function redactQuery(url: string): string {
  const at = url.indexOf("?");
  if (at < 0) {
    return url;
  }
  const names = [...new URLSearchParams(url.slice(at + 1)).keys()];
  return `${url.slice(0, at)}?${names.map((name) => `${encodeURIComponent(name)}=[redacted]`).join("&")}`;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
}

/** How many causes deep an error's `cause` chain is logged (a cycle ends it too). */
const MAX_CAUSES = 4;

/** The fields of an error that say what went wrong without saying to whom: never its other properties. */
interface LoggedError {
  type: string;
  code?: string | number;
  status?: number;
  statusCode?: number;
  responseCode?: number;
  message: string;
  stack?: string;
  cause?: LoggedError;
}

/**
 * An error as a log line holds it: its type, `code`, numeric `status`/`statusCode`/`responseCode`, message and
 * stack with phone numbers and emails masked, and its `cause` the same way, at most `causes` deep. Nothing else:
 * providers' SDK errors carry the request and the answer as properties (a Vonage VetchError its
 * `config.headers.Authorization` and `config.data` with the number and text; a nodemailer EENVELOPE error the
 * SMTP `response` and the `rejected` addresses), which pino's own serializer would copy into the line.
 */
function serializeError(err: unknown, causes: number): LoggedError {
  if (typeof err !== "object" || err === null) {
    return { type: typeof err, message: maskPii(String(err)) };
  }
  const { code, status, statusCode, responseCode, message, stack, cause } = err as Record<string, unknown>;
  const logged: LoggedError = {
    type: typeof err.constructor === "function" ? err.constructor.name : "Object",
    message: maskPii(typeof message === "string" ? message : undefined),
  };
  if (typeof code === "string" || typeof code === "number") {
    logged.code = code;
  }
  for (const [key, value] of [
    ["status", status],
    ["statusCode", statusCode],
    ["responseCode", responseCode],
  ] as const) {
    if (typeof value === "number") {
      logged[key] = value;
    }
  }
  if (typeof stack === "string") {
    logged.stack = maskPii(stack);
  }
  if (cause !== undefined && cause !== null && causes > 0) {
    logged.cause = serializeError(cause, causes - 1);
  }
  return logged;
}

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: {
      // A request (fastify's) is logged by method, redacted URL and peer; anything else logged as `req` as is.
      req: (req: LoggedRequest) =>
        typeof req.url === "string"
          ? { method: req.method, url: redactQuery(req.url), host: req.host, remoteAddress: req.ip }
          : req,
      err: (err: unknown) => serializeError(err, MAX_CAUSES),
    },
    hooks: {
      // Strings passed to a log call are free text: mask anything that looks like a phone number or email.
      logMethod(args, method) {
        const masked: unknown[] = args.map((a) => (typeof a === "string" ? maskPii(a) : a));
        // Without a message pino uses the error's own message (`log.error(err)`, `log.error({ err })`):
        // give it the masked one instead.
        const [first] = masked;
        if (masked.length === 1 && typeof first === "object" && first !== null) {
          const err = first instanceof Error ? first : (first as { err?: unknown }).err;
          const message = (err as { message?: unknown } | undefined)?.message;
          if (typeof message === "string" && (first as { msg?: unknown }).msg === undefined) {
            masked.push(maskPii(message));
          }
        }
        method.apply(this, masked as Parameters<typeof method>);
      },
    },
  };
}

/** The pino logger for one process: JSON lines, pretty only on a terminal. */
export function createLogger(service: string, level = "info"): Logger {
  const options = loggerOptions(service, level);
  if (process.stdout.isTTY && !process.env.CI) {
    return pino({
      ...options,
      transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l" } },
    });
  }
  return pino(options);
}
