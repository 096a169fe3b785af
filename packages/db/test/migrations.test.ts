import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadMigrations, semicolonsInComments } from "../src/migrations.ts";

/** An app folder holding one migration with this SQL. */
async function appWith(sql: string): Promise<string> {
  const app = await mkdtemp(path.join(tmpdir(), "tidings-migrations-"));
  const dir = path.join(app, "prisma", "migrations", "20260101000000_example");
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "migration.sql"), sql);
  return app;
}

describe("a migration's comments", () => {
  it("may not hold a semicolon: the engine would run the rest of the comment as SQL", async () => {
    const sql =
      "-- Reads the submitted ones; nothing else.\nCREATE INDEX i ON t (a);\n  -- ok: no semicolon\n";
    expect(semicolonsInComments(sql)).toEqual([1]);
    const app = await appWith(sql);
    try {
      await expect(loadMigrations(app)).rejects.toThrow(
        "20260101000000_example/migration.sql: a semicolon in the comment on line 1",
      );
    } finally {
      await rm(app, { recursive: true });
    }
  });

  it("loads a migration whose semicolons end statements, or sit in strings", async () => {
    const sql = "-- Comments without one.\nCREATE INDEX i ON t (a);\nSELECT ';';\n";
    expect(semicolonsInComments(sql)).toEqual([]);
    const app = await appWith(sql);
    try {
      const { migrationDirectories } = await loadMigrations(app);
      expect(migrationDirectories.map((d) => d.path)).toEqual(["20260101000000_example"]);
    } finally {
      await rm(app, { recursive: true });
    }
  });
});
