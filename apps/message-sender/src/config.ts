import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { HookConfig } from "@tidings/hooks";
import { ConfigError, loadConfig } from "@tidings/service-kit";
import Type from "typebox";
import type { TwilioTransport } from "./channels/twilio/http-client.ts";
import { parseKeywords } from "./inbound/keywords.ts";

export const loadMessageSenderConfig = (env: Record<string, string | undefined> = process.env) =>
  checked(
    loadConfig(
      "message-sender",
      {
        PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3005 }),
        /** Names this worker in `outbound.claimed_by` and the status history; unique per process. */
        WORKER_ID: Type.String({ minLength: 1, maxLength: 200, default: `${hostname()}-${process.pid}` }),
        /**
         * How long a worker may take to send a claimed outbound before another may claim it. Longer than any
         * channel's send timeout; shorter than the outbound-send retry window, or a message waiting for a crashed
         * worker's claim to lapse is dead-lettered first.
         */
        OUTBOUND_CLAIM_TTL_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
        /**
         * Comma-separated waits (ms) before each retry of an outbound.send that failed for a passing reason
         * (an identity not yet in the address book, a provider error). Unset: the queue's policy (1s, 5s, 30s,
         * 120s).
         */
        OUTBOUND_RETRY_DELAYS_MS: Type.Optional(Type.String({ pattern: "^\\d+(,\\d+)*$" })),
        /**
         * Development and demos: the log channel appends every message it "sends" (address and content
         * included) to this file as JSON lines. Unset in production: it holds personal data.
         */
        LOG_CHANNEL_FILE: Type.Optional(Type.String({ minLength: 1 })),
        /** Workers re-read the channel table this often: a channel change takes effect within this time. */
        CHANNEL_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 2_000 }),
        /**
         * Inbound keywords as JSON `{"stop": [...], "start": [...], "help": [...]}`, matched case-insensitively
         * against the whole message (any languages: list every language's words). Unset: English defaults.
         */
        INBOUND_KEYWORDS: Type.Optional(Type.String({ minLength: 2 })),
        /** The Twilio channels' https requests go through this proxy (CONNECT), as the twilio SDK's own client does. */
        HTTP_PROXY: Type.Optional(Type.String({ pattern: "^https?://[^\\s]+$" })),
        /** A PEM file of the CA certificates the Twilio channels trust (through HTTP_PROXY too). */
        TWILIO_CA_BUNDLE: Type.Optional(Type.String({ minLength: 1 })),
        /**
         * How far the signed `timestamp` of a Vonage webhook (delivery receipt, inbound SMS) may be from now, either
         * way: older (or later) ones are refused, so a captured webhook can't be replayed later.
         */
        VONAGE_SIGNATURE_MAX_SKEW_MS: Type.Integer({ minimum: 1_000, maximum: 86_400_000, default: 300_000 }),
        /** How often a worker asks providers about outbounds with no final status; 0 = never. */
        RECONCILE_INTERVAL_MS: Type.Integer({ minimum: 0, maximum: 86_400_000, default: 60_000 }),
        /** An outbound submitted this long ago with no final status is asked about (DHOS bulk_update). */
        RECONCILE_AFTER_MS: Type.Integer({ minimum: 0, maximum: 30 * 86_400_000, default: 15 * 60_000 }),
        /**
         * The redelivery policy of a channel that sets none of its own (each channel's `redelivery` overrides it): attempts
         * in all before a retried failed delivery is final (1 = never retried), ...
         */
        REDELIVERY_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
        /** ... the waits (seconds) before the 2nd, 3rd, ... attempt (the last repeats), ... */
        REDELIVERY_BACKOFF_SECONDS: Type.String({ pattern: "^\\d+(,\\d+)*$", default: "300,1800" }),
        /** ... and how long an outbound may stay submitted with no final report before it fails with `no_report`. */
        NO_REPORT_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 30 * 86_400, default: 172_800 }),
        /** The longest a worker holds a message for a paused (throttled) channel before handing it to a retry. */
        CHANNEL_PAUSE_MAX_WAIT_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 5_000 }),
        /**
         * The identity service's base URL (e.g. http://identity:3001): an outbound with only `to_addr`, and an
         * inbound from an unknown sender, get their identity found or created there. Unset: they stay unlinked.
         */
        IDENTITY_URL: Type.Optional(Type.String({ pattern: "^https?://" })),
        /** A token of the identity service for IDENTITY_URL (secret). */
        IDENTITY_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
        /** How often a worker looks for deferred outbounds now due, and queued ones past expires_at; 0 = never. */
        DUE_POLL_INTERVAL_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 1_000 }),
        /**
         * Messages a person (an identity) may be sent per day of their own time zone; the excess is deferred to the
         * next day's start (its sending window's opening). 0 = no cap. A channel's `daily_cap` overrides it;
         * `high` priority is exempt.
         */
        DAILY_CAP_PER_PERSON: Type.Integer({ minimum: 0, maximum: 10_000, default: 0 }),
        /** Unacknowledged high-priority outbound.send messages per worker (their lane's queue). */
        OUTBOUND_PREFETCH_HIGH: Type.Integer({ minimum: 1, maximum: 10_000, default: 20 }),
        /** Unacknowledged bulk outbound.send messages per worker; the normal lane uses AMQP_PREFETCH. */
        OUTBOUND_PREFETCH_BULK: Type.Integer({ minimum: 1, maximum: 10_000, default: 50 }),
        /**
         * outbound.send messages a worker claims and sends at once, across its lanes (the rest of its prefetch waits
         * unclaimed, high priority first): so a claim is taken only when its send can start.
         */
        OUTBOUND_SENDS_IN_FLIGHT: Type.Integer({ minimum: 1, maximum: 10_000, default: 16 }),
        /**
         * Where `POST /api/v1/archive-outbounds/` writes its gzipped NDJSON files (one per day). Unset: archiving
         * is refused (409). Workers need it too (the same volume): they purge forgotten people from the files.
         */
        ARCHIVE_DIR: Type.Optional(Type.String({ minLength: 1 })),
        /**
         * How often a worker with ARCHIVE_DIR (the API's archive volume, mounted) purges forgotten people from the
         * archive files; 0 = never.
         */
        ARCHIVE_PURGE_INTERVAL_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 10_000 }),
        ...HookConfig,
      },
      env,
    ),
  );

