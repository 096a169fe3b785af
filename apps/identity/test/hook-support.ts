import type { IncomingHttpHeaders } from "node:http";
import { type ReceivedRequest, serviceTest } from "@tidings/testing";
import { Webhook } from "standardwebhooks";
import { identityService } from "../src/service.ts";
import { type Svc, send } from "./helpers.ts";

export interface HookFixtures {
  /** serviceTest's: the receiver answers as `failuresLeft` says. */
  answer: (request: ReceivedRequest) => number;
  /** How many more requests to a path the receiver answers 500 (a path under /down always gets 500). */
  failuresLeft: Map<string, number>;
  /** The receiver's origin, where test hooks point. */
  base: string;
  /** The requests the receiver got on `path`. */
  at(path: string): ReceivedRequest[];
}

/**
 * The `it` of a hook test file: identity with its worker delivering hooks quickly (3 attempts, 100 ms backoff),
 * its tests taking `{ svc, receiver, failuresLeft, base, at }`; the receiver fails as `failuresLeft` says.
 */
export const hooksTest = serviceTest(identityService, {
  worker: true,
  env: {
    HOOK_AUTH_TOKEN: "hook-token-123",
    HOOK_MAX_ATTEMPTS: "3",
    HOOK_RETRY_BASE_MS: "100",
    HOOK_POLL_INTERVAL_MS: "20",
  },
}).extend<HookFixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  failuresLeft: [async ({}, use) => use(new Map()), { scope: "file" }],
  answer: [
    async ({ failuresLeft }, use) =>
      use(({ path }) => {
        const left = failuresLeft.get(path) ?? 0;
        if (path.startsWith("/down") || left > 0) {
          failuresLeft.set(path, left - 1);
          return 500;
        }
        return 200;
      }),
    { scope: "file" },
  ],
  base: [async ({ receiver }, use) => use(receiver.url), { scope: "file" }],
  at: [
    async ({ receiver }, use) => use((path) => receiver.received.filter((r) => r.path === path)),
    { scope: "file" },
  ],
});

/** What a receiver using the `standardwebhooks` package does with a delivery: the parsed body, or a throw. */
export const verify = (secret: string, request: { headers: IncomingHttpHeaders; body: string }) =>
  new Webhook(secret).verify(request.body, request.headers as Record<string, string>);

export async function userToken(svc: Svc, email: string) {
  const res = await send(svc, "POST", "/api/v1/user/token/", { email });
  return { authorization: `Token ${res.json().token}` };
}

/** Hooks are created and changed by admins only: an API user marked `is_admin`. */
export async function adminUserToken(svc: Svc, email: string) {
  const headers = await userToken(svc, email);
  await svc.db.$executeRawUnsafe("UPDATE tidings_api_user SET is_admin = true WHERE email = $1", email);
  return headers;
}

export const hookCount = async (svc: Svc) =>
  (await svc.db.$queryRawUnsafe<{ n: number }[]>("SELECT count(*)::int AS n FROM tidings_hook"))[0]?.n;

/** POST /api/v1/webhook/ as the admin: the created hook (with its secret). */
export const createHook = async (svc: Svc, event: string, target: string) =>
  (await send(svc, "POST", "/api/v1/webhook/", { event, target })).json();
