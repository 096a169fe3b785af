import { enqueue, type OutboxMessage } from "@tidings/amqp";
import { toSeedTime } from "@tidings/contracts";
import { type ApiError, isRecordNotFound, type PageParams } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import type { Prisma } from "../generated/prisma/client.ts";

/** What the message, message-set and binary-content use cases need: the database and media URLs. */
export interface ContentDeps {
  db: Db;
  /** The public URL of a stored file, by storage key. */
  mediaUrl(key: string): string;
}

/** What a use case knows of the request that called it. */
export interface RequestContext {
  correlationId?: string;
}

/** One page of a list, and how many rows the whole list has. */
export interface Listed<T> {
  count: number;
  results: T[];
}

/** A page in id order (content lists are in id order, as in Seed). */
export const inIdOrder = ({ limit, offset }: PageParams) => ({
  orderBy: { id: "asc" as const },
  skip: offset,
  take: limit,
});

/** Counts and reads one page in one snapshot, and maps its rows to API entities. */
export async function listed<Row, T>(
  db: Db,
  count: Prisma.PrismaPromise<number>,
  page: Prisma.PrismaPromise<Row[]>,
  toEntity: (row: Row) => T,
): Promise<Listed<T>> {
  const [total, rows] = await db.$transaction([count, page]);
  return { count: total, results: rows.map(toEntity) };
}

/** What `listInIdOrder` reads of a Prisma model: the rows matching a filter, counted and one page of them. */
export interface Listable<Where, Row> {
  count(args: { where: Where }): Prisma.PrismaPromise<number>;
  findMany(args: { where: Where } & ReturnType<typeof inIdOrder>): Prisma.PrismaPromise<Row[]>;
}

/** One page, in id order, of the rows of `model` matching `where`, with their count, as API entities. */
export const listInIdOrder = <Where, Row, T>(
  db: Db,
  model: Listable<Where, Row>,
  where: Where,
  page: PageParams,
  toEntity: (row: Row) => T,
): Promise<Listed<T>> =>
  listed(db, model.count({ where }), model.findMany({ where, ...inIdOrder(page) }), toEntity);

/** A row's `created_at` and `updated_at`, as the API answers them. */
export const timestamps = (row: { createdAt: Date; updatedAt: Date }) => ({
  created_at: toSeedTime(row.createdAt),
  updated_at: toSeedTime(row.updatedAt),
});

/** The ids, in order, of the rows of `model` matching `where`: what still refers to a row a delete was refused for. */
export const referringIds = async <Where>(
  model: {
    findMany(args: { where: Where; select: { id: true }; orderBy: { id: "asc" } }): Promise<{ id: number }[]>;
  },
  where: Where,
) => (await model.findMany({ where, select: { id: true }, orderBy: { id: "asc" } })).map((row) => row.id);

/** The name of the constraint (index or foreign key) a failed write violated, if that is why it failed. */
export function violatedConstraint(err: unknown): string | undefined {
  const e = err as { meta?: { driverAdapterError?: { cause?: { constraint?: { index?: string } } } } };
  return e?.meta?.driverAdapterError?.cause?.constraint?.index;
}

/** The change of a `write`: what the caller gets back, and the events that announce it. */
export type Change<T> = (tx: Tx) => Promise<{ result: T; events: OutboxMessage[] }>;

/** How a failed `write` answers the client. */
export interface WriteErrors {
  /** For a missing row (Prisma's "record to update or delete does not exist"). */
  notFound?: () => ApiError;
  /** For each constraint the change may violate, by constraint name. */
  violations?: Record<string, () => ApiError | Promise<ApiError>>;
}

/**
 * Runs a change and enqueues its events in one transaction, so the events are published if and only if
 * the change commits. Missing rows and constraint violations become the API errors `errors` gives.
 */
export async function write<T>(
  db: Db,
  context: RequestContext,
  change: Change<T>,
  errors: WriteErrors = {},
): Promise<T> {
  try {
    return await db.$transaction(async (tx) => {
      const { result, events } = await change(tx);
      await enqueue(tx, ...events.map((event) => ({ ...event, correlationId: context.correlationId })));
      return result;
    });
  } catch (err) {
    const constraint = violatedConstraint(err);
    const toError = isRecordNotFound(err) ? errors.notFound : constraint && errors.violations?.[constraint];
    throw toError ? await toError() : err;
  }
}

/** The change that deletes a row and announces it with `event` (`{id}`), e.g. `content.template.deleted`. */
const deletion =
  (event: OutboxMessage["name"], id: number, remove: (tx: Tx) => Promise<unknown>): Change<undefined> =>
  async (tx) => {
    await remove(tx);
    return { result: undefined, events: [{ name: event, payload: { id } }] };
  };

/** Deletes a row and announces it (see `deletion`); `errors` answer a missing row or a refused delete. */
export const writeDeletion = (
  db: Db,
  context: RequestContext,
  event: OutboxMessage["name"],
  id: number,
  remove: (tx: Tx) => Promise<unknown>,
  errors: WriteErrors,
) => write(db, context, deletion(event, id, remove), errors);
