import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import twilio from "twilio";
import { json, postWebhook } from "./http.ts";

// Twilio's REST wire format: its errors, its message resource and its list envelope.

/** A Twilio error as the REST API answers it. */
export interface TwilioFailure {
  /** HTTP status: 400 (rejected), 401, 429 (throttled), 500/503 (outage). */
  status: number;
  /** Twilio's error code, e.g. 21211 (invalid To), 21610 (unsubscribed recipient), 20429 (throttled). */
  code: number;
  message: string;
}

/** What finally happens to an accepted message, as its status callbacks report. */
export type TwilioFinalStatus = "delivered" | "failed" | "undelivered";

/**
 * What happens to one scripted message (`script`): its final status with Twilio's error code (e.g.
 * `{status: "undelivered", errorCode: 30003}`), or `"none"`: no final status ever (it stays `sent`).
 */
export type TwilioOutcome = { status: TwilioFinalStatus; errorCode?: number } | "none";

export interface SimulatedTwilioMessage {
  sid: string;
  accountSid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  /** A WhatsApp template message's ContentSid (its body is the template rendered), else null. */
  contentSid?: string | null;
  statusCallback: string | null;
  /** The latest status, as the last callback reported it ("queued" until then). */
  status: string;
  /** A scripted failure's error code, as the message resource shows it (null otherwise). */
  errorCode?: number | null;
  createdAt: Date;
}

export const E164 = /^\+[1-9]\d{6,14}$/;

export const TWILIO_ERRORS = {
  invalidTo: (to: string): TwilioFailure => ({
    status: 400,
    code: 21211,
    message: `The 'To' number ${to} is not a valid phone number.`,
  }),
  throttled: (): TwilioFailure => ({ status: 429, code: 20429, message: "Too Many Requests" }),
  serverError: (): TwilioFailure => ({ status: 500, code: 20500, message: "Internal Server Error" }),
  unsubscribed: (): TwilioFailure => ({
    status: 400,
    code: 21610,
    message: "Attempt to send to unsubscribed recipient",
  }),
};

export const sid = (prefix: string) => `${prefix}${randomBytes(16).toString("hex")}`;

export function errorBody(failure: TwilioFailure) {
  return {
    code: failure.code,
    message: failure.message,
    more_info: `https://www.twilio.com/docs/errors/${failure.code}`,
    status: failure.status,
  };
}

export function messageResource(m: SimulatedTwilioMessage) {
  const date = m.createdAt.toUTCString();
  return {
    account_sid: m.accountSid,
    api_version: "2010-04-01",
    body: m.body,
    date_created: date,
    date_sent: null,
    date_updated: date,
    direction: "outbound-api",
    error_code: m.errorCode ?? null,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: "0",
    num_segments: "1",
    price: null,
    price_unit: "USD",
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}/Media.json` },
    to: m.to,
    uri: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}.json`,
  };
}

export const MESSAGES =
  /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages(?:\/(SM[0-9a-f]{32}))?\.json$/;

/**
 * A Twilio list (`GET .../Messages.json`, `.../Calls.json`): the account's `items` (as they were created) newest
 * first, filtered by `To` and `From`, in pages of `PageSize` (default 50, at most 1,000) numbered by `Page`, in
 * Twilio's list envelope under `key` (`messages`, `calls`).
 */
export function listPage<T extends { accountSid: string; to: string; from: string | null }>(
  items: T[],
  accountSid: string,
  url: URL,
  key: string,
  resource: (item: T) => unknown,
) {
  const query = url.searchParams;
  const to = query.get("To");
  const from = query.get("From");
  const pageSize = Math.min(Math.max(Number(query.get("PageSize")) || 50, 1), 1_000);
  const page = Math.max(Number(query.get("Page")) || 0, 0);
  const matching = items
    .filter((m) => m.accountSid === accountSid && (!to || m.to === to) && (!from || m.from === from))
    .reverse();
  const pageUri = (n: number) => {
    const params = new URLSearchParams(query);
    params.set("PageSize", String(pageSize));
    params.set("Page", String(n));
    return `${url.pathname}?${params}`;
  };
  const start = page * pageSize;
  const found = matching.slice(start, start + pageSize);
  return {
    [key]: found.map(resource),
    page,
    page_size: pageSize,
    start,
    end: start + Math.max(found.length - 1, 0),
    uri: pageUri(page),
    first_page_uri: pageUri(0),
    previous_page_uri: page > 0 ? pageUri(page - 1) : null,
    next_page_uri: start + pageSize < matching.length ? pageUri(page + 1) : null,
  };
}

