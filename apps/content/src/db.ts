import { prismaClientOptions } from "@tidings/db";
import { type Prisma, PrismaClient } from "./generated/prisma/client.ts";

export const createDb = (url: string) => new PrismaClient(prismaClientOptions(url));
export type Db = ReturnType<typeof createDb>;
/** The client inside `db.$transaction(async (tx) => ...)`. */
export type Tx = Prisma.TransactionClient;
