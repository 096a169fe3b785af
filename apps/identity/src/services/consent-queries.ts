import { type ConsentEntry, type OptOut, type OptOutSearchQuery, toSeedTime } from "@tidings/contracts";
import { type KeysetList, listByCreatedAt, type PageParams } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { identityNotFound } from "../errors.ts";
import type { ConsentEvent, Prisma } from "../generated/prisma/client.ts";
import { normaliseAddress } from "./addresses.ts";
import { toOptOut } from "./consent.ts";
import type { IdentityOptions } from "./identities.ts";

const toConsentEntry = (row: ConsentEvent): ConsentEntry => ({
  id: row.id.toString(),
  identity: row.identityId,
  action: row.action as ConsentEntry["action"],
  kind: row.kind,
  scope: row.scope as ConsentEntry["scope"],
  channel: row.channel,
  address: row.address,
  topic: row.topic,
  source: row.source,
  source_id: row.sourceId,
  reason: row.reason,
  record: row.recordId,
  created_at: toSeedTime(row.createdAt),
  created_by: row.createdBy,
});

export async function searchOptOuts(
  db: Db,
  query: OptOutSearchQuery,
  page: PageParams,
  options: IdentityOptions = {},
): Promise<KeysetList<OptOut>> {
  const address =
    query.address && query.address_type
      ? (normaliseAddress(query.address_type, query.address, options.defaultCountry) ?? query.address)
      : query.address;
  const where: Prisma.OptOutWhereInput = {
    identityId: query.identity,
    optoutType: query.optout_type,
    addressType: query.address_type,
    address,
    requestSource: query.request_source,
    requestorSourceId: query.requestor_source_id,
    reason: query.reason,
    AND: [
      { createdAt: { gte: query.created_from, lte: query.created_to } },
      {
        createdAt: {
          equals: query.created_at,
          gte: query.created_at__gte,
          gt: query.created_at__gt,
          lte: query.created_at__lte,
          lt: query.created_at__lt,
        },
      },
    ],
  };
  return listByCreatedAt(db.optOut, where, page, toOptOut, { cursor: query.cursor, countKeysetPages: false });
}

/** The identity's consent ledger, oldest first. */
export async function consentLedger(
  db: Db,
  identityId: string,
  page: PageParams,
): Promise<{ count: number; results: ConsentEntry[] }> {
  const exists = await db.identity.findUnique({ where: { id: identityId }, select: { id: true } });
  const where = { identityId };
  const [count, rows] = await db.$transaction([
    db.consentEvent.count({ where }),
    db.consentEvent.findMany({ where, orderBy: { id: "asc" }, skip: page.offset, take: page.limit }),
  ]);
  if (!exists && count === 0) {
    throw identityNotFound(identityId);
  }
  return { count, results: rows.map(toConsentEntry) };
}
