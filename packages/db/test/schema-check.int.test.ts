/**
 * `tidings-db check` over the repository: every package with migrations has one for each change of its schema
 * files (a change without one would reach no database: the services' tables would lack what their Prisma client
 * expects). And the check itself: a schema file changed after the last migration is reported.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_DATABASE_SERVER } from "../src/index.ts";
import { platformDir, uncoveredChanges } from "../src/migrations.ts";

const ROOT = path.resolve(platformDir, "../..");
const SERVER = process.env.TEST_DATABASE_SERVER ?? DEFAULT_DATABASE_SERVER;

/** The folders whose prisma/migrations the services apply. */
async function migratingPackages(): Promise<string[]> {
  const found: string[] = [];
  for (const group of ["apps", "packages"]) {
    for (const name of await readdir(path.join(ROOT, group))) {
      const dir = path.join(ROOT, group, name);
      if (
        (await readdir(path.join(dir, "prisma"), { withFileTypes: true }).catch(() => [])).some(
          (e) => e.name === "migrations",
        )
      ) {
        found.push(dir);
      }
    }
  }
  return found;
}

describe("the schema files and their migrations", () => {
  it("have a migration for every change, in every package that has migrations", async () => {
    const dirs = await migratingPackages();
    expect(dirs.map((d) => path.relative(ROOT, d))).toEqual(
      expect.arrayContaining(["apps/message-sender", "apps/identity", "packages/db", "packages/hooks"]),
    );
    const changes: Record<string, string> = {};
    for (const dir of dirs) {
      changes[path.relative(ROOT, dir)] = await uncoveredChanges(dir, SERVER);
    }
    expect(changes).toEqual(Object.fromEntries(Object.keys(changes).map((d) => [d, ""])));
  });

  it("reports a column added to a schema file without a migration", async () => {
    const copy = await mkdtemp(path.join(tmpdir(), "tidings-schema-check-"));
    try {
      await cp(path.join(ROOT, "packages/hooks/prisma"), path.join(copy, "prisma"), { recursive: true });
      const schema = path.join(copy, "prisma", "hooks.prisma");
      const text = await readFile(schema, "utf8");
      const model = text.indexOf("model ");
      const open = text.indexOf("{", model);
      await writeFile(
        schema,
        `${text.slice(0, open + 1)}\n  addedWithoutMigration String?${text.slice(open + 1)}`,
      );
      expect(await uncoveredChanges(copy, SERVER)).toContain('ADD COLUMN     "addedWithoutMigration"');
    } finally {
      await rm(copy, { recursive: true });
    }
  });
});
