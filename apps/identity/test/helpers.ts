import { adminAuth, type TestService } from "@tidings/testing";
import type { IdentityConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";

export type Svc = TestService<IdentityConfig, Db>;

let counter = 0;
/** A valid South African mobile number unique within a test run (distinct per file via `base`). */
export const msisdn = (base: number) => `+278${String(base * 1000 + ++counter).padStart(8, "0")}`;

/** An address as identity's events list it: `type` and `address`, each flag false unless `flags` says otherwise. */
export const eventAddress = (
  type: string,
  address: string,
  flags: Partial<Record<"default" | "optedout" | "inactive" | "verified", boolean>> = {},
) => ({ type, address, default: false, optedout: false, inactive: false, verified: false, ...flags });

/** POST /api/v1/identities/ (as the admin unless `headers` say otherwise), the response. */
export const postIdentity = (svc: Svc, body: object, headers: Record<string, string> = adminAuth) =>
  svc.app.inject({ method: "POST", url: "/api/v1/identities/", headers, payload: body });

export async function create(
  svc: Svc,
  body: Record<string, unknown>,
  headers: Record<string, string> = adminAuth,
) {
  const res = await postIdentity(svc, body, headers);
  if (res.statusCode !== 201) {
    throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  }
  return res.json();
}

export const get = (svc: Svc, url: string) => svc.app.inject({ url, headers: adminAuth });
export const send = (svc: Svc, method: "POST" | "PUT" | "PATCH" | "DELETE", url: string, payload?: unknown) =>
  svc.app.inject({
    method,
    url,
    headers: adminAuth,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
