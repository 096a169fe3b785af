/**
 * A Seed hub's side of the wire: the calls of `seed-services-client` as the bytes it writes (see ./wire.ts), with a
 * hub's own token at each service, against the platform's real processes.
 */
import { expect } from "vitest";
import type { Platform, ServiceName } from "./platform.ts";
import { type PyParam, type SeedRequest, seedWire, sendRaw, type WireResponse } from "./wire.ts";

/** A decoded JSON body, read field by field as a Python hub reads it. */
// biome-ignore lint/suspicious/noExplicitAny: the hubs read Seed's answers untyped, and so does this replay
export type Decoded = Record<string, any>;

export type Service = "identity" | "subscription" | "message-sender" | "scheduler";

/** Expects a 2xx (or `status`) and decodes the body, as `demands` does. */
export async function ok(res: WireResponse | Promise<WireResponse>, status?: number): Promise<Decoded> {
  const r = await res;
  if (status === undefined) {
    expect(r.status, r.text).toBeLessThan(300);
  } else {
    expect(r.status, r.text).toBe(status);
  }
  return r.text ? r.json() : {};
}

export class SeedClient {
  /** Each service's token of the hub's own API user (issued as a Seed operator would, with POST /user/token/). */
  readonly tokens = {} as Record<ServiceName, string>;
  /** The hub's API user at each service (hooks of user-scoped events are created on its behalf). */
  readonly users = {} as Record<ServiceName, number>;

  constructor(
    private readonly platform: Platform,
    private readonly adminToken: string,
  ) {}

  /** Issues the hub's token at every service. */
  async issueTokens(email: string): Promise<void> {
    for (const service of Object.keys(this.platform.base) as ServiceName[]) {
      const issued = await this.asAdmin(service, "/user/token/", { email });
      this.tokens[service] = issued.token;
      this.users[service] = issued.user;
    }
  }

  /** One call of the Python client: `session.<method>(path, params=..., data=...)` with the hub's token. */
  seed(service: Service, method: SeedRequest["method"], path: string, extra: Partial<SeedRequest> = {}) {
    const origin = this.platform.base[service];
    return sendRaw(
      origin,
      seedWire(origin, "/api/v1", { method, path, token: this.tokens[service], ...extra }),
    );
  }

  get(service: Service, path: string, params?: Record<string, PyParam>) {
    return this.seed(service, "GET", path, { params });
  }

  /**
   * `seed_services_client.utils.get_paginated_response`: yields `results`, then follows `next` after
   * `next.replace(session.url, "")`, so `next` must start with exactly the URL the client was given.
   */
  async paginated(service: Service, path: string, params?: Record<string, PyParam>): Promise<Decoded[]> {
    const sessionUrl = `${this.platform.base[service]}/api/v1`;
    const items: Decoded[] = [];
    let page = await ok(this.get(service, path, params));
    for (;;) {
      items.push(...(page.results ?? []));
      if (!page.next) {
        return items;
      }
      expect(page.next.startsWith(sessionUrl), page.next).toBe(true);
      const next = new URL(page.next.replace(sessionUrl, ""), "http://x");
      page = await ok(
        this.get(service, next.pathname, Object.fromEntries(next.searchParams) as Record<string, PyParam>),
      );
    }
  }

  /**
   * What an operator does once, with the admin token: Tidings lets only admins choose hook targets (a hook makes
   * the service POST inside its network), where Seed let any user register one.
   */
  async asAdmin(service: ServiceName, path: string, body: unknown): Promise<Decoded> {
    const res = await fetch(`${this.platform.base[service]}/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Token ${this.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as Decoded;
  }
}
