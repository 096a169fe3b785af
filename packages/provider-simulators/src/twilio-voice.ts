import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { json, readText, startHttpServer } from "./http.ts";
import { scripted } from "./scripted.ts";
import {
  crashBody,
  E164,
  errorBody,
  postSigned,
  serveCollection,
  sid,
  type TwilioFailure,
} from "./twilio-rest.ts";
import { type CallOutcome, endCall, type VoiceSimulator } from "./voice.ts";

/** The outcomes of an answered call, and what it ends with. */
const ANSWERED: Partial<Record<CallOutcome, "completed" | "none">> = {
  completed: "completed",
  none: "none",
  "hung-up": "completed",
  "late-marker": "completed",
};

export interface SimulatedCall {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  /** The TwiML the call runs, as posted. */
  twiml: string;
  /** The URLs of its `<Play>` verbs, in order. */
  plays: string[];
  /** Its `<Redirect>` after them (the TwiML requested once they played), if any. */
  redirect: string | null;
  /** The answer to that request (HTTP status, -1 when unreachable), once made. */
  redirected?: number;
  statusCallback: string | null;
  /** The events the status callback asked for (`StatusCallbackEvent`; Twilio always sends the final one). */
  events: string[];
  /** The latest status (`queued` until the first callback). */
  status: string;
  /** The answer of each `plays` URL fetched while the call played (HTTP status, -1 when unreachable). */
  fetched: number[];
  /** When it was created (ms since the epoch). */
  createdAt: number;
}

/** Where each status callback event comes in a call's life, and the CallStatus it reports. */
const PROGRESS = [
  { event: "initiated", status: "initiated" },
  { event: "ringing", status: "ringing" },
  { event: "answered", status: "in-progress" },
] as const;

export interface TwilioVoiceSimulatorOptions {
  /** Accepted credentials: account SID -> auth token; others get 401 (20003). */
  accounts: Record<string, string>;
  /** Between one status callback and the next. Default 20. */
  callbackIntervalMs?: number;
  port?: number;
}

/** `end(callSid, status)` ends a call with a final CallStatus. */
export interface TwilioVoiceSimulator extends VoiceSimulator<SimulatedCall, Exclude<CallOutcome, "none">> {
  /** The callbacks sent: url, parameters, and the HTTP status the receiver answered. */
  callbacks: { url: string; params: Record<string, string>; responseStatus: number; at: number }[];
  /** The next `times` create requests fail with this error. */
  failNext(failure: TwilioFailure, times?: number): void;
}

const CALLS = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Calls(?:\/(CA[0-9a-f]{32}))?\.json$/;

/** The URLs of a TwiML document's `verb`s (`Play`, `Redirect`), in order. */
const urlsOf = (twiml: string, verb: string) =>
  [...twiml.matchAll(new RegExp(`<${verb}[^>]*>([^<]*)</${verb}>`, "g"))].map((m) =>
    (m[1] as string).replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">"),
  );

function callResource(c: SimulatedCall) {
  return {
    sid: c.sid,
    account_sid: c.accountSid,
    api_version: "2010-04-01",
    direction: "outbound-api",
    from: c.from,
    to: c.to,
    status: c.status,
    date_created: new Date(c.createdAt).toUTCString(),
    uri: `/2010-04-01/Accounts/${c.accountSid}/Calls/${c.sid}.json`,
  };
}

/**
 * A local Twilio Voice Calls API: `POST /2010-04-01/Accounts/{sid}/Calls.json` (form-encoded, basic auth, as
 * the twilio SDK's `calls.create` sends it, with `Twiml`), `GET .../Calls/{sid}.json` and `GET .../Calls.json` (the
 * calls, newest first, filtered by `To` and `From`, paged as Twilio's lists are). A created call reports
 * its progress to its StatusCallback (the events it asked for, then always the final one: `completed` with a
 * CallDuration, or `no-answer`, `busy`, `failed`, `canceled`), form-encoded and signed with X-Twilio-Signature.
 * An answered call fetches each `<Play>` URL, as Twilio does to play it, then requests its `<Redirect>` (POST,
 * the call's parameters, signed), unless the script has the person hang up first.
 */
