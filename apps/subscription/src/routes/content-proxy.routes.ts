import type { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import replyFrom from "@fastify/reply-from";
import { type Api, ApiError, badRequest, linkBase } from "@tidings/service-kit";
import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * The paths of Seed's stage-based messaging API that the content service owns. A Seed hub has one
 * STAGE_BASED_MESSAGING_URL: these are forwarded to content, so the subscription API answers Seed's whole surface.
 * (`/schedule/{id}/send/`, the scheduler's call, is the subscription service's own and stays here.)
 */
export const CONTENT_PREFIXES = [
  "/api/v1/schedule",
  "/api/v1/messageset",
  "/api/v1/messageset_languages",
  "/api/v1/message",
  "/api/v1/binarycontent",
  "/api/v1/template",
] as const;

export interface ContentProxyOptions {
  /** The content API's origin (CONTENT_URL). */
  contentUrl: string;
  /** The credential forwarded to content: CONTENT_TOKEN, else the platform's ADMIN_TOKEN. */
  contentToken: string | undefined;
}

/**
 * Forwards Seed's content paths to the content service with `@fastify/reply-from`. The caller authenticates here
 * with its subscription token (and this service's key limits apply); content is called with the configured
 * content credential. Bodies (JSON or multipart uploads) pass through unparsed, and content's answer (status,
 * error object, body) comes back as it is, but for a list's `next`/`previous` links, which are put on this API's
 * link base (see `withOurLinks`). Media files (`/media/<key>`, public) are forwarded too, since binary content
 * URLs point at this host when content has no PUBLIC_URL (it builds them from the Host header, forwarded unchanged).
 */
export async function contentProxyRoutes(app: Api, options: ContentProxyOptions): Promise<void> {
  await app.register(async (scope) => {
    // This scope only: the body is streamed to content as received; content parses and validates it.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    await scope.register(replyFrom, { base: options.contentUrl, undici: { headersTimeout: 30_000 } });

    const credential = (request: FastifyRequest) => {
      if (request.routeOptions.config.public) {
        return undefined;
      }
      if (!options.contentToken) {
        throw new ApiError(
          503,
          "CONTENT_PROXY_NOT_CONFIGURED",
          "This path is served by the content service: set CONTENT_TOKEN (or ADMIN_TOKEN) on the subscription service.",
        );
      }
      return `Token ${options.contentToken}`;
    };
    /**
     * Forwards a request whose path, resolved as the URL to content is (`new URL()`: `\\` is `/`, `.` and `..`
     * segments, `%2e` too, are applied), is still one `isForwarded` accepts: that path and the query go to content,
     * never the raw url. Any other is no route of this service (404 NOT_FOUND): `/api/v1/message/\\..\\..\\user\\token/`
     * would otherwise reach content's admin-only routes with the content credential.
     */
    const forwardWhen =
      (isForwarded: (pathname: string) => boolean) => (request: FastifyRequest, reply: FastifyReply) => {
        const { pathname, search } = new URL(request.url, "http://x");
        if (!isForwarded(pathname)) {
          return reply.callNotFound();
        }
        if (!isDecodable(search)) {
          throw badRequest("VALIDATION_FAILED", "The request is invalid.", [
            { field: "querystring", message: "malformed percent-encoding" },
          ]);
        }
        const authorization = credential(request);
        const source = `${pathname}${search}`;
        return reply.from(source, {
          // The Host the caller used, so that content's media URLs lead back to this API when it has no PUBLIC_URL.
          rewriteRequestHeaders: (original, headers) => {
            const { authorization: _caller, ...rest } = headers;
            const host = original.headers.host;
            return { ...rest, ...(host ? { host } : {}), ...(authorization ? { authorization } : {}) };
          },
          onResponse: (_request, _reply, res) => {
            withOurLinks(request, reply, res, source).catch((err: unknown) => reply.send(err));
          },
        });
      };
    const forward = forwardWhen((pathname) =>
      CONTENT_PREFIXES.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`)),
    );
    const hide = { schema: { hide: true }, config: { idempotent: false } };
    for (const prefix of CONTENT_PREFIXES) {
      scope.all(prefix, hide, forward);
      scope.all(`${prefix}/*`, hide, forward);
    }
    scope.get(
      "/media/*",
      { ...hide, config: { ...hide.config, public: true } },
      forwardWhen((pathname) => pathname.startsWith("/media/")),
    );
  });
}

/**
 * Relays content's answer to a request forwarded as `source`, with the `next`/`previous` links of a JSON list
 * moved from content's link base (its PUBLIC_URL, which its media URLs need, else the forwarded Host) to this API's
 * (`linkBase`): `seed-services-client` follows `next` after stripping its own STAGE_BASED_MESSAGING_URL from it, so
 * a link on content's URL would be requested from the wrong place. Any other answer is relayed as a stream.
 */
async function withOurLinks(
  request: FastifyRequest,
  reply: FastifyReply,
  res: { stream: Readable },
  source: string,
): Promise<void> {
  const type = reply.getHeader("content-type");
  if (typeof type !== "string" || !type.startsWith("application/json")) {
    reply.send(res.stream);
    return;
  }
  const body = await text(res.stream);
  const page = parsedPage(body);
  if (!page) {
    reply.send(body);
    return;
  }
  const path = new URL(source, "http://content").pathname;
  const ours = (link: unknown) => {
    if (typeof link !== "string" || !URL.canParse(link)) {
      return link;
    }
    const url = new URL(link);
    return url.pathname.endsWith(path) ? `${linkBase(request)}${path}${url.search}` : link;
  };
  reply.removeHeader("content-length");
  reply.send(JSON.stringify({ ...page, next: ours(page.next), previous: ours(page.previous) }));
}

/** Whether a query string decodes (reply-from decodes what it forwards, and a malformed one threw: a 500). */
function isDecodable(search: string): boolean {
  try {
    decodeURIComponent(search);
    return true;
  } catch {
    return false;
  }
}

/** A JSON answer with Seed's list envelope (`next`, `previous`, `results`), else undefined. */
function parsedPage(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === "object" && "next" in value && "results" in value
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
