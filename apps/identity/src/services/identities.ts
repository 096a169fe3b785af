import { randomUUID } from "node:crypto";
import { enqueue } from "@tidings/amqp";
import type { CreateIdentityBody, Identity, IdentityAddress, IdentityListQuery } from "@tidings/contracts";
import { badRequest, type PageParams } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { Identity as IdentityRow, Prisma } from "../generated/prisma/client.ts";

export function toIdentity(row: IdentityRow): Identity {
  return {
    id: row.id,
    version: row.version,
    details: row.details as Identity["details"],
    communicate_through: row.communicateThrough,
    operator: row.operator,
    created_at: row.createdAt.toISOString(),
    created_by: row.createdBy,
    updated_at: row.updatedAt.toISOString(),
    updated_by: row.updatedBy,
  };
}

type AddressMap = Record<string, Record<string, Record<string, unknown>>>;

/** `details.addresses` flattened, each address with its flags (missing flags are false). */
export function flattenAddresses(details: Identity["details"]): IdentityAddress[] {
  const addresses = (details.addresses ?? {}) as AddressMap;
  return Object.entries(addresses).flatMap(([type, byAddress]) =>
    Object.entries(byAddress).map(([address, flags]) => ({
      type,
      address,
      default: flags.default === true,
      optedout: flags.optedout === true,
      inactive: flags.inactive === true,
      verified: flags.verified === true,
    })),
  );
}

interface Actor {
  userId: number | null;
  correlationId?: string;
}

async function assertIdentitiesExist(db: Db, ids: (string | null | undefined)[]): Promise<void> {
  for (const [field, id] of [
    ["communicate_through", ids[0]],
    ["operator", ids[1]],
  ] as const) {
    if (id && !(await db.identity.findUnique({ where: { id }, select: { id: true } }))) {
      throw badRequest("IDENTITY_REFERENCE_NOT_FOUND", `${field}: identity ${id} does not exist`, [
        { field: `body.${field}`, message: "no such identity" },
      ]);
    }
  }
}

/** Creates an identity and, in the same transaction, its `identity.created` event. */
export async function createIdentity(db: Db, input: CreateIdentityBody, actor: Actor): Promise<Identity> {
  await assertIdentitiesExist(db, [input.communicate_through, input.operator]);
  return db.$transaction(async (tx) => {
    const row = await tx.identity.create({
      data: {
        id: randomUUID(),
        version: input.version ?? 1,
        details: input.details as Prisma.InputJsonObject,
        communicateThrough: input.communicate_through ?? null,
        operator: input.operator ?? null,
        createdBy: actor.userId,
        updatedBy: actor.userId,
      },
    });
    const identity = toIdentity(row);
    await enqueue(tx, {
      name: "identity.created",
      payload: { ...identity, addresses: flattenAddresses(identity.details) },
      correlationId: actor.correlationId,
    });
    return identity;
  });
}

export async function getIdentity(db: Db, id: string): Promise<Identity | null> {
  const row = await db.identity.findUnique({ where: { id } });
  return row && toIdentity(row);
}

export async function listIdentities(
  db: Db,
  query: IdentityListQuery,
  page: PageParams,
): Promise<{ count: number; results: Identity[] }> {
  const where: Prisma.IdentityWhereInput = {
    createdAt: { gte: query.created_from, lte: query.created_to },
    communicateThrough: query.communicate_through,
    operator: query.operator,
  };
  const [count, rows] = await db.$transaction([
    db.identity.count({ where }),
    db.identity.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: page.offset,
      take: page.limit,
    }),
  ]);
  return { count, results: rows.map(toIdentity) };
}
