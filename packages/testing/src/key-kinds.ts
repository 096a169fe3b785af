import type { Api, KeyKind } from "@tidings/service-kit";
import { expect } from "vitest";
import { expectError } from "./expect-error.ts";
import { adminAuth } from "./service.ts";

/** A request of a test: method, url and, for a POST or PATCH, its JSON body. */
export type TestRequest = readonly [
  method: "GET" | "POST" | "PATCH" | "DELETE",
  url: string,
  payload?: object,
];

/** `request` made to `app` with `headers` (an Authorization header, say). */
export const callAs = (app: Api, headers: object, [method, url, payload]: TestRequest) =>
  app.inject({ method, url, headers: { ...headers }, ...(payload ? { payload } : {}) });

/** A key of `kind` stored straight into the service's token table, as a version that still issued it did. */
async function storedKey(app: Api, email: string, kind: KeyKind, allowList: string[]) {
  const { token } = await app.authenticator.issue(email, {
    kind,
    allowList,
    rateLimit: null,
    dailyLimit: null,
  });
  return { authorization: `Token ${token}` };
}

/**
 * For a service that cannot keep what test and team keys promise (see service-kit's `keyKinds`): its token route
 * refuses to issue them (400 naming `body.kind`, no user made), and a test key and a team key (allowed to send to
 * `allowList`) it holds from before are refused on every request, 403 KEY_KIND_NOT_ALLOWED naming the key's kind.
 */
export async function expectKeyKindsRefused(
  app: Api,
  requests: readonly TestRequest[],
  allowList: string[],
): Promise<void> {
  for (const [kind, extra] of [
    ["test", {}],
    ["team", { allow_list: allowList }],
  ] as const) {
    const email = `refused-${kind}@example.org`;
    const res = await callAs(app, adminAuth, ["POST", "/api/v1/user/token/", { email, kind, ...extra }]);
    expectError(res, 400, "VALIDATION_FAILED");
    expect(res.json().error.details).toEqual([
      { field: "body.kind", message: expect.stringContaining("live keys only") },
    ]);
    const listed = await callAs(app, adminAuth, ["GET", `/api/v1/user/tokens/?email=${email}`]);
    expect(listed.json().count, `no ${kind} key issued`).toBe(0);
  }
  const keys = {
    test: await storedKey(app, "ci@example.org", "test", []),
    team: await storedKey(app, "team@example.org", "team", allowList),
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
