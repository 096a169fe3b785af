import { createHmac, timingSafeEqual } from "node:crypto";

/** What an unsubscribe link is about: an identity, a topic and the address type it was sent to. */
export interface UnsubscribeClaims {
  identity: string;
  topic: string;
  channel: string;
  /** Expiry, seconds since the epoch. */
  expires: number;
}

export type TokenCheck =
  | { ok: true; claims: UnsubscribeClaims }
  /** 400: malformed or expired; 403: the signature does not match (forged or altered). */
  | { ok: false; status: 400 | 403; reason: "malformed" | "expired" | "forged" };

const SIGNATURE_BYTES = 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const sign = (secret: string, payload: string) =>
  createHmac("sha256", secret).update(payload).digest().subarray(0, SIGNATURE_BYTES);

/**
 * An unsubscribe token: the claims (base64url JSON) and an HMAC-SHA256 of them (truncated to 128 bits), so
 * a link names who it unsubscribes from what only in a form nobody can alter or forge, and stops working
 * when it expires.
 */
export function signUnsubscribeToken(secret: string, claims: UnsubscribeClaims): string {
  const payload = Buffer.from(
    JSON.stringify([claims.identity, claims.topic, claims.channel, claims.expires]),
  ).toString("base64url");
  return `${payload}.${sign(secret, payload).toString("base64url")}`;
}

export function verifyUnsubscribeToken(secret: string, token: string, now = Date.now()): TokenCheck {
  const [payload, signature, ...rest] = token.split(".");
  if (!payload || !signature || rest.length > 0) {
    return { ok: false, status: 400, reason: "malformed" };
  }
  const given = Buffer.from(signature, "base64url");
  const expected = sign(secret, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, status: 403, reason: "forged" };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { ok: false, status: 400, reason: "malformed" };
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) {
    return { ok: false, status: 400, reason: "malformed" };
  }
  const [identity, topic, channel, expires] = parsed as unknown[];
  if (
    typeof identity !== "string" ||
    !UUID.test(identity) ||
    typeof topic !== "string" ||
    typeof channel !== "string" ||
    typeof expires !== "number"
  ) {
    return { ok: false, status: 400, reason: "malformed" };
  }
  if (expires * 1000 <= now) {
    return { ok: false, status: 400, reason: "expired" };
  }
  return { ok: true, claims: { identity, topic, channel, expires } };
}
