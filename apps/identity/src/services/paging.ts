import { badRequest, externalUrl, type LinkRequest } from "@tidings/service-kit";

/** A keyset position: the last row's created_at and id (lists are newest first, ties by id). */
export interface Position {
  createdAt: Date;
  id: string;
}

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.createdAt.toISOString(), p.id])).toString("base64url");
}

/** The position after which the page starts; null for `cursor=` (the first page). */
export function decodeCursor(cursor: string): Position | null {
  if (cursor === "") {
    return null;
  }
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string];
    const createdAt = new Date(at);
    if (typeof id !== "string" || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(createdAt.getTime())) {
      throw new Error("bad cursor");
    }
    return { createdAt, id };
  } catch {
    throw badRequest("IDENTITY_INVALID_CURSOR", "The cursor is not valid.", [
      { field: "querystring.cursor", message: "not a cursor this API issued" },
    ]);
  }
}

/** The absolute link to the page after `next` (same query, cursor replaced). */
export function cursorLink(request: LinkRequest, next: Position | null): string | null {
  if (!next) {
    return null;
  }
  const url = new URL(externalUrl(request, request.url));
  url.searchParams.set("cursor", encodeCursor(next));
  url.searchParams.delete("offset");
  return url.toString();
}
