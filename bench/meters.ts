/**
 * What the platform spends per message while a benchmark runs: CPU by group of processes (the services' own,
 * Postgres, RabbitMQ and this process, the load generator or simulator) and the Postgres transactions and rows
 * written in the services' databases. Shared by `pipeline` and `stage`.
 */
import type pg from "pg";
import { cpuMeter, namedCpuMeter, record } from "./lib.ts";

type Meter = ReturnType<typeof cpuMeter>;

interface DatabaseCounters {
  n: number;
  rows: number;
}

/** Transactions committed and rows written so far in the pool's database (pg_stat_database). */
async function databaseCounters(pool: pg.Pool): Promise<DatabaseCounters> {
  const { rows } = await pool.query<DatabaseCounters>(
    `SELECT xact_commit::float8 AS n, (tup_inserted + tup_updated + tup_deleted)::float8 AS rows
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  return rows[0] ?? { n: 0, rows: 0 };
}

async function sumCounters(pools: pg.Pool[]): Promise<DatabaseCounters> {
  const all = await Promise.all(pools.map(databaseCounters));
  return all.reduce((a, b) => ({ n: a.n + b.n, rows: a.rows + b.rows }), { n: 0, rows: 0 });
}

export class PlatformMeters {
  private constructor(
    private readonly services: [string, Meter][],
    private readonly postgres: Meter,
    private readonly rabbitmq: Meter,
    private readonly bench: Meter,
    private readonly benchLabel: string,
    private readonly pools: pg.Pool[],
    private readonly counters: DatabaseCounters,
  ) {}

  /**
   * Starts measuring. `services`: label and pids of each group of service processes (already started);
   * `pools`: one per service database whose transactions count; `benchLabel`: what this process does meanwhile.
   */
  static async start(
    services: [label: string, pids: (number | undefined)[]][],
    pools: pg.Pool[],
    benchLabel: string,
  ): Promise<PlatformMeters> {
    const meters = services.map(([label, pids]): [string, Meter] => [label, cpuMeter(pids)]);
    // Postgres: its backends, those that connect or go during the run included; RabbitMQ is one beam.smp.
    return new PlatformMeters(
      meters,
      namedCpuMeter("postgres"),
      namedCpuMeter("beam.smp"),
      cpuMeter([process.pid]),
      benchLabel,
      pools,
      await sumCounters(pools),
    );
  }

  /**
   * Records CPU per message of each group and in all, and Postgres transactions and rows written per message;
   * `targets` are printed beside the figures they name.
   */
  async report(
    prefix: string,
    messages: number,
    targets: { platform?: string; transactions?: string; rows?: string } = {},
  ): Promise<void> {
    let platform = 0;
    const cpu = (label: string, meter: Meter) => {
      const value = meter.per(messages);
      record({ name: `${prefix}: CPU per message, ${label}`, value, unit: "ms" });
      return value;
    };
    for (const [label, meter] of this.services) {
      platform += cpu(label, meter);
    }
    platform += cpu("Postgres", this.postgres);
    platform += cpu("RabbitMQ", this.rabbitmq);
    record({
      name: `${prefix}: CPU per message, platform in all`,
      value: platform,
      unit: "ms",
      ...(targets.platform ? { target: targets.platform } : {}),
    });
    cpu(this.benchLabel, this.bench);
    await new Promise((r) => setTimeout(r, 1_500)); // backends report their statistics about once a second
    const after = await sumCounters(this.pools);
    record({
      name: `${prefix}: Postgres transactions per message`,
      value: (after.n - this.counters.n) / messages,
      unit: "",
      ...(targets.transactions ? { target: targets.transactions } : {}),
    });
    record({
      name: `${prefix}: rows written per message`,
      value: (after.rows - this.counters.rows) / messages,
      unit: "",
      ...(targets.rows ? { target: targets.rows } : {}),
    });
  }
}
