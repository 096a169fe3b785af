import type { IdentityMessagesQuery, MessageDirection } from "@tidings/contracts";
import type { PageParams } from "@tidings/service-kit";
import { type Viewer, visibleOutbounds, visibleOutboundsSql } from "../api-keys/visibility.ts";
import type { Db } from "../db.ts";
import { Prisma } from "../generated/prisma/client.ts";
import { type InboundFields, toInbound } from "../inbound/inbound.ts";
import { type OutboundFields, toOutbound } from "../outbound/mapping.ts";

/** One of a person's messages, but for its `url` (which the route adds). */
export type PersonMessage =
  | ({ direction: "outbound" } & OutboundFields)
  | ({ direction: "inbound" } & InboundFields);

/**
 * The messages of one direction the viewer sees, as SQL selecting (direction, id, created_at): outbounds to the
 * identity (from any subscription, topic or send), inbounds from it; for `test` and `team` keys, only the
 * outbounds they see and the replies to them (the rules of ../api-keys/visibility.ts).
 */
function messagesSql(identity: string, viewer: Viewer, direction: MessageDirection): Prisma.Sql {
  if (direction === "outbound") {
    return Prisma.sql`SELECT 'outbound' AS direction, o.id, o.created_at FROM outbound o
      WHERE o.to_identity = ${identity}::uuid AND ${visibleOutboundsSql(viewer)}`;
  }
  const replies = visibleOutbounds(viewer)
    ? Prisma.sql`EXISTS (SELECT 1 FROM outbound o WHERE o.id = i.reply_to AND ${visibleOutboundsSql(viewer)})`
    : Prisma.sql`true`;
  return Prisma.sql`SELECT 'inbound' AS direction, i.id, i.created_at FROM inbound i
    WHERE i.from_identity = ${identity}::uuid AND ${replies}`;
}

/**
 * A person's messages, outbounds (with their status and `last_error` as they stand) and inbounds merged, newest
 * first (the id breaks ties, so pages are stable), one page of them and how many there are in all.
 */
export async function personMessages(
  db: Db,
  identity: string,
  query: IdentityMessagesQuery,
  page: PageParams,
  viewer: Viewer,
): Promise<{ count: number; results: PersonMessage[] }> {
  const directions: MessageDirection[] = query.direction ? [query.direction] : ["outbound", "inbound"];
  const messages = Prisma.join(
    directions.map((d) => messagesSql(identity, viewer, d)),
    " UNION ALL ",
  );
  const [[counted], keys] = await db.$transaction([
    db.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM (${messages}) m`,
    db.$queryRaw<{ direction: MessageDirection; id: string }[]>`
      SELECT direction, id::text FROM (${messages}) m
      ORDER BY created_at DESC, id DESC LIMIT ${page.limit} OFFSET ${page.offset}`,
  ]);
  const idsOf = (direction: MessageDirection) =>
    keys.filter((k) => k.direction === direction).map((k) => k.id);
  const [outbounds, inbounds] = await Promise.all([
    db.outbound.findMany({ where: { id: { in: idsOf("outbound") } } }),
    db.inbound.findMany({ where: { id: { in: idsOf("inbound") } } }),
  ]);
  const found = new Map<string, PersonMessage>([
    ...outbounds.map(
      (row) => [`outbound:${row.id}`, { direction: "outbound" as const, ...toOutbound(row) }] as const,
    ),
    ...inbounds.map(
      (row) => [`inbound:${row.id}`, { direction: "inbound" as const, ...toInbound(row) }] as const,
    ),
  ]);
  // A message deleted between the two reads (an archive's purge) is left out of the page.
  const results = keys.flatMap((k) => found.get(`${k.direction}:${k.id}`) ?? []);
  return { count: counted?.count ?? 0, results };
}
