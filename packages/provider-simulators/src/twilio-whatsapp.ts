import type { ServerResponse } from "node:http";
import { json } from "./http.ts";
import {
  E164,
  errorBody,
  type SimulatedTwilioMessage,
  sid,
  type TwilioFailure,
  type TwilioOutcome,
} from "./twilio-rest.ts";

// Twilio's WhatsApp sender on the Programmable Messaging API (`whatsapp:+…` addresses), and the Content API
// (content.twilio.com/v1/Content) its template messages name by ContentSid. As Twilio does, a free-form message
// is accepted (201) and then fails by status callback when it was sent outside the recipient's 24-hour
// customer-service window (63016), as does any message to a number with no WhatsApp account (63003) and a
// template Meta has not approved (63005).

/**
 * A content template on the Content API: its name, its body with {{1}}-style placeholders, Meta's verdict and its
 * language.
 */
export interface SimulatedContentTemplate {
  friendlyName: string;
  body: string;
  /** Approved for WhatsApp by Meta. Default true; false: its messages fail with 63005. */
  approved?: boolean;
  /** Its language, as the Content API lists it. Default `en`. */
  language?: string;
}

export interface TwilioWhatsappOptions {
  /** The Content API's templates (ContentSid HX… is given to each, in order). */
  templates?: SimulatedContentTemplate[];
  /** Numbers (E.164) with no WhatsApp account: their messages fail with 63003. */
  notOnWhatsapp?: string[];
}

/** Twilio's WhatsApp error codes (https://www.twilio.com/docs/api/errors). */
export const WHATSAPP_ERRORS = {
  /** "Channel could not find To address": the number has no WhatsApp account. */
  notOnWhatsapp: 63003,
  /** "Channel did not accept the content": a template not approved (or rejected) by Meta. */
  templateRejected: 63005,
  /** "Failed to send freeform message because you are outside the allowed window". */
  outsideWindow: 63016,
} as const;

const WINDOW_MS = 24 * 3600_000;
const CONTENT_PATH = /^\/v1\/Content\/?$/;

/** The simulator's WhatsApp state: the templates, who has no WhatsApp, and when each person last wrote. */
export class WhatsappState {
  readonly templates = new Map<string, Required<SimulatedContentTemplate>>();
  readonly notOnWhatsapp: Set<string>;
  /** WhatsApp address (`whatsapp:+…`) -> when its last inbound message was posted. */
  readonly lastInbound = new Map<string, number>();

  constructor(options: TwilioWhatsappOptions = {}) {
    this.notOnWhatsapp = new Set(options.notOnWhatsapp ?? []);
    for (const t of options.templates ?? []) {
      this.addTemplate(t);
    }
  }

  /** Adds a template to the Content API; returns its ContentSid. */
  addTemplate(template: SimulatedContentTemplate): string {
    const contentSid = sid("HX");
    this.templates.set(contentSid, { approved: true, language: "en", ...template });
    return contentSid;
  }

  /** Someone wrote from `from` (a `whatsapp:` address opens their 24-hour window). */
  noteInbound(from: string): void {
    if (from.startsWith("whatsapp:")) {
      this.lastInbound.set(from, Date.now());
    }
  }

  /**
   * A create request with a `whatsapp:` To: its body (a template's, rendered from ContentVariables), or the
   * refusal Twilio answers at once (a bad address, an unknown ContentSid, neither Body nor ContentSid).
   */
  accept(form: Record<string, string>): { body: string; contentSid: string | null } | TwilioFailure {
    const to = (form.To ?? "").replace(/^whatsapp:/, "");
    if (!E164.test(to) || (form.From !== undefined && !form.From.startsWith("whatsapp:"))) {
      return {
        status: 400,
        code: 63007,
        message: "Twilio could not find a Channel with the specified From address",
      };
    }
    if (form.ContentSid) {
      const template = this.templates.get(form.ContentSid);
      if (!template) {
        return { status: 400, code: 21656, message: "The ContentSid is Invalid." };
      }
      const variables = JSON.parse(form.ContentVariables || "{}") as Record<string, string>;
      const body = template.body.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, key: string) => variables[key] ?? "");
      return { body, contentSid: form.ContentSid };
    }
    if (!form.Body) {
      return { status: 400, code: 21602, message: "Message body is required." };
    }
    return { body: form.Body, contentSid: null };
  }

  /** What becomes of an accepted WhatsApp message that no script decides: Twilio's asynchronous refusals. */
  outcome(m: SimulatedTwilioMessage): TwilioOutcome | undefined {
    if (!m.to.startsWith("whatsapp:")) {
      return undefined;
    }
    if (this.notOnWhatsapp.has(m.to.replace(/^whatsapp:/, ""))) {
      return { status: "failed", errorCode: WHATSAPP_ERRORS.notOnWhatsapp };
    }
    if (m.contentSid) {
      return this.templates.get(m.contentSid)?.approved
        ? undefined
        : { status: "failed", errorCode: WHATSAPP_ERRORS.templateRejected };
    }
    const wrote = this.lastInbound.get(m.to);
    return wrote !== undefined && Date.now() - wrote < WINDOW_MS
      ? undefined
      : { status: "failed", errorCode: WHATSAPP_ERRORS.outsideWindow };
  }

  /** Answers the Content API's list (`GET /v1/Content`), one page; false for any other path. */
  route(method: string | undefined, path: string, accountSid: string, res: ServerResponse): boolean {
    if (!CONTENT_PATH.test(path)) {
      return false;
    }
    if (method !== "GET") {
      json(res, 405, errorBody({ status: 405, code: 20004, message: "Method not allowed" }));
      return true;
    }
    const contents = [...this.templates].map(([contentSid, t]) => ({
      sid: contentSid,
      account_sid: accountSid,
      friendly_name: t.friendlyName,
      language: t.language,
      variables: {},
      types: { "twilio/text": { body: t.body } },
      url: `https://content.twilio.com/v1/Content/${contentSid}`,
    }));
    const url = "https://content.twilio.com/v1/Content?PageSize=50&Page=0";
    json(res, 200, {
      contents,
      meta: {
        page: 0,
        page_size: 50,
        first_page_url: url,
        previous_page_url: null,
        url,
        next_page_url: null,
        key: "contents",
      },
    });
    return true;
  }
}
