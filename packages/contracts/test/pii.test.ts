import { describe, expect, it } from "vitest";
import { maskPii } from "../src/pii.ts";

const PHONE = "+27820001001";
const EMAIL = "someone@example.org";

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
