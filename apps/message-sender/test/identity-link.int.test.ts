import type { AddressInfo } from "node:net";
import {
  adminAuth,
  closeAfter,
  startTestService,
  TEST_ADMIN_TOKEN,
  type TestService,
} from "@tidings/testing";
import { describe, expect, test } from "vitest";
import type { IdentityConfig } from "../../identity/src/config.ts";
import type { Db as IdentityDb } from "../../identity/src/db.ts";
// The real identity service (its API and worker) in this test's namespace: message-sender talks to it over
// HTTP, and its identity.created events feed message-sender's address book.
import { identityService } from "../../identity/src/service.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";
import { call, closedAfterFile, type Svc, waitForStatus } from "./support.ts";

type Identity = TestService<IdentityConfig, IdentityDb>;

const it = test.extend<{ identity: Identity; svc: Svc }>({
  identity: closedAfterFile(async () => {
    const identity = await startTestService(identityService, { worker: true });
    await identity.app.listen({ port: 0, host: "127.0.0.1" });
    return identity;
  }),
  /** Message-sender in the identity service's namespace, calling its API. */
  svc: [
    async ({ identity }, use) => {
      const { port } = identity.app.server.address() as AddressInfo;
      await closeAfter(
        await startTestService(createMessageSenderService(), {
          worker: true,
          namespace: identity.namespace,
          env: { IDENTITY_URL: `http://127.0.0.1:${port}`, IDENTITY_TOKEN: TEST_ADMIN_TOKEN },
        }),
        use,
      );
    },
    { scope: "file" },
  ],
});

/** The identities the identity service has with this msisdn. */
const identitiesWith = async (identity: Identity, address: string) => {
  const res = await identity.app.inject({
    method: "GET",
    url: `/api/v1/identities/search/?details__addresses__msisdn=${encodeURIComponent(address)}`,
    headers: adminAuth,
  });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().results as { id: string }[]).map((i) => i.id);
};

describe("to_addr alone resolves or creates the identity", () => {
  it("creates one identity for a new address, however many sends race for it", async ({ svc, identity }) => {
    const to = msisdn();
    const ids = await Promise.all(
      [1, 2, 3].map(async () => {
        const res = await call(svc, "POST", "/api/v1/outbound/", {
          to_addr: to,
          content: "hi",
          metadata: {},
        });
        expect(res.statusCode).toBe(201);
        return res.json().id as string;
      }),
    );
    const outbounds = await Promise.all(ids.map((id) => waitForStatus(svc, id, "delivered", 30_000)));
    const created = await identitiesWith(identity, to);
    expect(created).toHaveLength(1);
    expect(outbounds.map((o) => o.to_identity)).toEqual([created[0], created[0], created[0]]);
  });

  it("links an address the identity service already knows to that identity", async ({ svc, identity }) => {
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
    const sent = await call(svc, "POST", "/api/v1/outbound/", { to_addr: to, content: "hi", metadata: {} });
    expect((await waitForStatus(svc, sent.json().id, "delivered", 30_000)).to_identity).toBe(existing);
    expect(await identitiesWith(identity, to)).toEqual([existing]);
  });
});

describe("inbound from an unknown sender", () => {
  it("creates the sender's identity and stores the message against it", async ({ svc, identity }) => {
    const from = msisdn();
    const first = await call(svc, "POST", "/api/v1/inbound/", {
      from_addr: from,
      content: "hello",
      message_id: "m1",
    });
    expect(first.statusCode, first.body).toBe(201);
    const [created] = await identitiesWith(identity, from);
    expect(created).toBeDefined();
    expect(first.json()).toMatchObject({ from_identity: created, from_addr: "" });
    const second = await call(svc, "POST", "/api/v1/inbound/", {
      from_addr: from,
      content: "again",
      message_id: "m2",
    });
    expect(second.json().from_identity).toBe(created);
    expect(await identitiesWith(identity, from)).toEqual([created]);
  });
});
