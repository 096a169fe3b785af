import { PrismaPg } from "@prisma/adapter-pg";

/**
 * How every service builds its Prisma client: the pg driver adapter with a pool of `poolSize` connections,
 * and interactive transactions that may wait for a connection as long as a consumer's burst takes to drain
 * (a worker takes up to AMQP_PREFETCH messages at once, far more than the pool has connections).
 */
export function prismaClientOptions(url: string, poolSize = 10) {
  return {
    adapter: new PrismaPg({ connectionString: url, max: poolSize }),
    transactionOptions: { maxWait: 10_000, timeout: 15_000 },
  };
}
