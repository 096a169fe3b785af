import type { Api } from "@tidings/service-kit";
import { expect } from "vitest";
import { expectError } from "./expect-error.ts";
import { userAuth } from "./service.ts";

/** A request of a test: method, url and, for a POST or PATCH, its JSON body. */
export type TestRequest = readonly [
  method: "GET" | "POST" | "PATCH" | "DELETE",
  url: string,
  payload?: object,
];

/** `request` made to `app` with `headers` (an Authorization header, say). */
export const callAs = (app: Api, headers: object, [method, url, payload]: TestRequest) =>
  app.inject({ method, url, headers: { ...headers }, ...(payload ? { payload } : {}) });

/**
 * Makes every request with a new test key and a new team key (allowed to send to `allowList`) of the service's, and
 * expects each refused with 403 KEY_KIND_NOT_ALLOWED naming the key's kind: a service that cannot keep what those
 * keys promise (see service-kit's `keyKinds`).
 */
export async function expectKeyKindsRefused(
  app: Api,
  requests: readonly TestRequest[],
  allowList: string[],
): Promise<void> {
  const keys = {
    test: await userAuth(app, "ci@example.org", { kind: "test" }),
    team: await userAuth(app, "team@example.org", { kind: "team", allow_list: allowList }),
  };
  for (const [kind, key] of Object.entries(keys)) {
    for (const request of requests) {
      const res = await callAs(app, key, request);
      expectError(res, 403, "KEY_KIND_NOT_ALLOWED");
      expect(res.json().error.message, `${kind} ${request[0]} ${request[1]}`).toContain(
        `A ${kind} key cannot be used here`,
      );
    }
  }
}
