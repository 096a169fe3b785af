#!/usr/bin/env tsx
/**
 * tidings-db: Prisma migrations without Prisma's native engine, run from an app's folder (`diff` also from this
 * package's, for the platform tables every app has, and from packages/hooks', for the hook tables).
 *   migrate            create the service's database if missing and apply pending migrations
 *   diff <name>        write prisma/migrations/<timestamp>_<name>/migration.sql for schema changes
 *   check              fail when the schema has changes no migration covers
 *   generate           prisma generate (the native engine is never run for it, but must appear to exist)
 */
import { spawnSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  applyMigrations,
  buildSnapshot,
  loadSchemaFiles,
  ownSchemaFiles,
  snapshotPath,
  uncoveredChanges,
} from "./migrations.ts";
import { databaseUrlFor } from "./service-db.ts";

const appDir = process.cwd();
const pkg = JSON.parse(await readFile(path.join(appDir, "package.json"), "utf8")) as { name: string };
const service = pkg.name.replace(/^@tidings\//, "");
const url = databaseUrlFor(service);
const [command, name] = process.argv.slice(2);

const timestamp = () => new Date().toISOString().replace(/\D/g, "").slice(0, 14);

switch (command) {
  case "migrate": {
    const applied = await applyMigrations(appDir, url);
    process.stdout.write(`${service}: ${applied.length ? `applied ${applied.join(", ")}` : "up to date"}\n`);
    break;
  }
  case "diff": {
    if (!name || !/^[a-z0-9_]+$/.test(name)) {
      throw new Error("usage: tidings-db diff <name> (lower-case letters, digits and _)");
    }
    const sql = await uncoveredChanges(appDir, url);
    if (!sql) {
      process.stdout.write(`${service}: no schema changes\n`);
      break;
    }
    const dir = path.join(appDir, "prisma", "migrations", `${timestamp()}_${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "migration.sql"), sql);
    await writeFile(
      path.join(appDir, "prisma", "migrations", "migration_lock.toml"),
      'provider = "postgresql"\n',
    );
    await writeFile(snapshotPath(appDir), buildSnapshot(ownSchemaFiles(await loadSchemaFiles(appDir))));
    process.stdout.write(`${service}: wrote ${path.relative(appDir, dir)}/migration.sql\n`);
    break;
  }
  case "check": {
    const sql = await uncoveredChanges(appDir, url);
    if (sql) {
      process.stderr.write(`${service}: the schema has changes no migration covers:\n${sql}\n`);
      process.exit(1);
    }
    break;
  }
  case "generate": {
    const result = spawnSync("prisma", ["generate"], {
      stdio: "inherit",
      env: { PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: "1", ...process.env },
    });
    process.exit(result.status ?? 1);
    break;
  }
  default:
    throw new Error(`unknown command ${command ?? ""}: use migrate, diff <name> or check`);
}
