/**
 * The console's API access: the operator's token (kept only in sessionStorage: gone when the tab closes) and the
 * typed client of the five services, called through the console's server (`/api/<service>/...`, same origin).
 */
import { createTidingsClient, type SERVICES, type TidingsClient, TidingsError } from "@tidings/client";

const TOKEN_KEY = "tidings.console.token";

export const readToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const saveToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const clearToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

/** The typed client of every service, through the console's server, with `token`. */
export function clientFor(token: string): TidingsClient {
  const endpoint = (service: (typeof SERVICES)[number]) => ({
    url: `${window.location.origin}/api/${service}`,
    token,
  });
  return createTidingsClient({
    identity: endpoint("identity"),
    subscription: endpoint("subscription"),
    content: endpoint("content"),
    scheduler: endpoint("scheduler"),
    messageSender: endpoint("message-sender"),
  });
}

/** What to show for a failed call: the API's own message (and code), or the error's. */
export function errorText(err: unknown): string {
  if (err instanceof TidingsError) {
    const body = err.body as { error?: { code?: string; message?: string } } | undefined;
    return body?.error?.message
      ? `${body.error.message} (${body.error.code ?? err.status})`
      : `The service answered ${err.status}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export { ok, TidingsError } from "@tidings/client";
export type { TidingsClient };
