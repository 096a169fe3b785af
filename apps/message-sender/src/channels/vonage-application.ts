import { Vonage } from "@vonage/server-sdk";
import { PermanentSendError, ThrottledError, unanswered } from "../outbound/channel.ts";
import { VONAGE_THROTTLE_PAUSE_MS } from "./vonage/adapter.ts";

// What the channels of a Vonage application (vonage-voice, vonage-whatsapp) share: the SDK client, authenticated
// by the application's JWT, and how an API's refusal is read.

/** A Vonage application's credentials and API origin, as its channels' configurations hold them. */
export interface VonageApplicationConfig {
  application_id: string;
  private_key: string;
  /** Another origin for the API (a simulator). Default https://api.nexmo.com. */
  api_url?: string;
}

/** `@vonage/server-sdk` signing each request's JWT with the application's key; `apiHost` points it elsewhere. */
export const vonageApplicationClient = (config: VonageApplicationConfig, timeoutMs: number) =>
  new Vonage(
    { applicationId: config.application_id, privateKey: config.private_key },
    { ...(config.api_url ? { apiHost: config.api_url.replace(/\/+$/, "") } : {}), timeout: timeoutMs },
  );

interface VetchError {
  response?: { status?: number; statusText?: string };
}

/**
 * An application API's error as the send's failure: 429 is ThrottledError; another 4xx but 401 and 403 a definite
 * rejection; a timeout or broken connection NoAnswerError; anything else (5xx, bad credentials) is retried.
 */
export function vonageRefusal(err: unknown, api: string, timeoutMs: number): unknown {
  const status = (err as VetchError).response?.status;
  const reason = `${api} ${status}: ${(err as VetchError).response?.statusText ?? "refused"}`;
  if (status === 429) {
    return new ThrottledError(reason, VONAGE_THROTTLE_PAUSE_MS);
  }
  if (typeof status === "number" && status >= 400 && status < 500 && status !== 401 && status !== 403) {
    return new PermanentSendError(reason, status);
  }
  return unanswered(err, "vonage", timeoutMs);
}
