import type { LightMyRequestResponse } from "fastify";
import type { Api } from "../src/routes.ts";
import { admin, buildTestApi, dbTest, whoamiRoute } from "./support.ts";

/** Two API processes on one (identity) database, as behind a load balancer, each with `GET /whoami`. */
export interface ApiPair {
  apis: [Api, Api];
  /** POST /api/v1/user/token/ as the admin, on the first API. */
  issue(payload: Record<string, unknown>): Promise<LightMyRequestResponse>;
  whoami(token: string, app?: Api): Promise<LightMyRequestResponse>;
  /** How many API users have this email. */
  userCount(email: string): Promise<number | undefined>;
}

/**
 * The `it` of a test file on an API pair: its tests take `{ db, pair }`, both started when a test first asks for
 * them and stopped after the file's last test. `watchRevocations`: give the APIs the database's URL, so they cache
 * tokens and hear revocations.
 */
export function apiPairTest(options: { watchRevocations?: boolean } = {}) {
  return dbTest.extend<{ pair: ApiPair }>({
    pair: [
      async ({ database, db }, use) => {
        const databaseUrl = options.watchRevocations ? database.url : undefined;
        const apis: [Api, Api] = [
          await buildTestApi(db, whoamiRoute, databaseUrl),
          await buildTestApi(db, whoamiRoute, databaseUrl),
        ];
        try {
          await use({
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
          });
        } finally {
          await Promise.all(apis.map((app) => app.close()));
        }
      },
      { scope: "file" },
    ],
  });
}
