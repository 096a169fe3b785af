import { ApiError, type Lookup, type Principal, type UrlPolicy } from "@tidings/service-kit";

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
    throw new ApiError(
      403,
      "SCHEDULER_ENDPOINT_NOT_ALLOWED",
      `This token may only use endpoints allowed by SCHEDULER_HTTP_ALLOWED_HOSTS: ${problem}`,
      [{ field: "body.endpoint", message: problem }],
    );
  }
}
