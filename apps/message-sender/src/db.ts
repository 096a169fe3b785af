import { prismaClientOptions, servicePool, withStatements } from "@tidings/db";
import { type Prisma, PrismaClient } from "./generated/prisma/client.ts";

/** The Prisma client, on a pool whose per-message statements skip Prisma (`statement` of @tidings/db). */
export const createDb = (url: string) => {
  const pool = servicePool(url);
  return withStatements(new PrismaClient(prismaClientOptions(pool)), pool);
};
export type Db = ReturnType<typeof createDb>;
/** The client inside `db.$transaction(async (tx) => ...)`. */
export type Tx = Prisma.TransactionClient;
