import { readdir, readFile, realpath } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { MigrationList } from "@prisma/schema-engine-wasm";
import { Client } from "pg";
import { openSchemaEngine } from "./schema-engine.ts";

const NO_FILTER = { externalTables: [], externalEnums: [] };

/**
 * This package's folder: its `prisma/platform.prisma` declares the tables every service has (each app's
 * prisma/schema/ links to it) and its `prisma/migrations` make them, in every service's database before the app's own.
 * Another package may own tables the same way (packages/hooks: `prisma/hooks.prisma`, linked by the apps with hooks).
 */
export const platformDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The datasource a package's shared schema is diffed with (each app's schema.prisma declares its own). */
const PLATFORM_DATASOURCE = {
  path: "datasource.prisma",
  content: 'datasource db {\n  provider = "postgresql"\n}\n',
};

/**
 * The lines (1-based) of a migration whose `--` comment holds a semicolon: Prisma's engine splits a migration into
 * statements at every semicolon, so the rest of such a comment would run as SQL (a syntax error far from its cause).
 */
export const semicolonsInComments = (sql: string): number[] =>
  sql.split("\n").flatMap((line, i) => (/^\s*--.*;/.test(line) ? [i + 1] : []));

/** Everything under `<appDir>/prisma/migrations`, in Prisma's folder format. */
export async function loadMigrations(appDir: string): Promise<MigrationList> {
  const baseDir = path.join(appDir, "prisma", "migrations");
  const entries = await readdir(baseDir, { withFileTypes: true }).catch(() => []);
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const lockPath = path.join(baseDir, "migration_lock.toml");
  const migrationDirectories = await Promise.all(
    dirs.map(async (dir) => {
      const file = path.join(baseDir, dir, "migration.sql");
      const content = await readFile(file, "utf8").then(
        (value) => ({ tag: "ok" as const, value }),
        (err: Error) => ({ tag: "error" as const, value: err.message }),
      );
      const lines = content.tag === "ok" ? semicolonsInComments(content.value) : [];
      if (lines.length > 0) {
        throw new Error(
          `${path.join(dir, "migration.sql")}: a semicolon in the comment on line ${lines.join(", ")}: the ` +
            "engine splits a migration into statements at every semicolon, comments included",
        );
      }
      return { path: dir, migrationFile: { path: "migration.sql", content } };
    }),
  );
  return {
    baseDir,
    lockfile: {
      path: "migration_lock.toml",
      content: await readFile(lockPath, "utf8").catch(() => null),
    },
    shadowDbInitScript: "",
    migrationDirectories,
  };
}

/** A schema file; `linked` when it is a link to a package's shared schema (platform.prisma, hooks.prisma). */
export type SchemaFile = { path: string; content: string; linked?: boolean };

/**
 * Every `*.prisma` file in `<appDir>/prisma/schema/`, as the engine wants them; for a package that owns shared tables
 * (this one, packages/hooks), its `prisma/*.prisma` with a datasource.
 */
