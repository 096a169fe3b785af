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

/** 9-15 digits, optionally with a leading + and single space/hyphen separators, standing alone (not part of
 * an IP address, a uuid, a timestamp, a decimal or a word). A "." or ":" next to it only counts as part of
 * something larger when a digit is on its other side: "to +27820001001: rejected" is masked. */
const PHONE = /(?<![\w+-]|\d[.:])\+?\d(?:[ -]?\d){8,14}(?![\w-]|[.:]\d)/g;
const EMAIL = /[^\s@<>"']+@[^\s@<>"']+\.[^\s@<>"']+/g;

/** Masks phone numbers and email addresses inside free text (error messages, log lines). */
export function maskPii(text: string | null | undefined): string {
  // Error messages passed here may be missing (an SDK's error without one): never throw while reporting an error.
  return (text ?? "").replace(EMAIL, "[email]").replace(PHONE, "[phone]");
}

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
      err: (err: Error) => {
        const serialized = pino.stdSerializers.err(err);
        return {
          ...serialized,
          message: maskPii(serialized.message),
          stack: maskPii(serialized.stack ?? ""),
        };
      },
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
