import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { VonageSignatureMethod } from "./wire.ts";

/**
 * Vonage's signed webhooks (delivery receipts, inbound SMS), checked without the SDK (which compares signatures
 * with `===` and ignores the timestamp). What is signed: every parameter but `sig`, sorted by name, as
 * `&name=value` with any `&` or `=` in a value replaced by `_`; `md5hash` is the MD5 of that string followed by
 * the secret, the other methods an HMAC of it keyed by the secret (Vonage's "Signing messages" guide, and the
 * SDK's `SMS.verifySignature`). The signed `timestamp` (Unix seconds) must be within `maxSkewMs` of now, so a
 * captured webhook can't be replayed later.
 */
export type VonageSignatureCheck = "valid" | "invalid" | "stale";

function signedText(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((name) => name !== "sig")
    .sort()
    .map((name) => `&${name}=${String(params[name]).replace(/[&=]/g, "_")}`)
    .join("");
}

function digest(text: string, secret: string, method: VonageSignatureMethod): Buffer {
  return method === "md5hash"
    ? createHash("md5")
        .update(text + secret)
        .digest()
    : createHmac(method, secret).update(text).digest();
}

export function checkVonageSignature(
  params: Record<string, string>,
  secret: string,
  method: VonageSignatureMethod,
  maxSkewMs: number,
  now = Date.now(),
): VonageSignatureCheck {
  const { sig } = params;
  if (!sig || !/^[0-9a-fA-F]+$/.test(sig)) {
    return "invalid";
  }
  const expected = digest(signedText(params), secret, method);
  const given = Buffer.from(sig, "hex");
  // Equal lengths first: timingSafeEqual throws on buffers of different lengths (a length says nothing secret).
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return "invalid";
  }
  const signedAt = Number(params.timestamp) * 1000;
  return Number.isFinite(signedAt) && Math.abs(now - signedAt) <= maxSkewMs ? "valid" : "stale";
}
