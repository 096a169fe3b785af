import pino, { type Logger } from "pino";
import { describe, expect, it } from "vitest";
import { loggerOptions, maskPii } from "./logger.ts";

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
    const logged = lines()[0]?.err as { message: string; stack: string; type: string };
    expect(logged.type).toBe("Error");
    expect(logged.message).toContain("could not reach [phone] <[email]>");
    expect(logged.stack).toContain("Error: could not reach [phone] <[email]>");
    expect(logged.stack).toContain("cause [phone]");
    expect(raw()).not.toContain(PHONE);
    expect(raw()).not.toContain(EMAIL);
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

describe("maskPii", () => {
  it.each([
    [`to ${PHONE}`, "to [phone]"],
    ["call 082 000 1001 now", "call [phone] now"],
    ["call 082-000-1001", "call [phone]"],
    ["27820001001", "[phone]"],
    [`${PHONE}, ${PHONE}`, "[phone], [phone]"],
    [`send to ${PHONE}: rejected`, "send to [phone]: rejected"],
    [`Call ${PHONE}.`, "Call [phone]."],
    [`(${PHONE})`, "([phone])"],
    [`tel:${PHONE}`, "tel:[phone]"],
    [`mail ${EMAIL} now`, "mail [email] now"],
    ["First.Last+tag@sub.example.co.za", "[email]"],
    [`"${EMAIL}"`, '"[email]"'],
  ])("masks %j", (text, masked) => {
    expect(maskPii(text)).toBe(masked);
  });

  it.each([
    "connect 10.0.0.12:5672 failed",
    "listening on 0.0.0.0:3001",
    "peer 192.168.100.200",
    "[::1]:5432 and 2001:db8::8a2e:370:7334",
    "identity 123e4567-e89b-12d3-a456-426614174000",
    "identity 12345678-1234-4234-8234-123456789012",
    "at 2026-11-22T13:26:00.123Z",
    "at 2026-11-22T13:26:00.123456789+02:00",
    "took 0.1234567890 s",
    "port 15672",
    "short 12345678",
    "queue tidings.message-sender.send_message attempt 3",
  ])("leaves %j alone", (text) => {
    expect(maskPii(text)).toBe(text);
  });

  it("answers an empty text for a missing one (an error without a message), instead of throwing", () => {
    expect(maskPii(undefined)).toBe("");
    expect(maskPii(null)).toBe("");
  });
});
