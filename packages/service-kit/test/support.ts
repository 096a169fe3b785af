import { type TestDatabase, testDatabase, testLogger } from "@tidings/testing";
import { test } from "vitest";
import { createDb, type Db } from "../../../apps/identity/src/db.ts";
import { buildApi } from "../src/app.ts";
import type { Api } from "../src/routes.ts";

export const ADMIN = "admin-token-0123456789";
export const admin = { authorization: `Token ${ADMIN}` };

/** An API on `db` as the identity service builds it, with the admin token `ADMIN` and the test's `routes`. */
export const buildTestApi = (db: Db, routes: (api: Api) => void, databaseUrl?: string) =>
  buildApi(
    { service: "identity", version: "test", logger: testLogger(), db, adminToken: ADMIN, databaseUrl },
    routes,
  );

/** `GET /whoami`, answering the request's principal. */
export const whoamiRoute = (api: Api) => {
  api.get("/whoami", async (request) => request.principal);
};

export interface DbFixtures {
  /** An identity database of the file's own, dropped after its last test. */
  database: TestDatabase;
  /** A client of `database`. */
  db: Db;
}

/** The `it` of a test file on an identity database (the API users and tokens tables): its tests take `{ db }`. */
export const dbTest = test.extend<DbFixtures>({
  database: testDatabase("identity"),
  db: [
    async ({ database }, use) => {
      const db = createDb(database.url);
      try {
        await use(db);
      } finally {
        await db.$disconnect();
      }
    },
    { scope: "file" },
  ],
});