/**
 * What the schema cannot check, checked at start-up as well: INBOUND_KEYWORDS is a JSON object of keyword lists,
 * HTTP_PROXY a URL, TWILIO_CA_BUNDLE a readable file holding PEM certificates. Throws a ConfigError naming the
 * variable.
 */
function checked<C extends { INBOUND_KEYWORDS?: string; HTTP_PROXY?: string; TWILIO_CA_BUNDLE?: string }>(
  config: C,
): C {
  const check = (name: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      throw new ConfigError(`message-sender: invalid configuration: ${name}: ${(err as Error).message}`);
    }
  };
  check("INBOUND_KEYWORDS", () => parseKeywords(config.INBOUND_KEYWORDS));
  check("HTTP_PROXY", () => config.HTTP_PROXY && new URL(config.HTTP_PROXY));
  check("TWILIO_CA_BUNDLE", () => config.TWILIO_CA_BUNDLE && caBundle(config.TWILIO_CA_BUNDLE));
  return config;
}

/** A PEM file's certificates; throws when it cannot be read or holds none. */
function caBundle(file: string): string {
  const pem = readFileSync(file, "utf8");
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error(`${file} holds no PEM certificate`);
  }
  return pem;
}

export type MessageSenderConfig = ReturnType<typeof loadMessageSenderConfig>;

/** How the Twilio channels reach Twilio: HTTP_PROXY, and TWILIO_CA_BUNDLE's certificates (read again each time). */
export const twilioTransport = (config: MessageSenderConfig): TwilioTransport => ({
  proxy: config.HTTP_PROXY,
  ca: config.TWILIO_CA_BUNDLE ? caBundle(config.TWILIO_CA_BUNDLE) : undefined,
});

export const retryDelays = (config: MessageSenderConfig): number[] | undefined =>
  config.OUTBOUND_RETRY_DELAYS_MS?.split(",").map(Number);
