import { createHash, createHmac, createVerify, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { json, postWebhook, readText, startHttpServer } from "./http.ts";
import { scripted } from "./scripted.ts";
import { type CallOutcome, endCall, type VoiceSimulator } from "./voice.ts";

/** A call as the Vonage Voice API simulator received it (`POST /v1/calls`). */
export interface SimulatedVonageCall {
  uuid: string;
  applicationId: string;
  to: string;
  from: string;
  /** The NCCO as posted. */
  ncco: { action: string; streamUrl?: string[]; payload?: Record<string, string>; eventUrl?: string[] }[];
  /** The stream URLs of its `stream` actions, in order. */
  streams: string[];
  /** Its `notify` after them (posted once they streamed), if any. */
  notify: { payload: Record<string, string>; url: string } | null;
  /** The answer to that notify (HTTP status, -1 when unreachable), once posted. */
  notified?: number;
  eventUrl: string | null;
  status: string;
  createdAt: number;
}

export interface VonageVoiceSimulatorOptions {
  /** Accepted applications: application id -> its public key (PEM), that verifies the SDK's RS256 JWT. */
  applications: Record<string, string>;
  /** Signs event webhooks (an HS256 JWT in `Authorization: Bearer`), as the account's signature secret. */
  signatureSecret: string;
  /** Between one event and the next. Default 20. */
  eventIntervalMs?: number;
  port?: number;
}

/** `script`'s numbers are E.164, with +; `end(uuid, status)` ends a call with a Vonage status (`completed`, `timeout`, ...). */
export interface VonageVoiceSimulator extends VoiceSimulator<SimulatedVonageCall, string> {
  /** The events posted: url, body, and the HTTP status the receiver answered. */
  events: { url: string; body: Record<string, string>; responseStatus: number; at: number }[];
}

/** The Vonage call statuses each outcome goes through (https://developer.vonage.com/en/voice/voice-api/guides/call-flow). */
const STATUSES: Record<CallOutcome, string[]> = {
  completed: ["started", "ringing", "answered", "completed"],
  "no-answer": ["started", "ringing", "timeout"],
  busy: ["started", "busy"],
  failed: ["failed"],
  canceled: ["started", "cancelled"],
  none: ["started", "ringing", "answered"],
  "hung-up": ["started", "ringing", "answered", "completed"],
  "late-marker": ["started", "ringing", "answered", "completed"],
};

/** The first `notify` action of an NCCO: its payload and where it posts. */
function notifyOf(ncco: SimulatedVonageCall["ncco"]): SimulatedVonageCall["notify"] {
  const action = ncco.find((a) => a.action === "notify");
  const url = action?.eventUrl?.[0];
  return url ? { payload: action.payload ?? {}, url } : null;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * A webhook's JWT as Vonage signs it (HS256 with the signature secret): `iat`, `jti`, `iss`, and `payload_hash`,
 * the SHA-256 (hex) of the body posted.
 */
export function vonageWebhookJwt(
  secret: string,
  body: string,
  applicationId: string,
  iat = Date.now(),
): string {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const claims = b64url(
    JSON.stringify({
      iat: Math.floor(iat / 1000),
      jti: randomUUID(),
      iss: "Vonage",
      payload_hash: createHash("sha256").update(body).digest("hex"),
      application_id: applicationId,
    }),
  );
  const signature = createHmac("sha256", secret).update(`${header}.${claims}`).digest("base64url");
  return `${header}.${claims}.${signature}`;
}

/**
 * Posts `body` (JSON) to `url` signed as Vonage signs an application's webhooks (vonageWebhookJwt); the HTTP status
 * the receiver answered, -1 when it could not be reached.
 */
export async function postVonageSigned(
  url: string,
  secret: string,
  applicationId: string,
  body: object,
): Promise<number> {
  const text = JSON.stringify(body);
  try {
    return await postWebhook(
      url,
      {
        "content-type": "application/json",
        authorization: `Bearer ${vonageWebhookJwt(secret, text, applicationId)}`,
      },
      text,
    );
  } catch {
    return -1;
  }
}

/** The application id of a request's RS256 JWT (as the SDK makes it from the private key), if it verifies. */
function authorisedApplication(authorization: string | undefined, keys: Record<string, string>) {
  const [header, claims, signature] = (authorization ?? "").replace(/^Bearer /, "").split(".");
  if (!header || !claims || !signature) {
    return undefined;
  }
  const { application_id: id } = JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as {
    application_id?: string;
  };
  const key = id && keys[id];
  const verified =
    key &&
    createVerify("RSA-SHA256").update(`${header}.${claims}`).verify(key, Buffer.from(signature, "base64url"));
  return verified ? id : undefined;
}

/** A local API of a Vonage application: its URL, `track` (a running lifecycle `close` waits for), `close`. */
export interface ApplicationApi {
  url: string;
  track(running: Promise<unknown>): void;
  close(): Promise<void>;
}

/**
 * Starts a local Vonage application API: each request authenticated by the application's RS256 JWT (401
 * otherwise), then handed to `route` with its path and application id.
 */
export async function startApplicationApi(
  applications: Record<string, string>,
  port: number | undefined,
  route: (req: IncomingMessage, res: ServerResponse, path: string, applicationId: string) => Promise<void>,
): Promise<ApplicationApi> {
  const pending = new Set<Promise<unknown>>();
  const { server, url } = await startHttpServer(
    port,
    async (req, res) => {
      const applicationId = authorisedApplication(req.headers.authorization, applications);
      if (!applicationId) {
        return json(res, 401, { type: "UNAUTHORIZED", title: "Invalid Token" });
      }
      return route(req, res, (req.url ?? "").split("?")[0] as string, applicationId);
    },
    (err) => ({ type: "INTERNAL_ERROR", title: String(err) }),
  );
  return {
    url,
    track(running) {
      pending.add(running);
      void running.finally(() => pending.delete(running));
    },
    async close() {
      await Promise.allSettled([...pending]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const callResource = (c: SimulatedVonageCall) => ({
  uuid: c.uuid,
  status: c.status,
  direction: "outbound",
  conversation_uuid: `CON-${c.uuid}`,
  to: { type: "phone", number: c.to.replace(/^\+/, "") },
  from: { type: "phone", number: c.from },
  start_time: new Date(c.createdAt).toISOString(),
});

/**
 * `GET /v1/calls`: the application's calls started at or after `date_start`, newest first (`order=asc`: oldest
 * first), in pages of `page_size` (default 10, at most 100) from `record_index`, in Vonage's HAL envelope.
 */
function callsPage(calls: SimulatedVonageCall[], applicationId: string, url: URL) {
  const query = url.searchParams;
  const since = query.get("date_start") ? Date.parse(query.get("date_start") as string) : 0;
  const pageSize = Math.min(Math.max(Number(query.get("page_size")) || 10, 1), 100);
  const from = Math.max(Number(query.get("record_index")) || 0, 0);
  const matching = calls.filter((c) => c.applicationId === applicationId && c.createdAt >= since);
  const ordered = query.get("order") === "asc" ? matching : [...matching].reverse();
  const page = ordered.slice(from, from + pageSize);
  const href = (index: number) => {
    const params = new URLSearchParams(query);
    params.set("record_index", String(index));
    return `${url.origin}${url.pathname}?${params}`;
  };
  return {
    count: matching.length,
    page_size: pageSize,
    record_index: from,
    _links: {
      self: { href: href(from) },
      ...(from + pageSize < matching.length ? { next: { href: href(from + pageSize) } } : {}),
    },
    _embedded: { calls: page.map(callResource) },
  };
}

/**
 * A local Vonage Voice API: `POST /v1/calls` (JSON, authenticated by the application's RS256 JWT, as
 * `@vonage/server-sdk`'s `voice.createOutboundCall` sends it) with an NCCO, `GET /v1/calls/{uuid}` and `GET /v1/calls`
 * (the calls since `date_start`, newest first, paged: `voice.getCallsPage`). A call posts
 * its events (JSON, signed as Vonage signs webhooks) to its `event_url`: started, ringing, answered, completed, or
 * its end unanswered (`timeout`, `busy`, `failed`, `cancelled`). An answered call fetches each `stream` URL, then
 * posts its `notify` (its payload, the call's uuid; signed), unless the script has the person hang up first.
 */
export async function startVonageVoiceSimulator(
  options: VonageVoiceSimulatorOptions,
): Promise<VonageVoiceSimulator> {
  const interval = options.eventIntervalMs ?? 20;
  const calls: SimulatedVonageCall[] = [];
  const events: VonageVoiceSimulator["events"] = [];
  const { scripts, script } = scripted<CallOutcome>();

  async function event(c: SimulatedVonageCall, status: string): Promise<number> {
    c.status = status;
    if (!c.eventUrl) {
      return 0;
    }
    const body = {
      from: c.from,
      to: c.to.replace(/^\+/, ""),
      uuid: c.uuid,
      conversation_uuid: `CON-${c.uuid}`,
      status,
      direction: "outbound",
      timestamp: new Date().toISOString(),
    };
    const responseStatus = await postVonageSigned(c.eventUrl, options.signatureSecret, c.applicationId, body);
    events.push({ url: c.eventUrl, body, responseStatus, at: Date.now() });
    return responseStatus;
  }

  /** Posts the call's `notify` once its streams played, signed as its events are. */
  async function notify(c: SimulatedVonageCall): Promise<void> {
    if (c.notify) {
      const body = { ...c.notify.payload, uuid: c.uuid, conversation_uuid: `CON-${c.uuid}` };
      c.notified = await postVonageSigned(c.notify.url, options.signatureSecret, c.applicationId, body);
    }
  }

  async function lifecycle(c: SimulatedVonageCall): Promise<void> {
    const scripted = scripts.get(c.to)?.shift() ?? "completed";
    for (const status of STATUSES[scripted]) {
      await sleep(interval);
      const sent = event(c, status);
      if (status === "completed" && scripted === "late-marker") {
        await sleep(interval);
        await notify(c);
      }
      await sent;
      if (status === "answered") {
        for (const url of c.streams.slice(0, scripted === "hung-up" ? 1 : c.streams.length)) {
          await fetch(url)
            .then((res) => res.arrayBuffer())
            .catch(() => undefined);
        }
        if (scripted === "completed" || scripted === "none") {
          await notify(c);
        }
      }
    }
  }

  async function create(req: IncomingMessage, res: ServerResponse, applicationId: string): Promise<void> {
    const body = JSON.parse(await readText(req)) as {
      to?: { type: string; number: string }[];
      from?: { number: string };
      ncco?: SimulatedVonageCall["ncco"];
      event_url?: string[];
    };
    const to = body.to?.[0]?.number ?? "";
    if (!/^[1-9]\d{6,14}$/.test(to) || !body.ncco?.length) {
      return json(res, 400, {
        type: "BAD_REQUEST",
        title: "Bad Request",
        invalid_parameters: ["to", "ncco"],
      });
    }
    const call: SimulatedVonageCall = {
      uuid: randomUUID(),
      applicationId,
      to: `+${to}`,
      from: body.from?.number ?? "",
      ncco: body.ncco,
      streams: body.ncco.flatMap((a) => (a.action === "stream" ? (a.streamUrl ?? []) : [])),
      notify: notifyOf(body.ncco),
      eventUrl: body.event_url?.[0] ?? null,
      status: "started",
      createdAt: Date.now(),
    };
    calls.push(call);
    api.track(lifecycle(call));
    json(res, 201, callResource(call));
  }

  const api = await startApplicationApi(
    options.applications,
    options.port,
    async (req, res, path, applicationId) => {
      if (req.method === "POST" && path === "/v1/calls") {
        return create(req, res, applicationId);
      }
      if (req.method === "GET" && path === "/v1/calls") {
        return json(
          res,
          200,
          callsPage(calls, applicationId, new URL(req.url ?? "", `http://${req.headers.host}`)),
        );
      }
      const found = calls.find((c) => path === `/v1/calls/${c.uuid}` && c.applicationId === applicationId);
      return found && req.method === "GET"
        ? json(res, 200, callResource(found))
        : json(res, 404, { type: "NOT_FOUND", title: "Not Found" });
    },
  );

  return {
    url: api.url,
    calls,
    events,
    script,
    end: endCall(calls, (c) => c.uuid, event),
    close: () => api.close(),
  };
}
