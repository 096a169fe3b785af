import { ConfigError } from "@tidings/service-kit";
import { describe, expect, it } from "vitest";
import { loadSubscriptionConfig } from "../config.ts";
import { topicChannels } from "./topics-config.ts";

describe("topics configuration", () => {
  it("fails start-up in production without UNSUBSCRIBE_SECRET, naming it", () => {
    expect(() => loadSubscriptionConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => loadSubscriptionConfig({ NODE_ENV: "production" })).toThrow(/UNSUBSCRIBE_SECRET/);
    expect(() => loadSubscriptionConfig({ NODE_ENV: "production", UNSUBSCRIBE_SECRET: "short" })).toThrow(
      /UNSUBSCRIBE_SECRET/,
    );
  });

  it("keeps a given secret, and makes a random one per process elsewhere", () => {
    const secret = "s".repeat(32);
    expect(
      loadSubscriptionConfig({ NODE_ENV: "production", UNSUBSCRIBE_SECRET: secret }).UNSUBSCRIBE_SECRET,
    ).toBe(secret);
    const a = loadSubscriptionConfig({}).UNSUBSCRIBE_SECRET;
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(loadSubscriptionConfig({}).UNSUBSCRIBE_SECRET).not.toBe(a);
  });

  it("reads TOPIC_CHANNELS as address type -> channel, refusing malformed values", () => {
    expect([
      ...topicChannels(loadSubscriptionConfig({ TOPIC_CHANNELS: "email=SMTP,msisdn=TW-1" }).TOPIC_CHANNELS),
    ]).toEqual([
      ["email", "SMTP"],
      ["msisdn", "TW-1"],
    ]);
    expect(() => loadSubscriptionConfig({ TOPIC_CHANNELS: "email" })).toThrow(/TOPIC_CHANNELS/);
  });
});
