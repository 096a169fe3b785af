import { createTestDatabase, type TestDatabase, testLogger } from "@tidings/testing";
import type { LightMyRequestResponse } from "fastify";
import { createDb, type Db } from "../../../apps/identity/src/db.ts";
import { buildApi } from "../src/app.ts";
import type { Api } from "../src/routes.ts";

export const ADMIN = "admin-token-0123456789";
export const admin = { authorization: `Token ${ADMIN}` };

/** Two API processes on one (identity) database, as behind a load balancer, each with `GET /whoami`. */
export interface ApiPair {
  database: TestDatabase;
  db: Db;
  apis: [Api, Api];
  /** POST /api/v1/user/token/ as the admin, on the first API. */
  issue(payload: Record<string, unknown>): Promise<LightMyRequestResponse>;
  whoami(token: string, app?: Api): Promise<LightMyRequestResponse>;
  /** How many API users have this email. */
  userCount(email: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/** `watchRevocations`: give the APIs the database's URL, so they cache tokens and hear revocations. */
export async function startApiPair(options: { watchRevocations?: boolean } = {}): Promise<ApiPair> {
  const database = await createTestDatabase("identity");
  const db = createDb(database.url);
  const databaseUrl = options.watchRevocations ? database.url : undefined;
  const buildOne = () =>
    buildApi(
      { service: "identity", version: "test", logger: testLogger(), db, adminToken: ADMIN, databaseUrl },
      (api) => {
        api.get("/whoami", async (request) => request.principal);
      },
    );
  const apis: [Api, Api] = [await buildOne(), await buildOne()];
  return {
    database,
    db,
    apis,
    issue: (payload) =>
      apis[0].inject({ method: "POST", url: "/api/v1/user/token/", headers: admin, payload }),
    whoami: (token, app = apis[0]) =>
      app.inject({ url: "/whoami", headers: { authorization: `Token ${token}` } }),
    userCount: async (email) =>
      (
        await db.$queryRawUnsafe<{ n: number }[]>(
          "SELECT count(*)::int AS n FROM tidings_api_user WHERE email = $1",
          email,
        )
      )[0]?.n,
    async close() {
      await Promise.all(apis.map((app) => app.close()));
      await db.$disconnect();
      await database.drop();
    },
  };
}
