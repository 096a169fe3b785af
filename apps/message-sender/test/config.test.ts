import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError } from "@tidings/service-kit";
import { afterAll, describe, expect, it } from "vitest";
import { loadMessageSenderConfig, twilioTransport } from "../src/config.ts";
import { DEFAULT_KEYWORDS, parseKeywords } from "../src/inbound/keywords.ts";

// Start-up fails with a message naming a variable the schema alone cannot check: INBOUND_KEYWORDS (JSON),
// HTTP_PROXY and TWILIO_CA_BUNDLE (read by the Twilio channels only when they first send).

const dir = mkdtempSync(path.join(tmpdir(), "tidings-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const at = path.join(dir, name);
  writeFileSync(at, text);
  return at;
};
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

/** The message of the ConfigError loading `env` throws (fails the test when it throws nothing or something else). */
function refusal(env: Record<string, string>): string {
  try {
    loadMessageSenderConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("message-sender configuration", () => {
  it.each([
    ["not JSON", "{stop: [STOP]}"],
    ["a list, not an object", '["STOP"]'],
    ["a string", '"STOP"'],
    ["null", "null"],
    ["a keyword that is none of stop, start, help", '{"stop": ["STOP"], "unsubscribe": ["U"]}'],
    ["a string instead of a list", '{"stop": "STOP"}'],
    ["an empty word", '{"start": ["START", ""]}'],
    ["a word of spaces", '{"help": [" "]}'],
    ["a number in a list", '{"stop": ["STOP", 1]}'],
  ])("refuses INBOUND_KEYWORDS that is %s, naming it", (_, value) => {
    expect(refusal({ INBOUND_KEYWORDS: value })).toMatch(
      /^message-sender: invalid configuration: INBOUND_KEYWORDS/,
    );
  });

  it("takes INBOUND_KEYWORDS lists in place of the defaults they name", () => {
    const value = '{"stop": ["STOP", "STOPP"], "help": []}';
    expect(loadMessageSenderConfig({ INBOUND_KEYWORDS: value }).INBOUND_KEYWORDS).toBe(value);
    expect(parseKeywords(value)).toEqual({
      stop: ["STOP", "STOPP"],
      start: DEFAULT_KEYWORDS.start,
      help: [],
    });
    expect(parseKeywords(undefined)).toBe(DEFAULT_KEYWORDS);
  });

  it.each([
    "proxy.example.org:3128",
    "socks5://proxy.example.org:1080",
    "http://",
    "http://proxy example.org",
  ])("refuses HTTP_PROXY=%s, naming it", (value) => {
    expect(refusal({ HTTP_PROXY: value })).toMatch(/^message-sender: invalid configuration: .*HTTP_PROXY/);
  });

  it("refuses a TWILIO_CA_BUNDLE that cannot be read or holds no PEM certificate, naming it", () => {
    expect(refusal({ TWILIO_CA_BUNDLE: path.join(dir, "missing.pem") })).toMatch(
      /^message-sender: invalid configuration: TWILIO_CA_BUNDLE: .*ENOENT/,
    );
    expect(refusal({ TWILIO_CA_BUNDLE: dir })).toMatch(/TWILIO_CA_BUNDLE: .*EISDIR/);
    expect(refusal({ TWILIO_CA_BUNDLE: file("empty.pem", "") })).toMatch(/TWILIO_CA_BUNDLE: .* holds no PEM/);
    expect(refusal({ TWILIO_CA_BUNDLE: "" })).toMatch(/TWILIO_CA_BUNDLE/);
  });

  it("gives the Twilio channels HTTP_PROXY and TWILIO_CA_BUNDLE's certificates", () => {
    const bundle = file("ca.pem", PEM);
    const config = loadMessageSenderConfig({
      HTTP_PROXY: "http://proxy.example.org:3128",
      TWILIO_CA_BUNDLE: bundle,
    });
    expect(twilioTransport(config)).toEqual({ proxy: "http://proxy.example.org:3128", ca: PEM });
    expect(twilioTransport(loadMessageSenderConfig({}))).toEqual({ proxy: undefined, ca: undefined });
  });
});