export async function startTwilioVoiceSimulator(
  options: TwilioVoiceSimulatorOptions,
): Promise<TwilioVoiceSimulator> {
  const interval = options.callbackIntervalMs ?? 20;
  const calls: SimulatedCall[] = [];
  const callbacks: TwilioVoiceSimulator["callbacks"] = [];
  const { failures, scripts, script, failNext } = scripted<CallOutcome, TwilioFailure>();
  const pending = new Set<Promise<unknown>>();

  /** The parameters of a call's requests (status callbacks, TwiML), as Twilio sends them. */
  const callParams = (c: SimulatedCall, status: string): Record<string, string> => ({
    AccountSid: c.accountSid,
    ApiVersion: "2010-04-01",
    CallSid: c.sid,
    CallStatus: status,
    Called: c.to,
    Caller: c.from,
    Direction: "outbound-api",
    From: c.from,
    To: c.to,
  });

  async function callback(c: SimulatedCall, status: string, sequence: number): Promise<number> {
    c.status = status;
    if (!c.statusCallback) {
      return 0;
    }
    const params: Record<string, string> = {
      ...callParams(c, status),
      CallbackSource: "call-progress-events",
      SequenceNumber: String(sequence),
      Timestamp: new Date().toUTCString(),
      ...(status === "completed" ? { CallDuration: String(c.plays.length * 7), Duration: "1" } : {}),
    };
    const token = options.accounts[c.accountSid] as string;
    const responseStatus = await postSigned(c.statusCallback, token, params);
    callbacks.push({ url: c.statusCallback, params, responseStatus, at: Date.now() });
    return responseStatus;
  }

  async function play(c: SimulatedCall, upTo: number): Promise<void> {
    for (const url of c.plays.slice(0, upTo)) {
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        c.fetched.push(res.status);
      } catch {
        c.fetched.push(-1);
      }
    }
  }

  /** Requests the call's `<Redirect>` once its audio played, as Twilio requests TwiML. */
  async function redirect(c: SimulatedCall): Promise<void> {
    if (c.redirect) {
      const token = options.accounts[c.accountSid] as string;
      c.redirected = await postSigned(c.redirect, token, callParams(c, "in-progress"));
    }
  }

  async function lifecycle(c: SimulatedCall): Promise<void> {
    const scripted = scripts.get(c.to)?.shift() ?? "completed";
    const answered = ANSWERED[scripted] !== undefined;
    const outcome = ANSWERED[scripted] ?? scripted;
    let sequence = 0;
    // Before it ends, a call is initiated and rings; only an answered one is in progress.
    for (const step of PROGRESS.slice(0, answered ? 3 : outcome === "no-answer" ? 2 : 1)) {
      await sleep(interval);
      if (c.events.includes(step.event)) {
        await callback(c, step.status, sequence++);
      } else {
        c.status = step.status;
      }
    }
    if (answered) {
      await play(c, scripted === "hung-up" ? 1 : c.plays.length);
    }
    if (answered && scripted !== "hung-up" && scripted !== "late-marker") {
      await redirect(c);
    }
    if (outcome !== "none") {
      await sleep(interval);
      const ended = callback(c, outcome, sequence);
      if (scripted === "late-marker") {
        await sleep(interval);
        await redirect(c);
      }
      await ended;
    }
  }

  function track(p: Promise<unknown>): void {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  async function create(req: IncomingMessage, res: ServerResponse, accountSid: string): Promise<void> {
    const form = new URLSearchParams(await readText(req));
    const failure = failures.shift();
    if (failure) {
      return json(res, failure.status, errorBody(failure));
    }
    const to = form.get("To") ?? "";
    if (!E164.test(to)) {
      return json(
        res,
        400,
        errorBody({ status: 400, code: 21217, message: `Phone number ${to} is not valid.` }),
      );
    }
    const twiml = form.get("Twiml");
    if (!twiml && !form.get("Url")) {
      return json(res, 400, errorBody({ status: 400, code: 21205, message: "Url or Twiml is required." }));
    }
    const call: SimulatedCall = {
      sid: sid("CA"),
      accountSid,
      to,
      from: form.get("From") ?? "",
      twiml: twiml ?? "",
      plays: urlsOf(twiml ?? "", "Play"),
      redirect: urlsOf(twiml ?? "", "Redirect")[0] ?? null,
      statusCallback: form.get("StatusCallback"),
      events: form.getAll("StatusCallbackEvent").flatMap((e) => e.split(" ")),
      status: "queued",
      fetched: [],
      createdAt: Date.now(),
    };
    calls.push(call);
    track(lifecycle(call));
    json(res, 201, callResource(call));
  }

  const { server, url } = await startHttpServer(
    options.port,
    async (req, res) =>
      serveCollection(req, res, CALLS.exec((req.url ?? "").split("?")[0] as string), options.accounts, {
        items: calls,
        key: "calls",
        resource: callResource,
        create,
      }),
    crashBody,
  );

  return {
    url,
    calls,
    callbacks,
    script,
    failNext,
    end: endCall(
      calls,
      (c) => c.sid,
      (call, status) => callback(call, status, 99),
    ),
    async close() {
      await Promise.allSettled([...pending]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
