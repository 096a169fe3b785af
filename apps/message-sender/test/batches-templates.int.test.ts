import { randomUUID } from "node:crypto";
import { catalog } from "@tidings/contracts";
import { adminAuth, expectError, serviceTest, startTestService, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { batchOutboundId } from "../src/intake/batches.ts";
import { messageSenderService } from "../src/service.ts";
import { address, identityEvent, msisdn, newTemplateId, publishTemplate } from "./helpers.ts";
import { call, closedAfterFile, type Svc, sendToNew, stored } from "./support.ts";

// API and worker: templates arrive as content.template.* events (as the content service publishes them),
// batches and templated sends go through the log channel to delivered.
const it = serviceTest(messageSenderService, {
  worker: true,
  env: { OUTBOUND_RETRY_DELAYS_MS: "100,300,1000,3000" },
}).extend<{ api: Svc }>({
  /** A second message-sender, its API alone (no worker to drain its outbox), for the big batch. */
  api: closedAfterFile(() => startTestService(messageSenderService)),
});

const waitForBatch = (svc: Svc, id: string, status: string, count: number) =>
  waitFor(
    async () => {
      const batch = (await call(svc, "GET", `/api/v1/outbound/batch/${id}/`)).json();
      return batch.status_counts[status] === count && batch;
    },
    { timeoutMs: 60_000, what: `batch ${id} to have ${count} ${status}` },
  );

describe("templated sends", { timeout: 120_000 }, () => {
  it("renders the latest version, or the one asked for, and sends the rendered text", async ({ svc }) => {
    const v1 = await publishTemplate(svc, { body: "Hi ((name)), your visit is on ((date)).", version: 1 });
    await publishTemplate(svc, { ...v1, body: "Hello ((Name)), see you on ((date))!", version: 2 });

    const latest = await sendToNew(svc, {
      template: v1.id,
      personalisation: { name: "Thandi", date: "5 May" },
    });
    expect(latest.statusCode).toBe(201);
    expect(latest.json()).toMatchObject({
      content: "Hello Thandi, see you on 5 May!",
      template: v1.id,
      template_version: 2,
    });
    const older = await sendToNew(svc, {
      template: v1.id,
      template_version: 1,
      personalisation: { name: "Thandi", date: "5 May" },
    });
    expect(older.json()).toMatchObject({
      content: "Hi Thandi, your visit is on 5 May.",
      template_version: 1,
    });
    await waitFor(
      async () =>
        (await call(svc, "GET", `/api/v1/outbound/${older.json().id}/`)).json().status === "delivered",
      { timeoutMs: 60_000, what: "the templated outbound to be delivered" },
    );
  });

  it("puts an email template's rendered subject in metadata.subject", async ({ svc }) => {
    const template = await publishTemplate(svc, {
      type: "email",
      subject: "News for ((name))",
      body: "<p>((message))</p>",
      version: 1,
    });
    const res = await call(svc, "POST", "/api/v1/outbound/", {
      to_addr: "thandi@example.org",
      metadata: { tag: "news" },
      template: template.id,
      personalisation: { name: "Thandi", message: "Clinic <closed>" },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      content: "<p>Clinic &lt;closed&gt;</p>",
      metadata: { tag: "news", subject: "News for Thandi" },
    });
  });

  it("refuses a missing placeholder, an unknown or deleted template, and content with a template, storing nothing", async ({
    svc,
  }) => {
    const template = await publishTemplate(svc, { body: "Hi ((name)), your code is ((code)).", version: 1 });
    const before = await stored(svc);
    const missing = await sendToNew(svc, {
      template: template.id,
      personalisation: { name: "Thandi" },
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({
      code: "MESSAGE_SENDER_MISSING_PERSONALISATION",
      message: "Missing personalisation: code",
      details: [{ field: "body.personalisation.code", message: "is required" }],
    });
    const unknown = await sendToNew(svc, {
      template: 99_999,
    });
    expectError(unknown, 400, "MESSAGE_SENDER_UNKNOWN_TEMPLATE");
    const noVersion = await sendToNew(svc, {
      template: template.id,
      template_version: 7,
      personalisation: { name: "a", code: "1" },
    });
    expect(noVersion.json().error.code).toBe("MESSAGE_SENDER_UNKNOWN_TEMPLATE");
    const both = await sendToNew(svc, {
      content: "Hi",
      template: template.id,
    });
    expect(both.json().error.code).toBe("MESSAGE_SENDER_CONTENT_AND_TEMPLATE");
    const noTemplate = await sendToNew(svc, {
      content: "Hi",
      personalisation: { name: "a" },
    });
    expect(noTemplate.json().error.details).toEqual([
      { field: "body.personalisation", message: "needs template" },
    ]);

    await svc.broker.publish("content.template.deleted", { id: template.id });
    await waitFor(
      async () => (await svc.db.templateCopy.findFirst({ where: { id: template.id } }))?.deleted,
      {
        what: "the template to be deleted",
      },
    );
    const deleted = await sendToNew(svc, {
      template: template.id,
      personalisation: { name: "a", code: "1" },
    });
    expect(deleted.json().error.code).toBe("MESSAGE_SENDER_UNKNOWN_TEMPLATE");
    // A late copy of an old change does not bring the deleted template back.
    await svc.broker.publish("content.template.changed", { ...template, version: 2 });
    await waitFor(() =>
      svc.db.templateCopy.findUnique({ where: { id_version: { id: template.id, version: 2 } } }),
    );
    expect((await svc.db.templateCopy.findMany({ where: { id: template.id } })).every((t) => t.deleted)).toBe(
      true,
    );
    expect(await stored(svc)).toEqual(before);
  });

  it("keeps a template deleted before any of its versions arrived deleted", async ({ svc }) => {
    const id = newTemplateId();
    await svc.broker.publish("content.template.deleted", { id });
    await waitFor(() => svc.db.templateCopy.findFirst({ where: { id } }), { what: "the tombstone" });
    await svc.broker.publish("content.template.changed", {
      ...catalog["content.template.changed"].example,
      id,
      version: 1,
      placeholders: ["name", "date"],
    });
    await waitFor(() => svc.db.templateCopy.findUnique({ where: { id_version: { id, version: 1 } } }));
    const res = await sendToNew(svc, {
      template: id,
      personalisation: { name: "a", date: "b" },
    });
    expect(res.json().error.code).toBe("MESSAGE_SENDER_UNKNOWN_TEMPLATE");
  });
});

describe("POST /api/v1/outbound/batch/", { timeout: 120_000 }, () => {
  it("queues one outbound per recipient (addresses and identities), at bulk priority, and counts them by status", async ({
    svc,
  }) => {
    const template = await publishTemplate(svc, {
      body: "Hi ((name)), your visit is on ((date)).",
      version: 1,
    });
    const identity = identityEvent([address("msisdn", msisdn(), { default: true })]);
    await svc.broker.publish("identity.created", identity);
    const id = randomUUID();
    const res = await call(svc, "POST", "/api/v1/outbound/batch/", {
      id,
      template: template.id,
      personalisation: { date: "5 May" },
      metadata: { campaign: "may" },
      recipients: [
        { to_addr: msisdn(), personalisation: { name: "Thandi" } },
        { to_identity: identity.id, personalisation: { name: "Sipho", date: "6 May" } },
        { to_addr: msisdn(), personalisation: { name: "Lerato" } },
      ],
    });
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe(`/api/v1/outbound/batch/${id}/`);
    expect(res.json()).toMatchObject({ id, total: 3, channel: "LOG", template: template.id, test: false });

    const second = (await call(svc, "GET", `/api/v1/outbound/${batchOutboundId(id, 1)}/`)).json();
    expect(second).toMatchObject({
      to_identity: identity.id,
      content: "Hi Sipho, your visit is on 6 May.",
      metadata: { campaign: "may" },
      batch: id,
      priority: "bulk",
    });
    const batch = await waitForBatch(svc, id, "delivered", 3);
    expect(batch.status_counts).toEqual({ delivered: 3 });
  });

  it("is safe to retry: the same batch id creates nothing twice", async ({ svc }) => {
    const id = randomUUID();
    const body = {
      id,
      content: "Clinic closed on Friday",
      recipients: [{ to_addr: msisdn() }, { to_addr: msisdn() }],
    };
    // Two at once: one stores the batch, the other waits for it and finds it there.
    const first = await Promise.all([
      call(svc, "POST", "/api/v1/outbound/batch/", body),
      call(svc, "POST", "/api/v1/outbound/batch/", body),
    ]);
    expect(first.map((r) => r.statusCode)).toEqual([202, 202]);
    await waitForBatch(svc, id, "delivered", 2);
    expect(await svc.db.outbound.count({ where: { batchId: id } })).toBe(2);
    const before = await stored(svc);
    const retried = await call(svc, "POST", "/api/v1/outbound/batch/", body);
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toMatchObject({ id, total: 2, status_counts: { delivered: 2 } });
    expect(await stored(svc)).toEqual(before);
  });

  it("validates every recipient before queuing anything, naming the bad indexes", async ({ svc }) => {
    const template = await publishTemplate(svc, { body: "Hi ((name)), your code is ((code)).", version: 1 });
    const before = await stored(svc);
    const noAddress = await call(svc, "POST", "/api/v1/outbound/batch/", {
      content: "Hi",
      recipients: [{ to_addr: msisdn() }, {}, { to_addr: msisdn() }, { personalisation: { a: 1 } }],
    });
    expect(noAddress.statusCode).toBe(400);
    expect(noAddress.json().error).toMatchObject({
      code: "VALIDATION_FAILED",
      message: expect.stringContaining("Recipients 1, 3"),
      details: [
        { field: "body.recipients[1]", message: "needs to_addr or to_identity" },
        { field: "body.recipients[3]", message: "needs to_addr or to_identity" },
      ],
    });
    const missing = await call(svc, "POST", "/api/v1/outbound/batch/", {
      template: template.id,
      personalisation: { code: "1234" },
      recipients: [
        { to_addr: msisdn(), personalisation: { name: "Thandi" } },
        { to_addr: msisdn() },
        { to_addr: msisdn(), personalisation: { name: "Sipho" } },
        { to_addr: msisdn(), personalisation: { code: "9" } },
      ],
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({
      code: "MESSAGE_SENDER_MISSING_PERSONALISATION",
      message: "Missing personalisation for recipients 1, 3",
      details: [
        { field: "body.recipients[1].personalisation.name", message: "is required" },
        { field: "body.recipients[3].personalisation.name", message: "is required" },
      ],
    });
    const badField = await call(svc, "POST", "/api/v1/outbound/batch/", {
      content: "Hi",
      recipients: [{ to_addr: msisdn() }, { to_identity: "not-a-uuid" }],
    });
    expect(badField.statusCode).toBe(400);
    expect(JSON.stringify(badField.json().error.details)).toContain("body.recipients.1.to_identity");
    const untemplated = await call(svc, "POST", "/api/v1/outbound/batch/", {
      content: "Hi",
      recipients: [{ to_addr: msisdn() }, { to_addr: msisdn(), personalisation: { name: "a" } }],
    });
    expect(untemplated.json().error.details).toEqual([
      { field: "body.recipients[1].personalisation", message: "needs template" },
    ]);
    const tooMany = await call(svc, "POST", "/api/v1/outbound/batch/", {
      content: "Hi",
      recipients: Array.from({ length: 10_001 }, () => ({ to_addr: "+27820000000" })),
    });
    expect(tooMany.statusCode).toBe(400);
    expect(await stored(svc)).toEqual(before);
  });

  it("answers 404 for an unknown batch", async ({ svc }) => {
    const res = await call(svc, "GET", `/api/v1/outbound/batch/${randomUUID()}/`);
    expectError(res, 404, "MESSAGE_SENDER_BATCH_NOT_FOUND");
  });
});

describe("a batch of 10,000 (API only)", { timeout: 120_000 }, () => {
  it("stores 10,000 outbounds and their outbound.send in one request", async ({ api }) => {
    const recipients = Array.from({ length: 10_000 }, (_, i) => ({
      to_addr: `+2783${String(i).padStart(7, "0")}`,
    }));
    const started = Date.now();
    const res = await api.app.inject({
      method: "POST",
      url: "/api/v1/outbound/batch/",
      headers: adminAuth,
      payload: { content: "Clinic closed on Friday", recipients },
    });
    const tookMs = Date.now() - started;
    expect(res.statusCode).toBe(202);
    const { id } = res.json();
    expect(res.json()).toMatchObject({ total: 10_000, status_counts: { queued: 10_000 } });
    expect(await api.db.outbound.count({ where: { batchId: id } })).toBe(10_000);
    const outbox = await api.db.outboxMessage.findMany({ select: { id: true, payload: true } });
    expect(outbox).toHaveLength(10_000);
    expect(new Set(outbox.map((m) => m.id)).has(batchOutboundId(id, 9_999))).toBe(true);
    expect(outbox[0]?.payload).toMatchObject({ priority: "bulk", content: "Clinic closed on Friday" });
    api.logger.info({ tookMs }, "a batch of 10,000 accepted");
  });
});
