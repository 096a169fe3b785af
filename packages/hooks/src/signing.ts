import { createHmac, randomBytes } from "node:crypto";

/** Standard Webhooks secrets are `whsec_` and the base64 of the HMAC-SHA256 key. */
const SECRET_PREFIX = "whsec_";

/** A new hook secret: 32 random bytes, in the Standard Webhooks form. */
export const newSecret = () => `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;

/**
 * The `webhook-signature` header of Standard Webhooks (https://www.standardwebhooks.com): for each secret,
 * `v1,` and the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`, keyed with the secret's decoded bytes;
 * several are space-separated (a rotation's overlap signs with the new and the previous secret).
 */
export function signatureHeader(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
      return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
    })
    .join(" ");
}
