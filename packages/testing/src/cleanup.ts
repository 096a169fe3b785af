import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deleteScratchNamespaces } from "@tidings/amqp";
import { withAdminClient } from "@tidings/db";
import { AMQP_URL, DATABASE_SERVER } from "./env.ts";

export interface Cleaned {
  /** Undefined when the broker's queues could not be listed (no rabbitmqctl, no RABBITMQ_MANAGEMENT_URL). */
  namespaces: string[] | undefined;
  databases: string[];
}

/** Drops every database whose name starts with one of `prefixes` (LIKE patterns), or that `select` picks. */
export async function dropDatabases(
  prefixes: readonly string[],
  select: (name: string) => boolean = () => true,
): Promise<string[]> {
  if (prefixes.length === 0) {
    return [];
  }
  return withAdminClient(`${DATABASE_SERVER}/postgres`, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE ANY($1::text[])",
      [prefixes.map((p) => `${p.replaceAll("_", "\\_")}%`)],
    );
    const dropped: string[] = [];
    for (const { datname } of rows.filter((r) => select(r.datname))) {
      await client.query(`DROP DATABASE IF EXISTS "${datname.replaceAll('"', '""')}" WITH (FORCE)`);
      dropped.push(datname);
    }
    return dropped;
  });
}

/** Deletes what the run `owner` (a pid) made: its scratch namespaces on the broker and its databases. */
export async function cleanupRun(owner: number, databasePrefixes: readonly string[]): Promise<Cleaned> {
  const [namespaces, databases] = await Promise.all([
    deleteScratchNamespaces(AMQP_URL, (ns) => ns.owner === owner),
    dropDatabases(databasePrefixes),
  ]);
  return { namespaces, databases };
}

const janitor = path.join(path.dirname(fileURLToPath(import.meta.url)), "janitor.ts");

/**
 * Starts a detached janitor for this process: once it is gone, however it ended (done, Ctrl-C, SIGTERM, kill -9),
 * the janitor deletes its scratch namespaces and drops the databases named by `databasePrefixes`. A run that
 * finished cleanly has already done so; then the janitor finds nothing.
 */
export function startJanitor(databasePrefixes: readonly string[], owner = process.pid): void {
  const child = spawn(process.execPath, ["--import", "tsx", janitor, String(owner), ...databasePrefixes], {
    detached: true,
    stdio: "ignore",
    env: process.env,
  });
  child.unref();
}
