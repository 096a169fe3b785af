/**
 * `@tidings/client`: a typed client for the five Tidings services, one openapi-fetch client per service typed by
 * the types openapi-typescript generates from each service's OpenAPI document (./schema/, kept current by
 * test/documents.int.test.ts).
 *
 * ```ts
 * const tidings = createTidingsClient({ identity: { url: "http://localhost:3001", token } });
 * const identity = await ok(tidings.identity.POST("/api/v1/identities/", { body: { details: {} } }));
 * ```
 */
import createClient, { type Client } from "openapi-fetch";
import type { paths as ContentPaths } from "./schema/content.ts";
import type { paths as IdentityPaths } from "./schema/identity.ts";
import type { paths as MessageSenderPaths } from "./schema/message-sender.ts";
import type { paths as SchedulerPaths } from "./schema/scheduler.ts";
import type { paths as SubscriptionPaths } from "./schema/subscription.ts";

export type { ContentPaths, IdentityPaths, MessageSenderPaths, SchedulerPaths, SubscriptionPaths };

export const SERVICES = ["identity", "subscription", "content", "scheduler", "message-sender"] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Where one service's API is and the key it is called with (`Authorization: Token <token>`). */
export interface ServiceEndpoint {
  /** The API's origin, e.g. `http://localhost:3001`. */
  url: string;
  /** An API key (or the ADMIN_TOKEN); without one only the public routes answer. */
  token?: string;
  /** Headers sent with every request (besides Authorization). */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

export interface TidingsClient {
  identity: Client<IdentityPaths>;
  subscription: Client<SubscriptionPaths>;
  content: Client<ContentPaths>;
  scheduler: Client<SchedulerPaths>;
  messageSender: Client<MessageSenderPaths>;
}

export type TidingsClientConfig = { [K in keyof TidingsClient]: ServiceEndpoint };

/** The client property of each service. */
export const CLIENT_KEYS: Record<ServiceName, keyof TidingsClient> = {
  identity: "identity",
  subscription: "subscription",
  content: "content",
  scheduler: "scheduler",
  "message-sender": "messageSender",
};

function serviceClient<P extends {}>(endpoint: ServiceEndpoint): Client<P> {
  return createClient<P>({
    baseUrl: endpoint.url.replace(/\/+$/, ""),
    headers: {
      ...endpoint.headers,
      ...(endpoint.token ? { authorization: `Token ${endpoint.token}` } : {}),
    },
    // The free-form filters (identity search) are `?name=value`, as the documents describe them.
    querySerializer: { object: { style: "form", explode: true } },
    ...(endpoint.fetch ? { fetch: endpoint.fetch } : {}),
  });
}

/**
 * One object for the services it is given: `createTidingsClient({identity: {url, token}, messageSender: {...}})`
 * has typed `identity` and `messageSender` clients (openapi-fetch: `GET`, `POST`, `PUT`, `PATCH`, `DELETE` by path).
 */
export function createTidingsClient<K extends keyof TidingsClient>(
  config: Pick<TidingsClientConfig, K>,
): Pick<TidingsClient, K> {
  const endpoints = config as Partial<TidingsClientConfig>;
  const client: Partial<Record<keyof TidingsClient, unknown>> = {};
  for (const key of Object.keys(endpoints) as (keyof TidingsClient)[]) {
    const endpoint = endpoints[key];
    if (endpoint) {
      client[key] = serviceClient(endpoint);
    }
  }
  return client as Pick<TidingsClient, K>;
}

/** The one error shape every service answers with. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

/** A request answered with an error status: its status, and the error the service gave. */
export class TidingsError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const error = (body as Partial<ErrorBody> | undefined)?.error;
    super(error ? `${status} ${error.code}: ${error.message}` : `HTTP ${status}`);
    this.name = "TidingsError";
  }

  /** The service's error code (`VALIDATION_FAILED`, `IDENTITY_NOT_FOUND`, ...), when it gave one. */
  get code(): string | undefined {
    return (this.body as Partial<ErrorBody> | undefined)?.error?.code;
  }
}

/** The data of a successful call, or a `TidingsError` thrown for an error status. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  const { data, error, response } = await call;
  if (!response.ok) {
    throw new TidingsError(response.status, error);
  }
  return data as NonNullable<T>;
}
