import nodemailer, { type Transporter } from "nodemailer";
import {
  type Channel,
  type OutboundToSend,
  PermanentSendError,
  type SendResult,
} from "../../outbound/channel.ts";
import type { SmtpChannelConfig } from "./wire.ts";

const text = (value: unknown) => (typeof value === "string" ? value : undefined);

/**
 * The header fields `metadata.headers` may add: list headers (List-Unsubscribe), `X-` fields and threading and
 * auto-reply fields. Never one that names people (To, Cc, Bcc, From, Reply-To, Sender, Resent-*: nodemailer would
 * send to Cc and Bcc, past the consent check and a team key's allow list, which see only `to_addr`) nor one that
 * changes the message's structure (Content-Type, MIME-Version, Message-ID).
 */
const EXTRA_HEADER =
  /^(List-[A-Za-z0-9-]{1,59}|X-[A-Za-z0-9-]{1,62}|In-Reply-To|References|Precedence|Auto-Submitted)$/i;

/** `metadata.headers`: extra header lines (e.g. List-Unsubscribe), each a single-line text value. */
function extraHeaders(value: unknown): Record<string, string> | undefined {
  if (!value || typeof value !== "object") {
    return undefined;
  }
  const headers = Object.entries(value).filter(
    (entry): entry is [string, string] =>
      EXTRA_HEADER.test(entry[0]) && typeof entry[1] === "string" && !/[\r\n]/.test(entry[1]),
  );
  return headers.length > 0 ? Object.fromEntries(headers) : undefined;
}

/**
 * Email over SMTP with a pooled nodemailer transport. The outbound's `content` is the text body;
 * `metadata.subject` and `metadata.html` give the subject and an HTML body, `metadata.headers` extra
 * header lines (topic messages carry RFC 8058's List-Unsubscribe and List-Unsubscribe-Post). The receiving server accepting
 * the message counts as delivered (bounces are not processed). A 5xx SMTP answer is a definite rejection
 * (PermanentSendError with the SMTP code); 4xx answers, authentication failures and connection errors are
 * retried.
 */
export class SmtpChannel implements Channel {
  private readonly transport: Transporter;

  constructor(private readonly config: SmtpChannelConfig) {
    this.transport = nodemailer.createTransport({
      pool: true,
      host: config.host,
      port: config.port,
      secure: config.secure ?? false,
      maxConnections: config.max_connections ?? 5,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
      ...(config.user ? { auth: { user: config.user, pass: config.password ?? "" } } : {}),
    });
  }

  async send(outbound: OutboundToSend, address: string): Promise<SendResult> {
    const { metadata } = outbound;
    const headers = extraHeaders(metadata.headers);
    try {
      const info = await this.transport.sendMail({
        from: this.config.from,
        to: address,
        // The SMTP envelope is the one address the send was checked for, whatever the header fields say.
        envelope: { from: this.config.from, to: address },
        subject: text(metadata.subject) ?? this.config.default_subject ?? "",
        text: outbound.content ?? "",
        ...(text(metadata.html) ? { html: text(metadata.html) } : {}),
        ...(headers ? { headers } : {}),
        messageId: `<${outbound.id}@tidings>`,
      });
      return { providerId: info.messageId, delivered: true };
    } catch (err) {
      const { responseCode, response, code } = err as {
        responseCode?: number;
        response?: string;
        code?: string;
      };
      // A 5xx answer about the message (not our credentials: EAUTH is a configuration error, retried).
      if (typeof responseCode === "number" && responseCode >= 500 && code !== "EAUTH") {
        throw new PermanentSendError(
          `smtp ${responseCode}: ${response ?? (err as Error).message}`,
          responseCode,
        );
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
