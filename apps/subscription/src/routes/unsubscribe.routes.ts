import { escapeHtml } from "@tidings/contracts";
import type { Api } from "@tidings/service-kit";
import Type from "typebox";
import { type UnsubscribeScope, unsubscribeByLink } from "../services/topics-unsubscribe.ts";
import { type TokenCheck, verifyUnsubscribeToken } from "../services/unsubscribe-token.ts";
import type { RouteDeps } from "./deps.ts";

const STYLE =
  "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111}" +
  "fieldset{border:1px solid #888;padding:1rem;margin:0 0 1rem}label{display:block;margin:.25rem 0}" +
  "button{font-size:1rem;padding:.6rem 1.2rem;background:#1d4ed8;color:#fff;border:0;border-radius:4px;cursor:pointer}" +
  "button:focus{outline:3px solid #f59e0b;outline-offset:2px}";

/** A small self-contained page; every value in `body` is escaped by the caller. */
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

interface HtmlReply {
  code(status: number): this;
  type(contentType: string): this;
  headers(values: Record<string, string>): this;
  send(payload: string): unknown;
}

const PAGE_HEADERS = {
  "cache-control": "no-store",
  // The URL carries the token: never pass it on.
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

function sendPage(reply: HtmlReply, status: number, title: string, body: string) {
  return reply.code(status).type("text/html; charset=utf-8").headers(PAGE_HEADERS).send(page(title, body));
}

const REJECTED: Record<Exclude<TokenCheck, { ok: true }>["reason"], string> = {
  malformed: "This unsubscribe link is not valid. Please use the link from your latest message.",
  expired: "This unsubscribe link has expired. Please use the link from your latest message.",
  forged: "This unsubscribe link is not valid. Please use the link from your latest message.",
};

const sendRejection = (reply: HtmlReply, check: Exclude<TokenCheck, { ok: true }>) =>
  sendPage(reply, check.status, "Link not valid", `<p>${escapeHtml(REJECTED[check.reason])}</p>`);

/** The form's fields, or RFC 8058's one-click body (`List-Unsubscribe=One-Click`, form- or multipart-encoded). */
function readChoice(body: unknown): { scope: UnsubscribeScope; method: "link" | "one-click" } | null {
  const fields = (body && typeof body === "object" ? body : {}) as Record<string, string>;
  if (fields["List-Unsubscribe"] === "One-Click") {
    return { scope: "topic", method: "one-click" };
  }
  const scope = fields.scope ?? "topic";
  return scope === "topic" || scope === "all" ? { scope, method: "link" } : null;
}

const MULTIPART_FIELD = /name="([^"]+)"\r?\n(?:[^\r\n]+\r?\n)*\r?\n([^\r\n]*)/g;

/**
 * The public unsubscribe page behind every topic message's link: GET shows what the link unsubscribes
 * from, with a form; POST (the form, or a mail client's RFC 8058 one-click POST) unsubscribes. A forged
 * token answers 403 and a malformed or expired one 400, each with a page, and changes nothing.
 */
export function unsubscribeRoutes(app: Api, { db, config }: RouteDeps): void {
  const secret = config.UNSUBSCRIBE_SECRET;
  void app.register(async (plugin) => {
    // Encapsulated, so form bodies are parsed on these routes only; the type provider is the app's.
    const scope = plugin as unknown as Api;
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 4096 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.addContentTypeParser(
      "multipart/form-data",
      { parseAs: "string", bodyLimit: 4096 },
      (_r, body, done) =>
        done(
          null,
          Object.fromEntries([...(body as string).matchAll(MULTIPART_FIELD)].map((m) => [m[1], m[2]])),
        ),
    );
    // A wildcard, not a :token parameter: tokens carry the topic and outgrow fastify's parameter length limit.
    const params = Type.Object({ "*": Type.String({ minLength: 1, maxLength: 2048 }) });
    const schema = { hide: true, params };
    // The token is a credential: keep request lines (which carry it) out of the info-level logs.
    const options = { config: { public: true }, schema, logLevel: "warn" } as const;

    scope.get("/unsubscribe/*", options, async (request, reply) => {
      const check = verifyUnsubscribeToken(secret, request.params["*"]);
      if (!check.ok) {
        return sendRejection(reply, check);
      }
      const topic = escapeHtml(check.claims.topic);
      return sendPage(
        reply,
        200,
        "Unsubscribe",
        `<form method="post">
<fieldset>
<legend>What would you like to stop receiving?</legend>
<label><input type="radio" name="scope" value="topic" checked> Messages about <strong>${topic}</strong></label>
<label><input type="radio" name="scope" value="all"> Everything you are subscribed to</label>
</fieldset>
<button type="submit">Unsubscribe</button>
</form>`,
      );
    });

    scope.post("/unsubscribe/*", options, async (request, reply) => {
      const check = verifyUnsubscribeToken(secret, request.params["*"]);
      if (!check.ok) {
        return sendRejection(reply, check);
      }
      const choice = readChoice(request.body);
      if (!choice) {
        return sendPage(reply, 400, "Unsubscribe", "<p>Please choose what to unsubscribe from.</p>");
      }
      await unsubscribeByLink(db, check.claims, choice.scope, choice.method, request.id);
      const what =
        choice.scope === "all"
          ? "messages from any of your subscriptions"
          : `any more messages about <strong>${escapeHtml(check.claims.topic)}</strong>`;
      return sendPage(
        reply,
        200,
        "You are unsubscribed",
        `<p role="status">You will not receive ${what}.</p>`,
      );
    });
  });
}
