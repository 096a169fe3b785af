import replyFrom from "@fastify/reply-from";
import { type Api, ApiError } from "@tidings/service-kit";
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
 * error object, pagination links, which it builds from the Host header forwarded unchanged) comes back as it is.
 * Media files (`/media/<key>`, public) are forwarded too, since binary content URLs then point at this host.
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
        const authorization = credential(request);
        return reply.from(`${pathname}${search}`, {
          // The Host the caller used, so that content's links (pagination, media) lead back to this API.
          rewriteRequestHeaders: (original, headers) => {
            const { authorization: _caller, ...rest } = headers;
            const host = original.headers.host;
            return { ...rest, ...(host ? { host } : {}), ...(authorization ? { authorization } : {}) };
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
