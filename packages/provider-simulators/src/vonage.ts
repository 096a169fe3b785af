import { createHash, createHmac, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { smsSegments } from "@tidings/contracts";
import { json, postWebhook, readText, startHttpServer } from "./http.ts";
import { scripted } from "./scripted.ts";

/** A Vonage SMS API error: HTTP 200 with a non-zero message status, as the real API answers. */
export interface VonageFailure {
  /** "1" throttled, "2" missing parameters, "3" invalid parameters, "5" internal error, "6" invalid message... */
  status: string;
  errorText: string;
}

export type VonageFinalStatus = "delivered" | "failed" | "rejected" | "expired";

/**
 * What happens to one scripted message (`script`): its final receipt with Vonage's DLR `err-code` (e.g.
 * `{status: "failed", errCode: "2"}`), or `"none"`: no final receipt ever (only `accepted`). Every part of a long
 * message gets it (a `partOutcome` of a part wins over it).
 */
export type VonageOutcome = { status: VonageFinalStatus; errCode?: string } | "none";

/** One part of a message as Vonage sends it: a long text is split (153 GSM-7 septets or 67 UCS-2 units per part). */
export interface SimulatedVonagePart {
  messageId: string;
  text: string;
  /** The latest receipt status sent for it. */
  status: string;
  /** Refused in the answer (`refusePart`): no message id is given for it and no receipt follows. */
  refused?: VonageFailure;
}

export interface SimulatedVonageMessage {
  /** The first part's message id. */
  messageId: string;
  /** Every part, in order (one for a text that fits one SMS), each with its own message id and receipts. */
  parts: SimulatedVonagePart[];
  apiKey: string;
  to: string;
  from: string;
  text: string;
  clientRef: string | null;
  callback: string | null;
  status: string;
  createdAt: Date;
}

/** Vonage's signature methods: the MD5 hash of the signed string and the secret, or an HMAC keyed by the secret. */
export type VonageSignatureMethod = "md5hash" | "md5" | "sha1" | "sha256" | "sha512";

export interface VonageSimulatorOptions {
  /** Accepted credentials: API key -> API secret. */
  accounts: Record<string, string>;
  /** Signs delivery receipts and inbound messages with `sig` (see vonageSignature). */
  signatureSecret?: string;
  /** How they are signed, as the account's "signature method" setting. Default md5hash. */
  signatureMethod?: VonageSignatureMethod;
  /**
   * Added to the time the simulator stamps on what it signs (`timestamp`): a negative offset sends webhooks that
   * look signed that long ago (a replay). Default 0.
   */
  clockOffsetMs?: number;
  latencyMs?: number;
  /**
   * Between receiving a send request and accepting the message: a provider slow to accept, whose sender may
   * time out and give up on a message that is accepted afterwards all the same. Default 0.
   */
  acceptDelayMs?: number;
  callbackIntervalMs?: number;
  finalStatus?: (message: SimulatedVonageMessage) => VonageFinalStatus;
  /**
   * A part's own final receipt (part: 1-based): its status (default `finalStatus`'s), its err-code, and how much
   * later than the others it is sent. Default: none.
   */
  partOutcome?: (
    message: SimulatedVonageMessage,
    part: number,
  ) => { status?: VonageFinalStatus; errCode?: string; delayMs?: number } | undefined;
  /**
   * Between accepting a message (its receipts start) and answering the request: receipts that overtake the
   * answer. Default 0.
   */
  answerDelayMs?: number;
  /** Refuses this part (1-based) of a long message while accepting the others (a partial failure). */
  refusePart?: { part: number; failure: VonageFailure };
  /** Accept messages (status 0) but leave `message-id` out of the answer, as a misbehaving provider might. */
  omitMessageId?: boolean;
  port?: number;
}

export interface VonageSimulator {
  /** The REST origin to give the SDK as `restHost`. */
  url: string;
  messages: SimulatedVonageMessage[];
  requests: Record<string, string>[];
  callbacks: { url: string; params: Record<string, string>; responseStatus: number }[];
  failNext(failure: VonageFailure, times?: number): void;
  /**
   * What happens to the next messages accepted for `to` (with or without its +), one outcome each, in order (then
   * `finalStatus` again): e.g. `script(to, [{status: "failed", errCode: "2"}, {status: "delivered"}])`.
   */
  script(to: string, outcomes: VonageOutcome[]): void;
  configure(options: Partial<Omit<VonageSimulatorOptions, "accounts" | "port">>): void;
  /** Posts an inbound SMS to a webhook as Vonage does (form-encoded, signed when a secret is set). */
  sendInbound(message: {
    url: string;
    from: string;
    to: string;
    text: string;
    messageId?: string;
  }): Promise<{ status: number; messageId: string }>;
  /** Sends one more delivery receipt for a part (any part's message id; a replay or a late report). */
  sendReceipt(messageId: string, status: string, errCode?: string): Promise<number>;
  close(): Promise<void>;
}

export const VONAGE_ERRORS = {
  throttled: (): VonageFailure => ({
    status: "1",
    errorText: "Throughput Rate Exceeded - please wait [ 100 ] and retry",
  }),
  invalidTo: (): VonageFailure => ({ status: "3", errorText: "Invalid to address" }),
  internal: (): VonageFailure => ({ status: "5", errorText: "Internal Error" }),
  barred: (): VonageFailure => ({ status: "7", errorText: "Number barred" }),
};

/**
 * Vonage's signature of a set of parameters (the `sig` parameter itself excluded): over the parameters sorted by
 * name as `&name=value` (with `&` and `=` in values replaced by `_`), `md5hash` is the MD5 of that string and the
 * secret, the other methods an HMAC of it keyed by the secret. Hex, lower case.
 */
export function vonageSignature(
  params: Record<string, string>,
  secret: string,
  method: VonageSignatureMethod = "md5hash",
): string {
  let query = "";
  for (const key of Object.keys(params).sort()) {
    if (key !== "sig") {
      query += `&${key}=${String(params[key]).replace(/[&=]/g, "_")}`;
    }
  }
  if (method === "md5hash") {
    return createHash("md5")
      .update(query + secret)
      .digest("hex");
  }
  return createHmac(method, secret).update(query).digest("hex");
}

async function readBody(req: IncomingMessage): Promise<Record<string, string>> {
  const text = await readText(req);
  if ((req.headers["content-type"] ?? "").includes("application/json")) {
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  }
  return Object.fromEntries(new URLSearchParams(text));
}

const NUMBER = /^\+?[1-9]\d{6,14}$/;

/**
 * A local Vonage SMS API: `POST /sms/json` (JSON or form; basic auth or api_key/api_secret), answering the
 * real shape (`{"message-count", messages: [{status, "message-id", ...}]}`, one entry per part of a long text,
 * errors as non-zero statuses with HTTP 200), and posting delivery receipts per part (form-encoded, signed with
 * `sig` when a signature secret is set) to the message's `callback` URL.
 */
export async function startVonageSimulator(options: VonageSimulatorOptions): Promise<VonageSimulator> {
  let settings = { latencyMs: 0, acceptDelayMs: 0, answerDelayMs: 0, callbackIntervalMs: 20, ...options };
  const messages: SimulatedVonageMessage[] = [];
  const requests: Record<string, string>[] = [];
  const callbacks: VonageSimulator["callbacks"] = [];
  const { failures, scripts, script, failNext } = scripted<VonageOutcome, VonageFailure>((to) =>
    to.replace(/^\+/, ""),
  );
  const pending = new Set<Promise<unknown>>();

  async function receipt(
    m: SimulatedVonageMessage,
    part: SimulatedVonagePart,
    status: string,
    errCode = "0",
  ): Promise<number> {
    if (!m.callback) {
      return 0;
    }
    const now = new Date(Date.now() + (settings.clockOffsetMs ?? 0));
    const params: Record<string, string> = {
      msisdn: m.to.replace(/^\+/, ""),
      to: m.from,
      "network-code": "65501",
      messageId: part.messageId,
      price: "0.03330000",
      status,
      scts: now.toISOString().slice(2, 16).replace(/[-T:]/g, ""),
      "err-code": errCode,
      "api-key": m.apiKey,
      "message-timestamp": now.toISOString().slice(0, 19).replace("T", " "),
      timestamp: String(Math.floor(now.getTime() / 1000)),
      nonce: randomBytes(8).toString("hex"),
      ...(m.clientRef ? { "client-ref": m.clientRef } : {}),
    };
    if (settings.signatureSecret) {
      params.sig = vonageSignature(params, settings.signatureSecret, settings.signatureMethod);
    }
    part.status = status;
    m.status = status;
    let responseStatus = -1;
    try {
      responseStatus = await postWebhook(
        m.callback,
        { "content-type": "application/x-www-form-urlencoded" },
        new URLSearchParams(params).toString(),
      );
    } catch {
      // unreachable receiver
    }
    callbacks.push({ url: m.callback, params, responseStatus });
    return responseStatus;
  }

  /** Each part's receipts (accepted, then final), the parts' at the same time unless one is delayed. */
  async function lifecycle(m: SimulatedVonageMessage): Promise<void> {
    const outcome = scripts.get(m.to.replace(/^\+/, ""))?.shift();
    await Promise.all(
      m.parts.map(async (part, i) => {
        if (part.refused) {
          return;
        }
        await sleep(settings.callbackIntervalMs);
        await receipt(m, part, "accepted");
        const own = settings.partOutcome?.(m, i + 1);
        if (!own && outcome === "none") {
          return;
        }
        const planned = outcome === "none" ? undefined : outcome;
        await sleep(settings.callbackIntervalMs + (own?.delayMs ?? 0));
        const final = own?.status ?? planned?.status ?? settings.finalStatus?.(m) ?? "delivered";
        await receipt(
          m,
          part,
          final,
          own?.errCode ?? planned?.errCode ?? (final === "delivered" ? "0" : "1"),
        );
      }),
    );
  }

  async function send(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readBody(req);
    requests.push(form);
    await sleep(settings.acceptDelayMs);
    const [user, pass] = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64")
      .toString("utf8")
      .split(":");
    const apiKey = form.api_key ?? user ?? "";
    const secret = form.api_secret ?? pass;
    const answer = (failure: VonageFailure, to = form.to ?? "") =>
      json(res, 200, {
        "message-count": "1",
        messages: [{ to, status: failure.status, "error-text": failure.errorText }],
      });
    if (settings.accounts[apiKey] === undefined || settings.accounts[apiKey] !== secret) {
      return answer({ status: "4", errorText: "Bad Credentials" });
    }
    const failure = failures.shift();
    if (failure) {
      return answer(failure);
    }
    if (!form.to || !form.from || !form.text) {
      return answer({ status: "2", errorText: "Missing to, from or text" });
    }
    if (!NUMBER.test(form.to)) {
      return answer(VONAGE_ERRORS.invalidTo());
    }
    const parts: SimulatedVonagePart[] = smsSegments(form.text).map((text, i) => ({
      messageId: randomBytes(8).toString("hex").toUpperCase(),
      text,
      status: "submitted",
      ...(settings.refusePart?.part === i + 1 ? { refused: settings.refusePart.failure } : {}),
    }));
    const m: SimulatedVonageMessage = {
      messageId: parts[0]?.messageId ?? "",
      parts,
      apiKey,
      to: form.to,
      from: form.from,
      text: form.text,
      clientRef: form["client-ref"] ?? null,
      callback: form.callback ?? null,
      status: "submitted",
      createdAt: new Date(),
    };
    messages.push(m);
    const p = lifecycle(m);
    pending.add(p);
    void p.finally(() => pending.delete(p));
    await sleep(settings.answerDelayMs);
    json(res, 200, {
      "message-count": String(parts.length),
      messages: parts.map((part) =>
        part.refused
          ? { to: m.to.replace(/^\+/, ""), status: part.refused.status, "error-text": part.refused.errorText }
          : {
              to: m.to.replace(/^\+/, ""),
              ...(settings.omitMessageId ? {} : { "message-id": part.messageId }),
              status: "0",
              "remaining-balance": "10.00000000",
              "message-price": "0.03330000",
              network: "65501",
              ...(m.clientRef ? { "client-ref": m.clientRef } : {}),
            },
      ),
    });
  }

  const { server, url } = await startHttpServer(
    options.port,
    async (req, res) => {
      await sleep(settings.latencyMs);
      if (req.method === "POST" && (req.url ?? "").split("?")[0] === "/sms/json") {
        return send(req, res);
      }
      return json(res, 404, { error: "not found" });
    },
    (err) => ({ error: String(err) }),
  );
  return {
    url,
    messages,
    requests,
    callbacks,
    failNext,
    script,
    configure(changes) {
      settings = { ...settings, ...changes };
    },
    async sendInbound({ url, from, to, text, messageId }) {
      const id = messageId ?? randomBytes(8).toString("hex").toUpperCase();
      const now = new Date(Date.now() + (settings.clockOffsetMs ?? 0));
      const params: Record<string, string> = {
        msisdn: from.replace(/^\+/, ""),
        to,
        messageId: id,
        text,
        type: "text",
        keyword: (text.trim().split(/\s+/)[0] ?? "").toUpperCase(),
        "message-timestamp": now.toISOString().slice(0, 19).replace("T", " "),
        timestamp: String(Math.floor(now.getTime() / 1000)),
        nonce: randomBytes(8).toString("hex"),
      };
      if (settings.signatureSecret) {
        params.sig = vonageSignature(params, settings.signatureSecret, settings.signatureMethod);
      }
      const status = await postWebhook(
        url,
        { "content-type": "application/x-www-form-urlencoded" },
        new URLSearchParams(params).toString(),
      );
      return { status, messageId: id };
    },
    async sendReceipt(messageId, status, errCode) {
      const m = messages.find((x) => x.parts.some((part) => part.messageId === messageId));
      const part = m?.parts.find((x) => x.messageId === messageId);
      if (!m || !part) {
        throw new Error(`no message ${messageId}`);
      }
      return receipt(m, part, status, errCode);
    },
    async close() {
      await Promise.allSettled([...pending]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
