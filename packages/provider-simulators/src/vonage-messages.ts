import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { json, readText } from "./http.ts";
import { scripted } from "./scripted.ts";
import { postVonageSigned, startApplicationApi } from "./vonage-voice.ts";

// Vonage's Messages API for WhatsApp (https://developer.vonage.com/en/api/messages): `POST /v1/messages`, as
// `@vonage/server-sdk`'s `messages.send` sends it (JSON, authenticated by the application's RS256 JWT), answered 202
// with a `message_uuid`; then the message's status webhooks (JSON, signed as Vonage signs an application's webhooks)
// go to its `webhook_url` (or the application's status URL): `submitted`, then `delivered`, or `rejected` as
// WhatsApp refuses it: the number is not on WhatsApp (1300), a template not approved (1022), free text outside the
// person's 24-hour window (1340). Inbound messages (`sendInbound`) open that window.

/** A message as the simulator received it. */
export interface SimulatedVonageWhatsapp {
  uuid: string;
  applicationId: string;
  messageType: string;
  /** The numbers as posted (no +). */
  to: string;
  from: string;
  text: string | null;
  template: { name: string; parameters: string[] } | null;
  locale: string | null;
  clientRef: string | null;
  webhookUrl: string | null;
  status: string;
}

/** What becomes of a message: its final status (and error code), or `none`: no status after `submitted`. */
export type VonageMessageOutcome =
  | "delivered"
  | "read"
  | "none"
  | { status: "rejected" | "undeliverable"; code?: number };

/** The Messages API's error codes the simulator gives (https://developer.vonage.com/en/api-errors/messages). */
export const VONAGE_MESSAGES_ERRORS = {
  /** Invalid template or template parameters. */
  templateRejected: 1022,
  /** Not part of the provider network: the number has no WhatsApp account. */
  notOnWhatsapp: 1300,
  /** Outside of the allowed window: free text more than 24 hours after the person last wrote. */
  outsideWindow: 1340,
} as const;

export interface VonageMessagesSimulatorOptions {
  /** Accepted applications: application id -> its public key (PEM), that verifies the SDK's RS256 JWT. */
  applications: Record<string, string>;
  /** Signs the webhooks (an HS256 JWT in `Authorization: Bearer`), as the account's signature secret. */
  signatureSecret: string;
  /** The approved WhatsApp templates, by name: a template message naming another is rejected (1022). */
  templates?: string[];
  /** The application's status URL, for messages that name no `webhook_url`. */
  statusUrl?: string;
  /** Between one status webhook and the next. Default 20. */
  callbackIntervalMs?: number;
  port?: number;
}

export interface VonageMessagesSimulator {
  url: string;
  messages: SimulatedVonageWhatsapp[];
  /** The status webhooks posted: url, body, and the HTTP status the receiver answered. */
  statuses: { url: string; body: Record<string, unknown>; responseStatus: number }[];
  /** Numbers (E.164, with +) with no WhatsApp account: their messages are rejected (1300). */
  notOnWhatsapp: Set<string>;
  /** What becomes of the next messages to `to` (E.164, with +), in order; then as WhatsApp decides. */
  script(to: string, outcomes: VonageMessageOutcome[]): void;
  /** Posts a status webhook for a message now (a late receipt), signed; the receiver's HTTP status. */
  sendStatus(uuid: string, status: string, code?: number): Promise<number>;
  /**
   * Posts an inbound WhatsApp message to `url` as the Messages API does (signed with `signatureSecret`, the
   * simulator's by default; `from`, `to` E.164) and opens the sender's window; the receiver's HTTP status.
   */
  sendInbound(message: {
    url: string;
    from: string;
    to: string;
    text: string;
    replyTo?: string;
    signatureSecret?: string;
  }): Promise<{ status: number; uuid: string }>;
  close(): Promise<void>;
}

const WINDOW_MS = 24 * 3600_000;
const DIGITS = /^[1-9]\d{6,14}$/;

