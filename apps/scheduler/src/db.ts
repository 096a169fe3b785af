import { prismaClientOptions } from "@tidings/db";
import { PrismaClient } from "./generated/prisma/client.ts";

export const createDb = (url: string) => new PrismaClient(prismaClientOptions(url));
export type Db = ReturnType<typeof createDb>;
