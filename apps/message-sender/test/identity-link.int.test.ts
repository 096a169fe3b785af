import type { AddressInfo } from "node:net";
import { adminAuth, startTestService, TEST_ADMIN_TOKEN, type TestService, waitFor } from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The real identity service (its API and worker) in this test's namespace: message-sender talks to it over
// HTTP, and its identity.created events feed message-sender's address book.
import { identityService } from "../../identity/src/service.ts";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";

const startIdentity = () => startTestService(identityService, { worker: true });
let identity: Awaited<ReturnType<typeof startIdentity>>;
let svc: TestService<MessageSenderConfig, Db>;

beforeAll(async () => {
  identity = await startIdentity();
  await identity.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = identity.app.server.address() as AddressInfo;
  svc = await startTestService(createMessageSenderService(), {
    worker: true,
    namespace: identity.namespace,
    env: { IDENTITY_URL: `http://127.0.0.1:${port}`, IDENTITY_TOKEN: TEST_ADMIN_TOKEN },
  });
});
afterAll(async () => {
  await svc?.close();
  await identity?.close();
});

const call = (method: "GET" | "POST", url: string, payload?: object) =>
  svc.app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) });

/** The identities the identity service has with this msisdn. */
const identitiesWith = async (address: string) => {
  const res = await identity.app.inject({
    method: "GET",
    url: `/api/v1/identities/search/?details__addresses__msisdn=${encodeURIComponent(address)}`,
    headers: adminAuth,
  });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().results as { id: string }[]).map((i) => i.id);
};

const delivered = (id: string) =>
  waitFor(
    async () => {
      const outbound = (await call("GET", `/api/v1/outbound/${id}/`)).json();
      return outbound.status === "delivered" && outbound;
    },
    { what: `outbound ${id} delivered`, timeoutMs: 30_000 },
  );

describe("to_addr alone resolves or creates the identity", () => {
  it("creates one identity for a new address, however many sends race for it", async () => {
    const to = msisdn();
    const ids = await Promise.all(
      [1, 2, 3].map(async () => {
        const res = await call("POST", "/api/v1/outbound/", { to_addr: to, content: "hi", metadata: {} });
        expect(res.statusCode).toBe(201);
        return res.json().id as string;
      }),
    );
    const outbounds = await Promise.all(ids.map(delivered));
    const created = await identitiesWith(to);
    expect(created).toHaveLength(1);
    expect(outbounds.map((o) => o.to_identity)).toEqual([created[0], created[0], created[0]]);
  });

  it("links an address the identity service already knows to that identity", async () => {
    const to = msisdn();
    const res = await identity.app.inject({
      method: "POST",
      url: "/api/v1/identities/",
      headers: adminAuth,
      payload: {
        details: { default_addr_type: "msisdn", addresses: { msisdn: { [to]: { default: true } } } },
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const existing = res.json().id as string;
    const sent = await call("POST", "/api/v1/outbound/", { to_addr: to, content: "hi", metadata: {} });
    expect((await delivered(sent.json().id)).to_identity).toBe(existing);
    expect(await identitiesWith(to)).toEqual([existing]);
  });
});

describe("inbound from an unknown sender", () => {
  it("creates the sender's identity and stores the message against it", async () => {
    const from = msisdn();
    const first = await call("POST", "/api/v1/inbound/", {
      from_addr: from,
      content: "hello",
      message_id: "m1",
    });
    expect(first.statusCode, first.body).toBe(201);
    const [created] = await identitiesWith(from);
    expect(created).toBeDefined();
    expect(first.json()).toMatchObject({ from_identity: created, from_addr: "" });
    const second = await call("POST", "/api/v1/inbound/", {
      from_addr: from,
      content: "again",
      message_id: "m2",
    });
    expect(second.json().from_identity).toBe(created);
    expect(await identitiesWith(from)).toEqual([created]);
  });
});
