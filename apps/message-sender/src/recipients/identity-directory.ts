import { setTimeout as sleep } from "node:timers/promises";
import { deterministicId } from "@tidings/contracts";
import type { Db } from "../db.ts";
import type { Logger } from "../outbound/channel.ts";
import { identityWithAddress } from "./address-book.ts";

/** Finds or creates the identity that has an address, through the identity service. */
export interface IdentityDirectory {
  ensure(address: string): Promise<string>;
}

/** The address type of an address: email when it has an @, else msisdn. */
export const addressTypeOf = (address: string): "email" | "msisdn" =>
  address.includes("@") ? "email" : "msisdn";

/**
 * The identity service's REST API (IDENTITY_URL, IDENTITY_TOKEN). `ensure` searches for an identity with the
 * address (Seed's `details__addresses__<type>` search) and creates one when there is none. The create carries
 * an `Idempotency-Key` derived from the address, so retries, and concurrent calls for the same new address
 * (from several workers), create one identity: one request executes, the others get 409 while it runs and
 * then the stored response.
 */
export class IdentityClient implements IdentityDirectory {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async ensure(address: string): Promise<string> {
    const type = addressTypeOf(address);
    const search = new URL("/api/v1/identities/search/", this.baseUrl);
    search.searchParams.set(`details__addresses__${type}`, address);
    search.searchParams.set("limit", "1");
    const found = (await this.request("GET", search)) as { results: { id: string }[] };
    if (found.results[0]) {
      return found.results[0].id;
    }
    const body = {
      details: { default_addr_type: type, addresses: { [type]: { [address]: { default: true } } } },
    };
    const key = deterministicId("message-sender", "identity-for-address", type, address);
    for (let attempt = 1; ; attempt++) {
      try {
        return (
          (await this.request("POST", new URL("/api/v1/identities/", this.baseUrl), body, key)) as {
            id: string;
          }
        ).id;
      } catch (err) {
        if (!(err instanceof InProgressError) || attempt >= 20) {
          throw err;
        }
        await sleep(100 * attempt);
      }
    }
  }

  private async request(method: "GET" | "POST", url: URL, body?: object, idempotencyKey?: string) {
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Token ${this.token}`,
        ...(body ? { "content-type": "application/json" } : {}),
        ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
      },
      body: body && JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status === 409) {
      throw new InProgressError();
    }
    if (!res.ok) {
      // The address is left out: it is personal data.
      throw new Error(`identity service: ${method} ${url.pathname} answered ${res.status}`);
    }
    return res.json();
  }
}

/** The same create is running elsewhere (Idempotency-Key in use): wait and ask again. */
class InProgressError extends Error {
  override name = "InProgressError";
}

/** The identity service client when IDENTITY_URL is set; else none (senders stay unlinked). */
export const identityDirectory = (config: {
  IDENTITY_URL?: string;
  IDENTITY_TOKEN?: string;
}): IdentityDirectory | undefined =>
  config.IDENTITY_URL ? new IdentityClient(config.IDENTITY_URL, config.IDENTITY_TOKEN ?? "") : undefined;

/**
 * The identity with this address: the address book's, else the one the identity service finds or creates
 * (when configured). Null when there is none; a failing identity service is logged and gives null, so
 * sending and receiving never wait on it for longer than its timeout.
 */
export async function resolveIdentity(
  db: Db,
  directory: IdentityDirectory | undefined,
  address: string,
  log: Pick<Logger, "warn">,
  /** The address book's answer when the caller already read it (see RecipientCheck). */
  inBook?: string | null,
): Promise<string | null> {
  const known = inBook === undefined ? await identityWithAddress(db, address) : inBook;
  if (known || !directory) {
    return known;
  }
  try {
    return await directory.ensure(address);
  } catch (err) {
    log.warn({ err }, "could not resolve or create the identity of an address; left unlinked");
    return null;
  }
}
