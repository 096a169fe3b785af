import type { FastifyRequest } from "fastify";
import { badRequest } from "./errors.ts";

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface PageParams {
  limit: number;
  offset: number;
}

export const DEFAULT_PAGE_SIZE = 100;

/** Prisma's `skip` and `take` of a page. */
export const pageSlice = ({ limit, offset }: PageParams) => ({ skip: offset, take: limit });

export function pageParams(query: { limit?: number; offset?: number }): PageParams {
  return { limit: query.limit ?? DEFAULT_PAGE_SIZE, offset: query.offset ?? 0 };
}

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
/** A host name or an IPv4 address, or a bracketed IPv6 address, with an optional port: nothing else. */
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*\\.?|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?$`);

/** What a link needs from the request; a fastify request of `buildApi`'s app carries the API's PUBLIC_URL. */
export interface LinkRequest {
  protocol: string;
  host: string;
  url: string;
  server?: { publicUrl?: string };
}

declare module "fastify" {
  interface FastifyInstance {
    /** PUBLIC_URL: the base of every absolute URL the API answers with (see `externalUrl`); unset, the request's. */
    publicUrl: string | undefined;
  }
}

/**
 * The absolute base of the links an API answers with: the API's PUBLIC_URL when set
 * (without a trailing slash), else the request's protocol and host (the Host header, or X-Forwarded-Proto/-Host from
 * a proxy in TRUST_PROXY). A host that is not a host name or address (with an optional port) never reaches a link:
 * 400 INVALID_HOST.
 */
export function linkBase(request: Pick<LinkRequest, "protocol" | "host" | "server">): string {
  const publicUrl = request.server?.publicUrl;
  if (publicUrl !== undefined) {
    return publicUrl.replace(/\/+$/, "");
  }
  const { protocol, host } = request;
  // The pattern alone takes a port past 65535 and bracketed text that is no IPv6 address (`[:::::]`), on which
  // `new URL` throws when the link is built: the host is also what the URL parser reads as one.
  if ((protocol !== "http" && protocol !== "https") || !HOST.test(host) || !URL.canParse(`http://${host}`)) {
    throw badRequest("INVALID_HOST", "The request's host (Host or X-Forwarded-Host) is not a valid host.", [
      { field: "headers.host", message: "must be a host name or an IP address, with an optional port" },
    ]);
  }
  return `${protocol}://${host}`;
}

/**
 * The absolute URL of `path` (which starts with `/`, and may carry a query) as the client reaches this API: for
 * pagination links, Location headers and any other link a route answers with. Appended, not resolved: `new URL(path,
 * base)` would drop a path prefix of PUBLIC_URL.
 */
export function externalUrl(
  request: Pick<LinkRequest, "protocol" | "host" | "server">,
  path: string,
): string {
  return `${linkBase(request)}${path}`;
}

/** Seed's limit/offset envelope, with absolute `next`/`previous` links built from the request (see `linkBase`). */
export function toPage<T>(
  request: FastifyRequest | LinkRequest,
  { limit, offset }: PageParams,
  count: number,
  results: T[],
): Page<T> {
  const base = linkBase(request);
  const link = (at: number) => {
    const url = new URL(`${base}${request.url}`);
    url.searchParams.set("limit", String(limit));
    if (at > 0) {
      url.searchParams.set("offset", String(at));
    } else {
      url.searchParams.delete("offset");
    }
    return url.toString();
  };
  return {
    count,
    next: offset + limit < count ? link(offset + limit) : null,
    previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
    results,
  };
}
