import { type PageParams, pageParams } from "@tidings/service-kit";
import { invalidInteger } from "../errors.ts";

function intParam(query: Record<string, string>, name: string, min: number, max: number): number | undefined {
  const raw = query[name];
  if (raw === undefined) {
    return undefined;
  }
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw invalidInteger(name, min, max);
  }
  return value;
}

/** The page of a search, whose free-form query the schema cannot type: `limit` 1..1000, `offset` from 0. */
export const searchPage = (query: Record<string, string>): PageParams =>
  pageParams({
    limit: intParam(query, "limit", 1, 1000),
    offset: intParam(query, "offset", 0, Number.MAX_SAFE_INTEGER),
  });
