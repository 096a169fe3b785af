import type { KeyKind, Principal } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { Prisma } from "../generated/prisma/client.ts";

/** Who is reading: what an API key may see of outbounds, their batches, inbounds and failed tasks. */
export interface Viewer {
  isAdmin: boolean;
  keyKind: KeyKind;
  userId: number | null;
}

export const viewerOf = (request: { principal: Principal }): Viewer => ({
  isAdmin: request.principal.isAdmin,
  keyKind: request.principal.keyKind,
  userId: request.principal.userId,
});

/**
 * The outbounds a key sees (Notify's key types): admin and `live` keys all of them; a `test` key only test
 * outbounds (sent with a test key); a `team` key only those its user created. Undefined: no restriction.
 */
export function visibleOutbounds(viewer: Viewer): Prisma.OutboundWhereInput | undefined {
  if (viewer.isAdmin || viewer.keyKind === "live") {
    return undefined;
  }
  return viewer.keyKind === "test" ? { test: true } : { createdBy: viewer.userId ?? -1 };
}

/** visibleOutbounds as an SQL condition on the outbound aliased `o` (`true` for admin and `live` keys). */
export function visibleOutboundsSql(viewer: Viewer): Prisma.Sql {
  if (viewer.isAdmin || viewer.keyKind === "live") {
    return Prisma.sql`true`;
  }
  return viewer.keyKind === "test"
    ? Prisma.sql`o.test`
    : Prisma.sql`o.created_by = ${viewer.userId ?? -1}::int`;
}

/** The batches a key sees, by the same rule as their outbounds. */
export function visibleBatches(viewer: Viewer): Prisma.OutboundBatchWhereInput | undefined {
  if (viewer.isAdmin || viewer.keyKind === "live") {
    return undefined;
  }
  return viewer.keyKind === "test" ? { test: true } : { createdBy: viewer.userId ?? -1 };
}

/**
 * The inbounds a key sees: all for admin and `live` keys; for `test` and `team` keys only replies to the
 * outbounds they see (an inbound that answers none of them is not theirs).
 */
export async function visibleInbounds(db: Db, viewer: Viewer): Promise<Prisma.InboundWhereInput | undefined> {
  if (!visibleOutbounds(viewer)) {
    return undefined;
  }
  const replied = await db.$queryRaw<{ id: string }[]>`
    SELECT DISTINCT o.id::text AS id FROM inbound i JOIN outbound o ON o.id = i.reply_to
    WHERE ${visibleOutboundsSql(viewer)}`;
  return { replyTo: { in: replied.map((o) => o.id) } };
}
