import { externalUrl, type LinkRequest } from "@tidings/service-kit";
import type { SignedRequest } from "../channels/webhooks.ts";

interface WebhookRequest extends LinkRequest {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/**
 * A Twilio webhook as its X-Twilio-Signature is checked (form-encoded: every parameter is a string), on the URL the
 * provider posted to as it saw it (PUBLIC_URL, or the scheme and host its proxy forwarded: see `externalUrl`).
 */
export function twilioSignedRequest(request: WebhookRequest): SignedRequest {
  const signature = request.headers["x-twilio-signature"];
  return {
    url: externalUrl(request, request.url),
    signature: typeof signature === "string" ? signature : undefined,
    params: request.body as Record<string, string>,
  };
}
