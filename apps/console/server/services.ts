import type { ServiceName } from "@tidings/client";

/** The services behind `/api/<service>/`, in the order of their default ports (3001-3005). */
export const SERVICE_NAMES = [
  "identity",
  "subscription",
  "content",
  "scheduler",
  "message-sender",
] as const satisfies readonly ServiceName[];

export type ServiceUrls = Record<ServiceName, string>;

/** The service URLs from the environment (`IDENTITY_URL`, ..., `MESSAGE_SENDER_URL`; default ports 3001-3005). */
export function serviceUrlsFromEnv(env: NodeJS.ProcessEnv): ServiceUrls {
  return Object.fromEntries(
    SERVICE_NAMES.map((service, i) => [
      service,
      env[`${service.toUpperCase().replace("-", "_")}_URL`] ?? `http://127.0.0.1:${3001 + i}`,
    ]),
  ) as ServiceUrls;
}
