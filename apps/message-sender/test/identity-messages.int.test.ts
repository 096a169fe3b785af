import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import {
  type Caller,
  call,
  helpdeskTest,
  type Svc,
  send,
  TEAM_ALLOWED,
  tomorrow,
} from "./helpdesk-fixtures.ts";
import { address, identityEvent, msisdn, outboundReaching } from "./helpers.ts";

// GET /api/v1/identities/{identity_id}/messages/: a person's outbounds and inbounds in one list, newest first.
const it = helpdeskTest().extend<{
  person: { id: string; addr: string };
  other: { id: string; addr: string };
}>({
  person: [async ({ svc }, use) => use(await inBook(svc, TEAM_ALLOWED.to_identity)), { scope: "file" }],
  other: [async ({ svc }, use) => use(await inBook(svc, randomUUID())), { scope: "file" }],
});

/** An identity with one number, in the address book. */
async function inBook(svc: Svc, id: string) {
  const addr = msisdn();
  await svc.broker.publish(
    "identity.created",
    identityEvent([address("msisdn", addr, { default: true })], { id }),
  );
  await waitFor(async () => !!(await svc.db.addressBookEntry.findUnique({ where: { identity: id } })), {
    what: `address book entry ${id}`,
  });
  return { id, addr };
}

async function receive(svc: Svc, from: string, content: string, inReplyTo?: string): Promise<string> {
  const res = await call(svc, "admin", "POST", "/api/v1/inbound/", {
    from_addr: from,
    content,
    message_id: randomUUID(),
    ...(inReplyTo && { in_reply_to: inReplyTo }),
  });
  expect(res.statusCode, res.body).toBe(201);
  await sleep(15); // distinct created_at, so the expected order is the only one
  return res.json().id;
}

const messages = async (svc: Svc, caller: Caller, identity: string, query = "") => {
  const res = await call(svc, caller, "GET", `/api/v1/identities/${identity}/messages/${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    count: number;
    next: string | null;
    previous: string | null;
    results: { id: string; direction: string; url: string; [k: string]: unknown }[];
  };
};
const ids = (page: { results: { id: string }[] }) => page.results.map((m) => m.id);

describe("GET /api/v1/identities/{identity_id}/messages/", () => {
  it("merges the person's outbounds and inbounds newest first, paginated, by direction and by key", async ({
    svc,
    keys,
    person,
    other,
  }) => {
    const o1 = (
      await send(svc, "admin", {
        to_identity: person.id,
        content: "Week 12: your baby is growing",
        metadata: { subscription: "sub-1", messageset: 7 },
      })
    ).id;
    await outboundReaching(svc.db, o1, "delivered");
    const i1 = await receive(svc, person.addr, "thanks", o1);
    const o2 = (
      await send(svc, keys.team, {
        to_identity: person.id,
        content: "Clinic closed on Friday",
        metadata: { topic: "clinic-news" },
        not_before: tomorrow(),
      })
    ).id;
    await sleep(15);
    const i2 = await receive(svc, person.addr, "ok", o2);
    const i3 = await receive(svc, person.addr, "hello?");
    await send(svc, "admin", { to_identity: other.id, content: "not hers" });
    await receive(svc, other.addr, "not hers either");

    const all = await messages(svc, "admin", person.id);
    expect(all.count).toBe(5);
    expect(ids(all)).toEqual([i3, i2, o2, i1, o1]);
    expect(all.results.map((m) => m.direction)).toEqual([
      "inbound",
      "inbound",
      "outbound",
      "inbound",
      "outbound",
    ]);
    expect(all.results[4]).toMatchObject({
      direction: "outbound",
      status: "delivered",
      last_error: null,
      to_identity: person.id,
      metadata: { subscription: "sub-1", messageset: 7 },
      redacted: false,
    });
    expect(all.results[4]?.url).toMatch(new RegExp(`/api/v1/outbound/${o1}/$`));
    expect(all.results[2]).toMatchObject({
      direction: "outbound",
      status: "queued",
      metadata: { topic: "clinic-news" },
    });
    expect(all.results[3]).toMatchObject({
      direction: "inbound",
      from_identity: person.id,
      content: "thanks",
      reply_to_outbound: o1,
    });
    expect(all.results[3]?.url).toMatch(new RegExp(`/api/v1/inbound/${i1}/$`));

    const first = await messages(svc, "admin", person.id, "?limit=2");
    expect(first).toMatchObject({ count: 5, previous: null });
    expect(ids(first)).toEqual([i3, i2]);
    expect(first.next).toMatch(/limit=2&offset=2$/);
    const second = await messages(svc, "admin", person.id, "?limit=2&offset=2");
    expect(ids(second)).toEqual([o2, i1]);
    expect(second.previous).toMatch(/limit=2$/);
    const last = await messages(svc, "admin", person.id, "?limit=2&offset=4");
    expect(ids(last)).toEqual([o1]);
    expect(last.next).toBeNull();

    const outbounds = await messages(svc, "admin", person.id, "?direction=outbound");
    expect([outbounds.count, ids(outbounds)]).toEqual([2, [o2, o1]]);
    const inbounds = await messages(svc, "admin", person.id, "?direction=inbound");
    expect([inbounds.count, ids(inbounds)]).toEqual([3, [i3, i2, i1]]);

    // A team key: its own outbound and the reply to it; another team key and a test key: nothing; live: all.
    const team = await messages(svc, keys.team, person.id);
    expect([team.count, ids(team)]).toEqual([2, [i2, o2]]);
    expect((await messages(svc, keys.team2, person.id)).count).toBe(0);
    expect((await messages(svc, keys.test, person.id)).count).toBe(0);
    expect(ids(await messages(svc, keys.live, person.id))).toEqual([i3, i2, o2, i1, o1]);

    // A redacted outbound stays in the list as its tombstone.
    expect((await call(svc, keys.team, "DELETE", `/api/v1/outbound/${o2}/`)).statusCode).toBe(204);
    const afterDelete = await messages(svc, "admin", person.id, "?direction=outbound");
    expect(afterDelete.results[0]).toMatchObject({
      id: o2,
      redacted: true,
      status: "cancelled",
      content: null,
    });
  });

  it("answers an empty page for an identity with no messages, and 400 for a bad query", async ({ svc }) => {
    expect(await messages(svc, "admin", randomUUID())).toEqual({
      count: 0,
      next: null,
      previous: null,
      results: [],
    });
    for (const bad of ["?direction=sideways", "?ordering=created_at", "?limit=0"]) {
      const res = await call(svc, "admin", "GET", `/api/v1/identities/${randomUUID()}/messages/${bad}`);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code).toBe("VALIDATION_FAILED");
    }
    expect((await call(svc, "admin", "GET", "/api/v1/identities/nope/messages/")).statusCode).toBe(400);
  });
});