export async function loadSchemaFiles(appDir: string): Promise<SchemaFile[]> {
  const dir = path.join(appDir, "prisma", "schema");
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
  const read = async (file: string, linked: boolean) => ({
    path: file,
    content: await readFile(file, "utf8"),
    linked,
  });
  if (!entries) {
    const own = path.join(appDir, "prisma");
    const names = (await readdir(own)).filter((n) => n.endsWith(".prisma")).sort();
    return [PLATFORM_DATASOURCE, ...(await Promise.all(names.map((n) => read(path.join(own, n), false))))];
  }
  return Promise.all(
    entries
      .filter((e) => e.name.endsWith(".prisma"))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) => read(path.join(dir, e.name), e.isSymbolicLink())),
  );
}

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Runs `fn` on a connection to the server's `postgres` database. */
export async function withAdminClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the database named in `url` if it does not exist yet; true when it was created. */
export async function ensureDatabase(url: string, template?: string): Promise<boolean> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  return withAdminClient(url, async (client) => {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount) {
      return false;
    }
    const from = template ? ` TEMPLATE ${quoteIdent(template)}` : "";
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}${from}`);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === "42P04") {
        return false; // created meanwhile by a concurrent caller
      }
      throw err;
    }
  });
}

/**
 * The packages whose shared schema the files link (packages/db's platform.prisma first, then packages/hooks'...):
 * each owns the migrations of its tables in its own `prisma/migrations`.
 */
async function linkedPackages(files: SchemaFile[]): Promise<string[]> {
  const targets = await Promise.all(files.filter((f) => f.linked).map((f) => realpath(f.path)));
  const dirs = [...new Set(targets.map((file) => path.resolve(path.dirname(file), "..")))].sort();
  return [platformDir, ...dirs.filter((dir) => dir !== platformDir)];
}

/**
 * `prisma migrate deploy` without the native engine: applies the pending platform migrations, then those of the
 * packages whose schema the app links (hooks), then the app's own, and records them (all in the database's
 * `_prisma_migrations`). Each shared migration creates its tables only where they do not exist yet, so a database
 * whose app migrations made them before the migration moved to its package takes it as a no-op.
 */
export async function applyMigrations(appDir: string, url: string): Promise<string[]> {
  await ensureDatabase(url);
  const files = await loadSchemaFiles(appDir);
  const { engine, close } = await openSchemaEngine(
    url,
    files.map((f) => [f.path, f.content]),
  );
  try {
    const shared = await Promise.all((await linkedPackages(files)).map(loadMigrations));
    const own = await loadMigrations(appDir);
    const migrationsList = {
      ...own,
      migrationDirectories: [...shared.flatMap((m) => m.migrationDirectories), ...own.migrationDirectories],
    };
    const result = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    return result.appliedMigrationNames;
  } finally {
    await close();
  }
}

/** Where `tidings-db diff` keeps the schema that the committed migrations produce. */
export const snapshotPath = (appDir: string) =>
  path.join(appDir, "prisma", "migrations", "schema.snapshot.prisma");

/** An app's schema files that its own migrations cover: all but the linked shared schemas, which their packages migrate. */
export const ownSchemaFiles = (files: SchemaFile[]) => files.filter((f) => !f.linked);

/**
 * The SQL that takes the schema the migrations produced (their snapshot) to the current schema files; empty
 * when they agree. Both sides are datamodels, so no database is described (the wasm engine cannot read
 * Postgres's `"char"` catalog columns through the pg adapter). An app's snapshot leaves the shared schemas out and
 * both sides have the current ones: their changes are their package's migrations (`pnpm db:diff` there), not the
 * app's.
 */
export async function diffSchema(appDir: string, serverUrl: string): Promise<string> {
  const files = await loadSchemaFiles(appDir);
  const own = ownSchemaFiles(files);
  const shared = files.filter((f) => !own.includes(f));
  const snapshot = await readFile(snapshotPath(appDir), "utf8").catch(() => null);
  const admin = new URL(serverUrl);
  admin.pathname = "/postgres";
  const { engine, close } = await openSchemaEngine(
    admin.toString(),
    files.map((f) => [f.path, f.content]),
  );
  try {
    const result = await engine.diff({
      from:
        snapshot === null && shared.length === 0
          ? { tag: "empty" }
          : {
              tag: "schemaDatamodel",
              files: [
                snapshot === null
                  ? PLATFORM_DATASOURCE
                  : { path: "schema.snapshot.prisma", content: snapshot },
                ...shared,
              ],
            },
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    });
    return result.stdout ?? "";
  } finally {
    await close();
  }
}

/** What `tidings-db check` reports: the SQL of the schema files' changes no migration covers, or "" for none. */
export async function uncoveredChanges(appDir: string, serverUrl: string): Promise<string> {
  const sql = await diffSchema(appDir, serverUrl);
  return sql.trim() && !sql.includes("This is an empty migration") ? sql : "";
}

/** The schema files as one snapshot file: generator and datasource blocks once, then every model. */
export function buildSnapshot(files: { path: string; content: string }[]): string {
  return `${files.map((f) => `// ${path.basename(f.path)}\n${f.content.trim()}\n`).join("\n")}`;
}

export async function dropDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  await withAdminClient(url, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  );
}
