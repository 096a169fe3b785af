import type { IdentityAddress } from "@tidings/contracts";
import { type TestService, waitFor } from "@tidings/testing";
import type { SubscriptionConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";

export const UNSUBSCRIBE_SECRET = "topics-test-unsubscribe-secret-0123456789abcdef";

let n = 0;
export const address = (
  type: string,
  address: string,
  flags: Partial<IdentityAddress> = {},
): IdentityAddress => ({
  type,
  address,
  default: true,
  optedout: false,
  inactive: false,
  verified: true,
  ...flags,
});

/** An identity as identity's events carry it (version 1, created when last updated, at `at`, unless told). */
export const identityEvent = (
  id: string,
  details: Record<string, unknown>,
  addresses: IdentityAddress[],
  at: string,
  { version = 1, createdAt = at }: { version?: number; createdAt?: string } = {},
) => ({
  id,
  version,
  details,
  communicate_through: null,
  operator: null,
  created_at: createdAt,
  created_by: null,
  updated_at: at,
  updated_by: null,
  addresses,
});

/** Announces an identity as the identity service would (identity.created) and waits for the local copy. */
export async function announceIdentity(
  svc: TestService<SubscriptionConfig, Db>,
  id: string,
  details: Record<string, unknown>,
  addresses: IdentityAddress[],
  at = new Date(Date.UTC(2026, 0, 1, 0, 0, ++n)).toISOString(),
): Promise<void> {
  await svc.broker.publish("identity.created", identityEvent(id, details, addresses, at));
  await waitFor(
    async () => {
      const copy = await svc.db.identityCopy.findUnique({ where: { id } });
      return copy && copy.identityUpdatedAt.toISOString() === at;
    },
    { timeoutMs: 30_000, what: `identity ${id} in the local copy` },
  );
}

/** The unsubscribe token of the link in a sent message's `content`. */
export const tokenIn = (content: string | null | undefined) =>
  /\/unsubscribe\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(content ?? "")?.[1] as string;
