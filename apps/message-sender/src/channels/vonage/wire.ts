import Type, { type Static } from "typebox";
import { optionalOrigin, requestTimeoutMs } from "../wire-parts.ts";

// Vonage's wire formats: a channel's configuration, and the webhooks Vonage posts.

/**
 * Vonage's signature methods for signed webhooks (the account's "signature method" in its API settings): the MD5
 * hash of the signed string followed by the secret, or an HMAC of it keyed by the secret.
 */
export const VONAGE_SIGNATURE_METHODS = ["md5hash", "md5", "sha1", "sha256", "sha512"] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];

/** Vonage (Nexmo) SMS API. */
export const VonageChannelConfig = Type.Object(
  {
    api_key: Type.String({ minLength: 1, maxLength: 100 }),
    /** Secret. */
    api_secret: Type.String({ minLength: 1, maxLength: 200 }),
    from: Type.String({ minLength: 1, maxLength: 50 }),
    /**
     * Secret: verifies delivery receipts and inbound messages (`sig`, by `signature_method`). Vonage signs receipts only once signatures are
     * enabled on the account; receipts for a channel without it are refused.
     */
    signature_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /**
     * How Vonage signs this account's webhooks: `md5hash` (default), or an HMAC: `md5`, `sha1`, `sha256`,
     * `sha512`. Must match the account's setting.
     */
    signature_method: Type.Optional(Type.Union(VONAGE_SIGNATURE_METHODS.map((m) => Type.Literal(m)))),
    /**
     * The externally visible base URL of this service; delivery receipts go to
     * `<status_callback>/api/v1/events/vonage/<channel_id>`. Unset: no receipts are asked for.
     */
    status_callback: optionalOrigin,
    /** Another origin for the SMS API (a simulator). Default https://rest.nexmo.com. */
    rest_url: optionalOrigin,
    timeout_ms: requestTimeoutMs,
  },
  { additionalProperties: false },
);
export type VonageChannelConfig = Static<typeof VonageChannelConfig>;

/** A Vonage SMS delivery receipt (form-encoded); all fields are kept for the signature. */
export const VonageDeliveryReceipt = Type.Object({
  messageId: Type.String({ minLength: 1 }),
  status: Type.String({ minLength: 1 }),
  "err-code": Type.Optional(Type.String()),
  sig: Type.Optional(Type.String()),
});
export type VonageDeliveryReceipt = Static<typeof VonageDeliveryReceipt>;

/** Vonage's inbound SMS webhook (form-encoded or JSON); all fields are kept for the signature. */
export const VonageInboundWebhook = Type.Object({
  msisdn: Type.String({ minLength: 1 }),
  to: Type.String(),
  messageId: Type.String({ minLength: 1 }),
  text: Type.Optional(Type.String()),
  sig: Type.Optional(Type.String()),
});
export type VonageInboundWebhook = Static<typeof VonageInboundWebhook>;
