import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { json, readText, startHttpServer } from "./http.ts";
import { scripted } from "./scripted.ts";
import {
  authenticatedAccount,
  crashBody,
  E164,
  errorBody,
  MESSAGES,
  messageResource,
  postSigned,
  type SimulatedTwilioMessage,
  serveCollection,
  sid,
  TWILIO_ERRORS,
  type TwilioFailure,
  type TwilioFinalStatus,
  type TwilioOutcome,
} from "./twilio-rest.ts";
import { type TwilioWhatsappOptions, WhatsappState } from "./twilio-whatsapp.ts";

export interface TwilioSimulatorOptions {
  /** Accepted credentials: account SID -> auth token. Requests with others get 401 (code 20003). */
  accounts: Record<string, string>;
  /** Added to every REST reply. Default 0. */
  latencyMs?: number;
  /**
   * Between accepting a message (it is in `messages`) and answering the create request: the window in which a
   * sender that dies has had its message accepted without knowing. Default 0.
   */
  answerDelayMs?: number;
  /**
   * Between receiving a create request and accepting the message: a provider slow to accept, whose sender may
   * time out and give up on a message that is accepted afterwards all the same. Default 0.
   */
  acceptDelayMs?: number;
  /** Between one status callback and the next. Default 20. */
  callbackIntervalMs?: number;
  /** The final status of an accepted message. Default: delivered. */
  finalStatus?: (message: SimulatedTwilioMessage) => TwilioFinalStatus;
  /**
   * Send every status callback (sent, then the final one) before answering the create request: the delivery
   * report overtakes the submit confirmation. Default false.
   */
  callbacksBeforeResponse?: boolean;
  /** Accept messages (201) but leave the `sid` out of the answer, as a misbehaving provider or proxy might. */
  omitMessageId?: boolean;
  /** The WhatsApp sender and Content API (see twilio-whatsapp.ts). */
  whatsapp?: TwilioWhatsappOptions;
  port?: number;
}

export interface TwilioSimulator {
  /** The origin to point the SDK at, e.g. http://127.0.0.1:4010. */
  url: string;
  /** Every message accepted, in order. */
  messages: SimulatedTwilioMessage[];
  /** Every create request received, accepted or not (To and Body included). */
  requests: Record<string, string>[];
  /** When each of `requests` arrived (ms since the epoch), same order. */
  requestTimes: number[];
  /** The WhatsApp sender's state: its templates (add more), numbers with no WhatsApp, customer-service windows. */
  whatsapp: WhatsappState;
  /** The SID of every status lookup (`GET .../Messages/{sid}.json`), in order. */
  lookups: string[];
  /** The next `times` create requests fail with this error instead of being accepted. */
  failNext(failure: TwilioFailure, times?: number): void;
  /**
   * What happens to the next messages accepted for `to`, one outcome each, in order (then `finalStatus` again):
   * e.g. `script(to, [{status: "undelivered", errorCode: 30003}, {status: "delivered"}])`.
   */
  script(to: string, outcomes: TwilioOutcome[]): void;
  /** Changes options while running (latency, final status, callback order). */
  configure(options: Partial<Omit<TwilioSimulatorOptions, "accounts" | "port">>): void;
  /** Sends one more status callback for a message (a replay, or a late report), signed as Twilio would. */
  sendStatus(sid: string, status: string, errorCode?: number): Promise<number>;
  /**
   * Posts an incoming message to a messaging webhook as Twilio does (form-encoded, signed with the account's
   * auth token). Resolves to the HTTP status the receiver answered and the message SID.
   */
  sendInbound(message: {
    url: string;
    accountSid: string;
    from: string;
    to: string;
    body: string;
    messageSid?: string;
  }): Promise<{ status: number; sid: string }>;
  /** The callbacks sent: url, parameters, and the HTTP status the receiver answered. */
  callbacks: { url: string; params: Record<string, string>; responseStatus: number }[];
  close(): Promise<void>;
}

/**
 * A local Twilio Programmable Messaging API: `POST /2010-04-01/Accounts/{sid}/Messages.json` (form-encoded,
 * basic auth, as the twilio SDK sends it) answers Twilio's JSON shape and error codes (21211 for an invalid
 * To, 20003 for bad credentials, or whatever `failNext` injects); `GET .../Messages/{sid}.json` reads a
 * message and `GET .../Messages.json` lists them (filtered by To and From, newest first, paged). An accepted message with a StatusCallback gets `sent` and then its final status posted there,
 * form-encoded and signed with X-Twilio-Signature.
 */
