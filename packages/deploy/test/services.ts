import { readFileSync } from "node:fs";
import path from "node:path";
import { loadContentConfig } from "../../../apps/content/src/config.ts";
import { loadIdentityConfig } from "../../../apps/identity/src/config.ts";
import { loadMessageSenderConfig } from "../../../apps/message-sender/src/config.ts";
import { loadSchedulerConfig } from "../../../apps/scheduler/src/config.ts";
import { loadSubscriptionConfig } from "../../../apps/subscription/src/config.ts";
import { ROOT } from "./compose.ts";

type Env = Record<string, string | undefined>;

/** Each service's own config loader: what its processes validate their environment with at start-up. */
export const CONFIG_LOADERS: Record<string, (env: Env) => { PORT: number } & Record<string, unknown>> = {
  identity: loadIdentityConfig,
  subscription: loadSubscriptionConfig,
  content: loadContentConfig,
  scheduler: loadSchedulerConfig,
  "message-sender": loadMessageSenderConfig,
};
export const SERVICES = Object.keys(CONFIG_LOADERS);

/** A service's default API port (its config's PORT default); its worker listens on that + 100 (WORKER_HTTP_PORT). */
export const apiPort = (service: string): number =>
  (CONFIG_LOADERS[service] as (env: Env) => { PORT: number })({}).PORT;
export const workerPort = (service: string): number => apiPort(service) + 100;

/**
 * The other services a service calls over HTTP: every `<SERVICE>_URL` its config.ts declares whose prefix names one
 * of the five (message-sender's IDENTITY_URL, subscription's CONTENT_URL and SCHEDULER_URL), read from the source so that a new one
 * is checked as soon as it is added.
 */
export function serviceUrlVars(service: string): { variable: string; target: string }[] {
  const source = readFileSync(path.join(ROOT, "apps", service, "src/config.ts"), "utf8");
  return [...source.matchAll(/^\s+([A-Z][A-Z_]*)_URL:/gm)]
    .map((m) => ({ variable: `${m[1]}_URL`, target: (m[1] as string).toLowerCase().replaceAll("_", "-") }))
    .filter(({ target }) => SERVICES.includes(target));
}

/** The service and role a container or pod runs, from its `scripts/service.sh <service> api|worker` command. */
export function serviceOf(
  command: readonly string[] | undefined,
): { service: string; role: string } | undefined {
  const at = command?.findIndex((part) => part.endsWith("scripts/service.sh")) ?? -1;
  if (!command || at < 0) {
    return undefined;
  }
  return { service: command[at + 1] as string, role: command[at + 2] as string };
}
