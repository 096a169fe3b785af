import pino, { type Logger } from "pino";
import { describe, expect, it } from "vitest";
import { loggerOptions } from "./logger.ts";

/** A logger with the service's options writing JSON lines into memory. */
function memoryLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; raw: () => string } {
  const chunks: string[] = [];
  const logger = pino(loggerOptions("test-svc", "trace"), { write: (s: string) => void chunks.push(s) });
  return {
    logger,
    raw: () => chunks.join(""),
    lines: () => chunks.map((c) => JSON.parse(c) as Record<string, unknown>),
  };
}

const PHONE = "+27820001001";
const EMAIL = "someone@example.org";

describe("loggerOptions", () => {
  it("writes JSON with the service, level and an ISO time", () => {
    const { logger, lines } = memoryLogger();
    logger.info("hello");
    const [line] = lines();
    expect(line).toMatchObject({ level: 30, service: "test-svc", pid: process.pid, msg: "hello" });
    expect(line?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("honours the level", () => {
    const chunks: string[] = [];
    const logger = pino(loggerOptions("test-svc", "warn"), { write: (s: string) => void chunks.push(s) });
    logger.info("quiet");
    logger.warn("loud");
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toContain("loud");
  });

  const sensitive = {
    authorization: "Token secret-authorization",
    token: "secret-token",
    password: "secret-password",
    msisdn: PHONE,
    email: EMAIL,
    to_addr: "secret-to-addr",
    details: { addresses: { msisdn: { [PHONE]: {} } } },
    addresses: ["secret-address"],
  };
  const secretValues = [
    "secret-authorization",
    "secret-token",
    "secret-password",
    PHONE,
    EMAIL,
    "secret-to-addr",
  ];
  const secretText = ["secret-address", "secret-to-addr"];

  it("redacts sensitive keys at the top level", () => {
    const { logger, lines, raw } = memoryLogger();
    logger.info({ ...sensitive, keep: "visible" }, "top");
    const [line] = lines();
    for (const key of Object.keys(sensitive)) {
      expect(line?.[key], key).toBe("[redacted]");
    }
    expect(line?.keep).toBe("visible");
    for (const secret of [...secretValues, ...secretText]) {
      expect(raw()).not.toContain(secret);
    }
  });

  it("redacts sensitive keys nested one and two levels down", () => {
    const { logger, lines, raw } = memoryLogger();
    logger.info({ a: { ...sensitive, keep: 1 }, b: { c: { ...sensitive, keep: 2 } } }, "nested");
    const [line] = lines() as { a: Record<string, unknown>; b: { c: Record<string, unknown> } }[];
    for (const key of Object.keys(sensitive)) {
      expect(line?.a[key], `a.${key}`).toBe("[redacted]");
      expect(line?.b.c[key], `b.c.${key}`).toBe("[redacted]");
    }
    expect(line?.a.keep).toBe(1);
    expect(line?.b.c.keep).toBe(2);
    for (const secret of [...secretValues, ...secretText]) {
      expect(raw()).not.toContain(secret);
    }
  });

  it("redacts the authorization header of a logged request", () => {
    const { logger, lines } = memoryLogger();
    logger.info({ req: { method: "GET", headers: { authorization: "Bearer abc", accept: "*/*" } } }, "req");
    expect(lines()[0]?.req).toEqual({
      method: "GET",
      headers: { authorization: "[redacted]", accept: "*/*" },
    });
  });

  it("masks phone numbers and emails in messages, including format arguments", () => {
    const { logger, lines } = memoryLogger();
    logger.info(`sending to ${PHONE} and ${EMAIL}`);
    logger.warn({ attempt: 2 }, "retrying %s for %s", PHONE, EMAIL);
    expect(lines().map((l) => l.msg)).toEqual([
      "sending to [phone] and [email]",
      "retrying [phone] for [email]",
    ]);
    expect(lines()[1]?.attempt).toBe(2);
  });

  it("masks phone numbers and emails in err.message and err.stack", () => {
    const { logger, lines, raw } = memoryLogger();
    const err = new Error(`could not reach ${PHONE} <${EMAIL}>`, { cause: new Error(`cause ${PHONE}`) });
    logger.error({ err }, "send failed");
    const logged = lines()[0]?.err as {
      message: string;
      stack: string;
      type: string;
      cause: { message: string };
    };
    expect(logged.type).toBe("Error");
    expect(logged.message).toBe("could not reach [phone] <[email]>");
    expect(logged.stack).toContain("Error: could not reach [phone] <[email]>");
    expect(logged.cause.message).toBe("cause [phone]");
    expect(raw()).not.toContain(PHONE);
    expect(raw()).not.toContain(EMAIL);
  });

  /** Shaped as @vonage/vetch's VetchError: the request's options (with the API key and secret) and the response. */
  class VetchError extends Error {
    code = "ERR_BAD_REQUEST";
    config = {
      url: "https://rest.nexmo.com/sms/json",
      headers: { Authorization: "Basic a2V5OnNlY3JldA==", "Content-Type": "application/json" },
      data: { to: "27820001001", from: "Tidings", text: "Your clinic visit is on Monday" },
    };
    response = { status: 401, headers: { "x-request-id": "abc" } };
  }

  /** Shaped as nodemailer's EENVELOPE error: the SMTP answer and the refused recipients. */
  function envelopeError(): Error {
    const recipient = "jane@example.org";
    const response = `450 4.1.1 <${recipient}>: Recipient address rejected: mailbox busy`;
    const rejected = Object.assign(new Error(`Recipient command failed: ${response}`), {
      code: "EENVELOPE",
      response,
      responseCode: 450,
      command: "RCPT TO",
      recipient,
    });
    return Object.assign(new Error(`Can't send mail - all recipients were rejected: ${response}`), {
      code: "EENVELOPE",
      response,
      responseCode: 450,
      command: "RCPT TO",
      rejected: [recipient],
      rejectedErrors: [rejected],
    });
  }

  it("logs a provider SDK's error as its type, code, statuses and masked message and stack only", () => {
    const { logger, lines, raw } = memoryLogger();
    const vetch = new VetchError("Request failed with status code 401");
    const envelope = envelopeError();
    logger.warn({ err: vetch }, "message handling failed; retrying");
    logger.warn({ err: envelope }, "message handling failed; retrying");
    logger.error(envelope);
    const [first, second, third] = lines().map((l) => l.err as Record<string, unknown>);
    expect(first).toEqual({
      type: "VetchError",
      code: "ERR_BAD_REQUEST",
      message: "Request failed with status code 401",
      stack: expect.stringContaining("Error: Request failed with status code 401"),
    });
    expect(Object.keys(second ?? {}).sort()).toEqual(["code", "message", "responseCode", "stack", "type"]);
    expect(second).toMatchObject({
      type: "Error",
      code: "EENVELOPE",
      responseCode: 450,
      message:
        "Can't send mail - all recipients were rejected: 450 4.1.1 <[email]>: Recipient address rejected: mailbox busy",
    });
    expect(third).toEqual(second);
    for (const secret of [
      "Basic",
      "a2V5OnNlY3JldA",
      "27820001001",
      "clinic visit",
      "jane@example.org",
      "rest.nexmo",
    ]) {
      expect(raw(), secret).not.toContain(secret);
    }
  });

  it("keeps a numeric status and statusCode, and no status that is not a number", () => {
    const { logger, lines } = memoryLogger();
    logger.error({ err: Object.assign(new Error("throttled"), { status: 429, statusCode: "+27820001001" }) });
    logger.error({ err: Object.assign(new Error("not found"), { statusCode: 404 }) });
    expect(lines().map((l) => l.err)).toEqual([
      { type: "Error", message: "throttled", stack: expect.any(String), status: 429 },
      { type: "Error", message: "not found", stack: expect.any(String), statusCode: 404 },
    ]);
  });

  it("logs an error's causes the same way, masked, and at most a few levels deep", () => {
    const { logger, lines, raw } = memoryLogger();
    const root = Object.assign(new Error(`connect ECONNREFUSED for ${EMAIL}`), {
      code: "ECONNREFUSED",
      address: "10.0.0.1",
    });
    const err = new Error(`send to ${PHONE} failed`, { cause: root });
    logger.error({ err }, "send failed");
    const logged = lines()[0]?.err as Record<string, unknown>;
    expect(logged).toMatchObject({
      type: "Error",
      message: "send to [phone] failed",
      cause: {
        type: "Error",
        code: "ECONNREFUSED",
        message: "connect ECONNREFUSED for [email]",
        stack: expect.stringContaining("connect ECONNREFUSED for [email]"),
      },
    });
    expect(Object.keys(logged.cause as object).sort()).toEqual(["code", "message", "stack", "type"]);
    expect(raw()).not.toContain("10.0.0.1");

    // A cycle, or a chain longer than the bound, ends the chain.
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    a.cause = b;
    logger.error({ err: a }, "cycle");
    let depth = 0;
    for (let at = lines()[1]?.err as { cause?: unknown } | undefined; at; at = at.cause as typeof at) {
      depth++;
    }
    expect(depth).toBeGreaterThan(1);
    expect(depth).toBeLessThanOrEqual(5);
  });

  it("logs something thrown that is not an error as its masked text", () => {
    const { logger, lines } = memoryLogger();
    logger.error({ err: `refused ${PHONE}` }, "odd throw");
    expect(lines()[0]?.err).toEqual({ type: "string", message: "refused [phone]" });
  });

  it("masks the error's message where pino uses it as the log message", () => {
    const { logger, lines, raw } = memoryLogger();
    const err = new Error(`could not reach ${PHONE} <${EMAIL}>`);
    logger.error(err);
    logger.error({ err });
    expect(lines().map((l) => l.msg)).toEqual([
      "could not reach [phone] <[email]>",
      "could not reach [phone] <[email]>",
    ]);
    expect(raw()).not.toContain(PHONE);
    expect(raw()).not.toContain(EMAIL);
  });
});
