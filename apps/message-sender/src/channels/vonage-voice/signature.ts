import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { VonageSignatureCheck } from "../vonage/signature.ts";

/**
 * Vonage's signed webhooks of the Voice API: `Authorization: Bearer <JWT>`, HS256 signed with the account's
 * signature secret, whose `payload_hash` is the SHA-256 (hex) of the body as posted and `iat` when it was signed
 * (https://developer.vonage.com/en/getting-started/concepts/webhooks#validating-signed-webhooks). Checked in
 * constant time; `iat` must be within `maxSkewMs` of now (a captured event can't be replayed later).
 */
export function checkVonageJwt(
  authorization: string | undefined,
  rawBody: Buffer,
  secret: string,
  maxSkewMs: number,
  now = Date.now(),
): VonageSignatureCheck {
  const [header, claims, signature, ...rest] = (authorization ?? "").replace(/^Bearer\s+/i, "").split(".");
  if (!header || !claims || !signature || rest.length > 0) {
    return "invalid";
  }
  const expected = createHmac("sha256", secret).update(`${header}.${claims}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return "invalid";
  }
  let parsed: { alg?: unknown; iat?: unknown; payload_hash?: unknown };
  try {
    parsed = {
      ...JSON.parse(Buffer.from(header, "base64url").toString("utf8")),
      ...JSON.parse(Buffer.from(claims, "base64url").toString("utf8")),
    };
  } catch {
    return "invalid";
  }
  const hash = createHash("sha256").update(rawBody).digest("hex");
  if (parsed.alg !== "HS256" || parsed.payload_hash !== hash) {
    return "invalid";
  }
  const signedAt = Number(parsed.iat) * 1000;
  return Number.isFinite(signedAt) && Math.abs(now - signedAt) <= maxSkewMs ? "valid" : "stale";
}
