import { createHash } from "node:crypto";
import type { SqlExecutor } from "@tidings/amqp";
import { afterEach, describe, expect, it, vi } from "vitest";
import { digestToken, TokenAuthenticator, tokenFromHeader } from "./auth.ts";
import { ApiError } from "./errors.ts";

const ADMIN = "admin-token-0123456789";

/** Counts look-ups; every token in `users` resolves to that user. */
function fakeDb(users: Record<string, { id: number; is_admin: boolean }> = {}) {
  const lookups: unknown[][] = [];
  const db: SqlExecutor = {
    async $queryRawUnsafe<T>(_query: string, ...values: unknown[]) {
      lookups.push(values);
      const entry = Object.entries(users).find(([token]) => digestToken(token) === values[0]);
      return (entry ? [entry[1]] : []) as T;
    },
    async $executeRawUnsafe() {
      return 1;
    },
  };
  return { db, lookups };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("tokenFromHeader", () => {
  it.each([
    ["Token abc", "abc"],
    ["Bearer abc", "abc"],
    ["bearer abc", "abc"],
    ["Token   abc  ", "abc"],
  ])("reads %j", (header, token) => {
    expect(tokenFromHeader(header)).toBe(token);
  });

  it.each([undefined, "", "abc", "Basic abc", "Token", "Token ", "Token a b", "TokenX abc"])(
    "finds no token in %j",
    (header) => {
      expect(tokenFromHeader(header)).toBeUndefined();
    },
  );
});

describe("digestToken", () => {
  it("is the hex SHA-256 of the token", () => {
    expect(digestToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(digestToken("tdg_x")).toBe(createHash("sha256").update("tdg_x").digest("hex"));
  });
});

describe("TokenAuthenticator", () => {
  it("accepts the admin token without asking the database", async () => {
    const { db, lookups } = fakeDb();
    const auth = new TokenAuthenticator(db, ADMIN);
    expect(await auth.authenticate(`Token ${ADMIN}`)).toEqual({
      userId: null,
      isAdmin: true,
      keyKind: "live",
      allowList: [],
    });
    expect(lookups).toEqual([]);
  });

  it("looks a user's token up by its digest, never by the token itself", async () => {
    const { db, lookups } = fakeDb({ "user-token": { id: 7, is_admin: false } });
    const auth = new TokenAuthenticator(db, ADMIN);
    expect(await auth.authenticate("Bearer user-token")).toEqual({
      userId: 7,
      isAdmin: false,
      keyKind: "live",
      allowList: [],
    });
    expect(lookups).toEqual([[digestToken("user-token")]]);
  });

  it("rejects a missing header with UNAUTHENTICATED and an unknown token with INVALID_TOKEN", async () => {
    const { db } = fakeDb();
    const auth = new TokenAuthenticator(db, ADMIN);
    expect(await rejection(auth.authenticate(undefined))).toMatchObject({
      statusCode: 401,
      code: "UNAUTHENTICATED",
    });
    expect(await rejection(auth.authenticate("Token nope"))).toMatchObject({
      statusCode: 401,
      code: "INVALID_TOKEN",
    });
  });

  it("does not cache a rejection: a token that appears later works", async () => {
    const users: Record<string, { id: number; is_admin: boolean }> = {};
    const auth = new TokenAuthenticator(fakeDb(users).db, undefined);
    await rejection(auth.authenticate("Token later"));
    users.later = { id: 3, is_admin: false };
    expect(await auth.authenticate("Token later")).toEqual({
      userId: 3,
      isAdmin: false,
      keyKind: "live",
      allowList: [],
    });
  });

  it("caches a positive look-up for a minute", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const users: Record<string, { id: number; is_admin: boolean }> = { cached: { id: 1, is_admin: false } };
    const { db, lookups } = fakeDb(users);
    const auth = new TokenAuthenticator(db, undefined);
    await auth.authenticate("Token cached");
    vi.advanceTimersByTime(59_000);
    expect(await auth.authenticate("Token cached")).toEqual({
      userId: 1,
      isAdmin: false,
      keyKind: "live",
      allowList: [],
    });
    expect(lookups).toHaveLength(1);

    delete users.cached; // revoked
    vi.advanceTimersByTime(2_000);
    expect(await rejection(auth.authenticate("Token cached"))).toMatchObject({ code: "INVALID_TOKEN" });
    expect(lookups).toHaveLength(2);
  });
});
