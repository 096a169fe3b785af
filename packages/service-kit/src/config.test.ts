import Type from "typebox";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig, trustedProxies } from "./config.ts";

const PORT = { PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3000 }) };

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("loadConfig", () => {
  it("applies the defaults to an empty environment", () => {
    expect(loadConfig("identity", PORT, {})).toEqual({
      HOST: "0.0.0.0",
      LOG_LEVEL: "info",
      AMQP_URL: "amqp://guest:guest@127.0.0.1:5672",
      AMQP_NAMESPACE: "",
      AMQP_PREFETCH: 100,
      PUBLIC_RATE_LIMIT: 600,
      PORT: 3000,
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/tidings_identity",
    });
  });

  it("coerces numbers and keeps the given values", () => {
    const config = loadConfig("identity", PORT, {
      PORT: "8080",
      AMQP_PREFETCH: "20",
      LOG_LEVEL: "debug",
      AMQP_URL: "amqps://u:p@broker.example.org:5671",
      AMQP_NAMESPACE: "t_1-a",
      ADMIN_TOKEN: "0123456789abcdef",
      PUBLIC_URL: "https://api.example.org",
    });
    expect(config).toMatchObject({
      PORT: 8080,
      AMQP_PREFETCH: 20,
      LOG_LEVEL: "debug",
      AMQP_URL: "amqps://u:p@broker.example.org:5671",
      AMQP_NAMESPACE: "t_1-a",
      ADMIN_TOKEN: "0123456789abcdef",
      PUBLIC_URL: "https://api.example.org",
    });
  });

  it("drops variables that are not part of the schema", () => {
    const config = loadConfig("identity", PORT, { UNRELATED: "x" });
    expect(config).not.toHaveProperty("UNRELATED");
    expect(config.ADMIN_TOKEN).toBeUndefined();
  });

  it("reads only the environment it is given, not process.env", () => {
    vi.stubEnv("PUBLIC_URL", "https://leaked.example.org");
    vi.stubEnv("AMQP_PREFETCH", "7");
    const config = loadConfig("identity", PORT, {});
    expect(config.PUBLIC_URL).toBeUndefined();
    expect(config.AMQP_PREFETCH).toBe(100);
  });

  it.each([
    ["AMQP_URL", "nope"],
    ["AMQP_PREFETCH", "abc"],
    ["AMQP_PREFETCH", "0"],
    ["AMQP_NAMESPACE", "Not Allowed"],
    ["LOG_LEVEL", "loud"],
    ["ADMIN_TOKEN", "short"],
    ["PUBLIC_URL", "api.example.org"],
    ["TRUST_PROXY", "10.0.0.1,proxy.example.org"],
    ["TRUST_PROXY", "10.0.0.0/33"],
    ["TRUST_PROXY", "10.0.0.0/8/8"],
    ["TRUST_PROXY", "true"],
    ["TRUST_PROXY", ""],
    ["PORT", "70000"],
    ["PUBLIC_RATE_LIMIT", "-1"],
  ])("rejects %s=%s with a ConfigError naming the variable and the service", (name, value) => {
    const err = configError(() => loadConfig("message-sender", PORT, { [name]: value }));
    expect(err.name).toBe("ConfigError");
    expect(err.message).toContain("message-sender");
    expect(err.message).toContain(name);
  });

  it("takes DATABASE_URL from <SERVICE>_DATABASE_URL", () => {
    const url = "postgresql://someone@db.example.org:6543/sender";
    const config = loadConfig("message-sender", PORT, {
      MESSAGE_SENDER_DATABASE_URL: url,
      IDENTITY_DATABASE_URL: "postgresql://other/identity",
    });
    expect(config.DATABASE_URL).toBe(url);
  });

  it("defaults DATABASE_URL to the service's local database", () => {
    expect(loadConfig("message-sender", PORT, {}).DATABASE_URL).toBe(
      "postgresql://postgres@127.0.0.1:5432/tidings_message_sender",
    );
  });

  it("takes PORT from <SERVICE>_PORT before PORT, so a shared environment can port every service", () => {
    expect(loadConfig("message-sender", PORT, { MESSAGE_SENDER_PORT: "4105", PORT: "4000" }).PORT).toBe(4105);
    expect(loadConfig("message-sender", PORT, { IDENTITY_PORT: "4101", PORT: "4000" }).PORT).toBe(4000);
    const err = configError(() => loadConfig("message-sender", PORT, { MESSAGE_SENDER_PORT: "x" }));
    expect(err.message).toContain("PORT");
  });

  it("reads TRUST_PROXY as the list of trusted proxies: addresses, CIDRs and proxy-addr's names", () => {
    const value = "10.0.0.2, 10.1.0.0/16,::1,fd00::/8,loopback";
    expect(loadConfig("identity", PORT, { TRUST_PROXY: value }).TRUST_PROXY).toBe(value);
    expect(trustedProxies(value)).toEqual(["10.0.0.2", "10.1.0.0/16", "::1", "fd00::/8", "loopback"]);
    expect(trustedProxies(undefined)).toBeUndefined();
  });
});
