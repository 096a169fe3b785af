import { randomUUID } from "node:crypto";
import { expectError, serviceTest } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { callWithKey, issueKey, msisdn } from "./helpers.ts";

// Test and team keys keep their promise here (the log channel, the allow-list) on the sends, and are refused by
// the routes that act for anybody: Seed's inbound (a STOP for any number), Vumi events (any outbound's status),
// the requeue of every failed task and the archive of every outbound.
const it = serviceTest(createMessageSenderService());

describe("test and team keys on message-sender's routes that act for anybody", () => {
  it("refuse a STOP through Seed's inbound with 403 KEY_KIND_NOT_ALLOWED, storing nothing; live keys still take it", async ({
    svc,
  }) => {
    const person = msisdn();
    const keys = {
      test: await issueKey(svc, "test"),
      team: await issueKey(svc, "team", [person]),
      live: await issueKey(svc, "live"),
    };
    const stop = () => ({ from_addr: person, content: "STOP", message_id: randomUUID() });
    for (const kind of ["test", "team"] as const) {
      for (const url of ["/api/v1/inbound/", "/api/v1/inbound/LOG/"]) {
        const res = await callWithKey(svc, keys[kind], "POST", url, stop());
        expectError(res, 403, "KEY_KIND_NOT_ALLOWED");
        expect(res.json().error).toMatchObject({
          message: expect.stringContaining(`A ${kind} key cannot be used here`),
          details: [{ field: "headers.authorization", message: `a ${kind} key` }],
          requestId: expect.any(String),
        });
      }
      for (const [method, url, payload] of [
        ["POST", "/api/v1/events", { message_type: "event", event_type: "ack", user_message_id: "x" }],
        ["POST", "/api/v1/failed-tasks/", undefined],
        ["POST", "/api/v1/archive-outbounds/", { start: "2020-01-01", end: "2020-01-02" }],
      ] as const) {
        expectError(await callWithKey(svc, keys[kind], method, url, payload), 403, "KEY_KIND_NOT_ALLOWED");
      }
    }
    expect(await svc.db.inbound.count({ where: { fromAddr: person } })).toBe(0);

    // What the keys are for still works: a test send (to the log channel), a team send to its allow-list.
    const sent = await callWithKey(svc, keys.test, "POST", "/api/v1/outbound/", {
      to_addr: person,
      content: "hello",
      metadata: {},
    });
    expect(sent.statusCode, sent.body).toBe(201);
    expect(sent.json()).toMatchObject({ channel: "LOG" });
    const teamSent = await callWithKey(svc, keys.team, "POST", "/api/v1/outbound/", {
      to_addr: person,
      content: "hello",
      metadata: {},
    });
    expect(teamSent.statusCode, teamSent.body).toBe(201);
    expect((await callWithKey(svc, keys.test, "GET", "/api/v1/inbound/")).statusCode).toBe(200);

    const live = await callWithKey(svc, keys.live, "POST", "/api/v1/inbound/", stop());
    expect(live.statusCode, live.body).toBe(201);
  });
});