/** The account SID a request's basic auth names, if its auth token is that account's in `accounts`. */
export function authenticatedAccount(
  authorization: string | undefined,
  accounts: Record<string, string>,
): string | undefined {
  const [user, pass] = Buffer.from((authorization ?? "").replace(/^Basic /, ""), "base64")
    .toString("utf8")
    .split(":");
  return user && accounts[user] !== undefined && accounts[user] === pass ? user : undefined;
}

/** Whether a request's basic auth is `accountSid` with its auth token in `accounts` (else answer 401, 20003). */
export const authenticated = (
  authorization: string | undefined,
  accounts: Record<string, string>,
  accountSid: string,
): boolean => authenticatedAccount(authorization, accounts) === accountSid;

export const NOT_FOUND: TwilioFailure = {
  status: 404,
  code: 20404,
  message: "The requested resource was not found",
};
export const UNAUTHENTICATED: TwilioFailure = { status: 401, code: 20003, message: "Authenticate" };

/** What a Twilio simulator answers when handling a request threw `err` (500, 20500). */
export const crashBody = (err: unknown) => errorBody({ status: 500, code: 20500, message: String(err) });

/** An account's REST collection (`.../Messages.json`, `.../Calls.json`) as `serveCollection` answers it. */
export interface TwilioCollection<
  T extends { sid: string; accountSid: string; to: string; from: string | null },
> {
  items: T[];
  /** The list envelope's key: `messages`, `calls`. */
  key: string;
  resource: (item: T) => unknown;
  create: (req: IncomingMessage, res: ServerResponse, accountSid: string) => Promise<void>;
  /** Told of every GET of one item, found or not. */
  fetched?: (sid: string) => void;
}

/**
 * A request to an account's collection (`match`: its path matched, the account SID then the item's SID if any):
 * 401 unless the basic auth is that account's; POST to the collection creates, GET lists a page of it, GET of one
 * of the account's items fetches it; anything else is 404.
 */
export function serveCollection<
  T extends { sid: string; accountSid: string; to: string; from: string | null },
>(
  req: IncomingMessage,
  res: ServerResponse,
  match: RegExpExecArray | null,
  accounts: Record<string, string>,
  collection: TwilioCollection<T>,
) {
  if (!match) {
    return json(res, 404, errorBody(NOT_FOUND));
  }
  const accountSid = match[1] as string;
  const itemSid = match[2];
  if (!authenticated(req.headers.authorization, accounts, accountSid)) {
    return json(res, 401, errorBody(UNAUTHENTICATED));
  }
  if (req.method === "POST" && !itemSid) {
    return collection.create(req, res, accountSid);
  }
  if (req.method === "GET" && !itemSid) {
    const url = new URL(req.url ?? "", "http://localhost");
    return json(res, 200, listPage(collection.items, accountSid, url, collection.key, collection.resource));
  }
  if (req.method === "GET") {
    collection.fetched?.(itemSid as string);
  }
  const found = collection.items.find((c) => c.sid === itemSid && c.accountSid === accountSid);
  return found && req.method === "GET"
    ? json(res, 200, collection.resource(found))
    : json(res, 404, errorBody(NOT_FOUND));
}

/**
 * Posts a webhook as Twilio does: form-encoded, signed with X-Twilio-Signature by the account's auth token. The
 * HTTP status the receiver answered, -1 when it could not be reached.
 */
export async function postSigned(
  url: string,
  token: string,
  params: Record<string, string>,
): Promise<number> {
  try {
    return await postWebhook(
      url,
      {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilio.getExpectedTwilioSignature(token, url, params),
      },
      new URLSearchParams(params).toString(),
    );
  } catch {
    return -1;
  }
}
