import type { Lookup, Principal, UrlPolicy } from "@tidings/service-kit";
import { endpointNotAllowed } from "./errors.ts";

/** Which HTTP endpoints a schedule saved by a non-admin token may have (SCHEDULER_HTTP_ALLOWED_HOSTS). */
export interface EndpointGuard {
  policy: UrlPolicy;
  /** Name resolution for the checks and the connections (default `dns.lookup`); tests replace it. */
  lookup?: Lookup;
}

/**
 * A non-admin may save a schedule with an endpoint only when the policy allows it: a listed host, resolving
 * only to public (or explicitly listed) addresses now. 403 otherwise; admins are not limited.
 */
export async function assertEndpointAllowed(
  guard: EndpointGuard,
  endpoint: string | null,
  actor: Pick<Principal, "isAdmin">,
): Promise<void> {
  if (actor.isAdmin || endpoint === null) {
    return;
  }
  const problem = await guard.policy.problem(endpoint, guard.lookup);
  if (problem) {
    throw endpointNotAllowed(problem);
  }
}

/**
 * An endpoint's origin (scheme, host and port, as `URL` normalises them); null for no endpoint. A schedule's
 * `auth_token` was given for its endpoint's origin and is only ever sent there.
 */
export function originOf(endpoint: string | null): string | null {
  if (endpoint === null) {
    return null;
  }
  try {
    return new URL(endpoint).origin;
  } catch {
    return `unparsable:${endpoint}`;
  }
}