export async function startTwilioSimulator(options: TwilioSimulatorOptions): Promise<TwilioSimulator> {
  let settings = {
    latencyMs: 0,
    answerDelayMs: 0,
    acceptDelayMs: 0,
    callbackIntervalMs: 20,
    callbacksBeforeResponse: false,
    ...options,
  };
  const messages: SimulatedTwilioMessage[] = [];
  const requests: Record<string, string>[] = [];
  const requestTimes: number[] = [];
  const lookups: string[] = [];
  const callbacks: TwilioSimulator["callbacks"] = [];
  const { failures, scripts, script, failNext } = scripted<TwilioOutcome, TwilioFailure>();
  const pending = new Set<Promise<unknown>>();
  const whatsapp = new WhatsappState(options.whatsapp);

  async function callback(m: SimulatedTwilioMessage, status: string, errorCode?: number): Promise<number> {
    m.status = status;
    if (!m.statusCallback) {
      return 0;
    }
    const params: Record<string, string> = {
      AccountSid: m.accountSid,
      ApiVersion: "2010-04-01",
      From: m.from ?? "",
      MessageSid: m.sid,
      MessageStatus: status,
      SmsSid: m.sid,
      SmsStatus: status,
      To: m.to,
      ...(errorCode === undefined ? {} : { ErrorCode: String(errorCode) }),
      ...(m.messagingServiceSid ? { MessagingServiceSid: m.messagingServiceSid } : {}),
    };
    const token = settings.accounts[m.accountSid] as string;
    const responseStatus = await postSigned(m.statusCallback, token, params);
    callbacks.push({ url: m.statusCallback, params, responseStatus });
    return responseStatus;
  }

  async function lifecycle(m: SimulatedTwilioMessage): Promise<void> {
    const outcome = scripts.get(m.to)?.shift() ?? whatsapp.outcome(m);
    await sleep(settings.callbackIntervalMs);
    await callback(m, "sent");
    if (outcome === "none") {
      return;
    }
    await sleep(settings.callbackIntervalMs);
    if (outcome) {
      m.errorCode = outcome.errorCode ?? null;
      await callback(m, outcome.status, outcome.errorCode);
      return;
    }
    const final = settings.finalStatus?.(m) ?? "delivered";
    await callback(m, final, final === "delivered" ? undefined : 30003);
  }

  function track(p: Promise<unknown>): void {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  async function create(req: IncomingMessage, res: ServerResponse, accountSid: string): Promise<void> {
    const form = Object.fromEntries(new URLSearchParams(await readText(req)));
    requests.push(form);
    requestTimes.push(Date.now());
    await sleep(settings.acceptDelayMs);
    const failure = failures.shift();
    if (failure) {
      return json(res, failure.status, errorBody(failure));
    }
    const to = form.To ?? "";
    const wa = to.startsWith("whatsapp:") ? whatsapp.accept(form) : undefined;
    if (wa && "code" in wa) {
      return json(res, wa.status, errorBody(wa));
    }
    if (!wa && !E164.test(to)) {
      return json(res, 400, errorBody(TWILIO_ERRORS.invalidTo(to)));
    }
    if (!wa && !form.Body) {
      return json(res, 400, errorBody({ status: 400, code: 21602, message: "Message body is required." }));
    }
    if (!form.From && !form.MessagingServiceSid) {
      return json(
        res,
        400,
        errorBody({ status: 400, code: 21603, message: "A 'From' or 'MessagingServiceSid' is required." }),
      );
    }
    const m: SimulatedTwilioMessage = {
      sid: sid("SM"),
      accountSid,
      to,
      from: form.From ?? null,
      messagingServiceSid: form.MessagingServiceSid ?? null,
      body: wa?.body ?? (form.Body as string),
      contentSid: wa?.contentSid ?? null,
      statusCallback: form.StatusCallback ?? null,
      status: "queued",
      createdAt: new Date(),
    };
    messages.push(m);
    const resource = messageResource(m);
    if (settings.callbacksBeforeResponse) {
      await lifecycle(m);
    } else {
      track(lifecycle(m));
    }
    await sleep(settings.answerDelayMs);
    json(res, 201, settings.omitMessageId ? { ...resource, sid: null } : resource);
  }

  const { server, url } = await startHttpServer(
    options.port,
    async (req, res) => {
      await sleep(settings.latencyMs);
      const path = (req.url ?? "").split("?")[0] as string;
      const match = MESSAGES.exec(path);
      // The Content API (WhatsApp templates) is on the same origin here.
      const account = match ? undefined : authenticatedAccount(req.headers.authorization, settings.accounts);
      if (account && whatsapp.route(req.method, path, account, res)) {
        return;
      }
      return serveCollection(req, res, match, settings.accounts, {
        items: messages,
        key: "messages",
        resource: messageResource,
        create,
        fetched: (messageSid: string) => lookups.push(messageSid),
      });
    },
    crashBody,
  );

  return {
    url,
    messages,
    requests,
    requestTimes,
    whatsapp,
    lookups,
    callbacks,
    failNext,
    script,
    configure(changes) {
      settings = { ...settings, ...changes };
    },
    async sendInbound({ url, accountSid, from, to, body, messageSid }) {
      const token = settings.accounts[accountSid];
      if (token === undefined) {
        throw new Error(`no account ${accountSid}`);
      }
      const inboundSid = messageSid ?? sid("SM");
      whatsapp.noteInbound(from);
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: "2010-04-01",
        Body: body,
        From: from,
        MessageSid: inboundSid,
        NumMedia: "0",
        NumSegments: "1",
        SmsMessageSid: inboundSid,
        SmsSid: inboundSid,
        SmsStatus: "received",
        To: to,
      };
      return { status: await postSigned(url, token, params), sid: inboundSid };
    },
    async sendStatus(messageSid, status, errorCode) {
      const m = messages.find((x) => x.sid === messageSid);
      if (!m) {
        throw new Error(`no message ${messageSid}`);
      }
      return callback(m, status, errorCode);
    },
    async close() {
      await Promise.allSettled([...pending]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
