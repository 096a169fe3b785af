import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { bodyTooLarge, externalUrl, type LinkRequest } from "@tidings/service-kit";
import type { SignedEvent } from "../channels/vonage-voice/webhooks.ts";
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

/** The bodies of signed requests as posted, by request, while they are handled. */
const rawBodies = new WeakMap<IncomingMessage, Buffer>();

/**
 * A preParsing hook that keeps the body as posted (for `vonageSignedEvent`) and hands the parser a copy. It runs
 * before fastify's own body limit, so it applies the route's `bodyLimit` itself: a larger `content-length` is
 * refused before anything is read, and a body that passes the limit as it arrives (chunked, or longer than it
 * said) as soon as it does (413 BODY_TOO_LARGE); the rest is never held.
 */
export async function keepRawBody(
  request: { raw: IncomingMessage; headers: IncomingHttpHeaders; routeOptions: { bodyLimit: number } },
  _reply: unknown,
  payload: Readable,
): Promise<Readable> {
  const limit = request.routeOptions.bodyLimit;
  if (Number(request.headers["content-length"] ?? 0) > limit) {
    throw bodyTooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Not destroyed on the way out: the connection must stay up for the 413.
  for await (const chunk of payload.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      throw bodyTooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  rawBodies.set(request.raw, body);
  return Readable.from([body]);
}

/**
 * A webhook of a Vonage application (call events, Messages API statuses and inbounds) as its signed JWT is checked:
 * its Authorization header and the body as posted (the route keeps it with `keepRawBody`).
 */
export function vonageSignedEvent<Body>(request: {
  raw: IncomingMessage;
  headers: { authorization?: string };
  body: Body;
}): SignedEvent<Body> {
  return {
    authorization: request.headers.authorization,
    rawBody: rawBodies.get(request.raw) ?? Buffer.alloc(0),
    body: request.body,
  };
}