export async function startVonageMessagesSimulator(
  options: VonageMessagesSimulatorOptions,
): Promise<VonageMessagesSimulator> {
  const interval = options.callbackIntervalMs ?? 20;
  const approved = new Set(options.templates ?? []);
  const messages: SimulatedVonageWhatsapp[] = [];
  const statuses: VonageMessagesSimulator["statuses"] = [];
  const notOnWhatsapp = new Set<string>();
  const { scripts, script } = scripted<VonageMessageOutcome>();
  /** Number (no +) -> when it last wrote. */
  const lastInbound = new Map<string, number>();

  async function status(m: SimulatedVonageWhatsapp, value: string, code?: number): Promise<number> {
    m.status = value;
    const url = m.webhookUrl ?? options.statusUrl;
    if (!url) {
      return 0;
    }
    const body = {
      message_uuid: m.uuid,
      to: m.to,
      from: m.from,
      timestamp: new Date().toISOString(),
      status: value,
      channel: "whatsapp",
      ...(m.clientRef ? { client_ref: m.clientRef } : {}),
      ...(code
        ? {
            error: {
              type: `https://developer.vonage.com/api-errors/messages#${code}`,
              title: code,
              detail: `Message ${value}`,
            },
          }
        : {}),
    };
    const responseStatus = await postVonageSigned(url, options.signatureSecret, m.applicationId, body);
    statuses.push({ url, body, responseStatus });
    return responseStatus;
  }

  /** As WhatsApp decides a message no script decides. */
  function decided(m: SimulatedVonageWhatsapp): VonageMessageOutcome {
    if (notOnWhatsapp.has(`+${m.to}`)) {
      return { status: "rejected", code: VONAGE_MESSAGES_ERRORS.notOnWhatsapp };
    }
    if (m.template) {
      return approved.has(m.template.name)
        ? "delivered"
        : { status: "rejected", code: VONAGE_MESSAGES_ERRORS.templateRejected };
    }
    const wrote = lastInbound.get(m.to);
    return wrote !== undefined && Date.now() - wrote < WINDOW_MS
      ? "delivered"
      : { status: "rejected", code: VONAGE_MESSAGES_ERRORS.outsideWindow };
  }

  async function lifecycle(m: SimulatedVonageWhatsapp): Promise<void> {
    const outcome = scripts.get(`+${m.to}`)?.shift() ?? decided(m);
    await sleep(interval);
    await status(m, "submitted");
    if (outcome === "none") {
      return;
    }
    await sleep(interval);
    if (typeof outcome === "object") {
      await status(m, outcome.status, outcome.code);
      return;
    }
    await status(m, "delivered");
    if (outcome === "read") {
      await sleep(interval);
      await status(m, "read");
    }
  }

  async function create(req: IncomingMessage, res: ServerResponse, applicationId: string): Promise<void> {
    const body = JSON.parse(await readText(req)) as Record<string, unknown> & {
      template?: { name?: string; parameters?: string[] };
      whatsapp?: { locale?: string };
    };
    const type = body.message_type;
    const checks: Record<string, boolean> = {
      channel: body.channel === "whatsapp",
      to: typeof body.to === "string" && DIGITS.test(body.to),
      from: typeof body.from === "string" && DIGITS.test(body.from),
      message_type: type === "text" || type === "template",
      text: type !== "text" || (typeof body.text === "string" && body.text !== ""),
      template: type !== "template" || typeof body.template?.name === "string",
    };
    const invalid = Object.keys(checks).filter((name) => !checks[name]);
    if (invalid.length > 0) {
      return json(res, 422, {
        type: "https://developer.vonage.com/api-errors/messages#1020",
        title: "Invalid params",
        detail: "The value of one or more parameters is invalid.",
        invalid_parameters: invalid.map((name) => ({ name, reason: "Invalid" })),
      });
    }
    const message: SimulatedVonageWhatsapp = {
      uuid: randomUUID(),
      applicationId,
      messageType: type as string,
      to: body.to as string,
      from: body.from as string,
      text: type === "text" ? (body.text as string) : null,
      template:
        type === "template"
          ? { name: body.template?.name as string, parameters: body.template?.parameters ?? [] }
          : null,
      locale: body.whatsapp?.locale ?? null,
      clientRef: typeof body.client_ref === "string" ? body.client_ref : null,
      webhookUrl: typeof body.webhook_url === "string" ? body.webhook_url : null,
      status: "accepted",
    };
    messages.push(message);
    api.track(lifecycle(message));
    json(res, 202, { message_uuid: message.uuid });
  }

  const api = await startApplicationApi(
    options.applications,
    options.port,
    async (req, res, path, applicationId) =>
      req.method === "POST" && path === "/v1/messages"
        ? create(req, res, applicationId)
        : json(res, 404, { type: "https://developer.vonage.com/api-errors#not-found", title: "Not Found" }),
  );

  return {
    url: api.url,
    messages,
    statuses,
    notOnWhatsapp,
    script,
    async sendStatus(uuid, value, code) {
      const found = messages.find((m) => m.uuid === uuid);
      if (!found) {
        throw new Error(`no message ${uuid}`);
      }
      return status(found, value, code);
    },
    async sendInbound({ url: to, from, to: number, text, replyTo, signatureSecret }) {
      const sender = from.replace(/^\+/, "");
      lastInbound.set(sender, Date.now());
      const uuid = randomUUID();
      const applicationId = Object.keys(options.applications)[0] ?? "";
      const body = {
        channel: "whatsapp",
        message_uuid: uuid,
        to: number.replace(/^\+/, ""),
        from: sender,
        timestamp: new Date().toISOString(),
        message_type: "text",
        text,
        ...(replyTo ? { context: { message_uuid: replyTo } } : {}),
        profile: { name: "Simulated" },
      };
      const status = await postVonageSigned(
        to,
        signatureSecret ?? options.signatureSecret,
        applicationId,
        body,
      );
      return { status, uuid };
    },
    close: () => api.close(),
  };
}
