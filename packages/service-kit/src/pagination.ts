import type { FastifyRequest } from "fastify";

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

export function pageParams(query: { limit?: number; offset?: number }): PageParams {
  return { limit: query.limit ?? DEFAULT_PAGE_SIZE, offset: query.offset ?? 0 };
}

/** Seed's limit/offset envelope, with absolute `next`/`previous` links built from the request. */
export function toPage<T>(
  request: FastifyRequest,
  { limit, offset }: PageParams,
  count: number,
  results: T[],
  publicUrl?: string,
): Page<T> {
  // Appended, not resolved: `new URL("/api/...", base)` would drop a path prefix of PUBLIC_URL.
  const base = (publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, "");
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
