import type { SignedRequest } from "../channels/webhooks.ts";

interface WebhookRequest {
  protocol: string;
  host: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/**
 * The URL the provider posted to, as it saw it: PUBLIC_URL + the path when set, else the request's scheme and
 * host as the proxy forwarded them (X-Forwarded-Proto / X-Forwarded-Host; the app trusts its proxy).
 */
export function externalUrl(
  request: { protocol: string; host: string; url: string },
  publicUrl?: string,
): string {
  const base = publicUrl ?? `${request.protocol}://${request.host}`;
  return `${base.replace(/\/+$/, "")}${request.url}`;
}

/** A Twilio webhook as its X-Twilio-Signature is checked (form-encoded: every parameter is a string). */
export function twilioSignedRequest(request: WebhookRequest, publicUrl?: string): SignedRequest {
  const signature = request.headers["x-twilio-signature"];
  return {
    url: externalUrl(request, publicUrl),
    signature: typeof signature === "string" ? signature : undefined,
    params: request.body as Record<string, string>,
  };
}
