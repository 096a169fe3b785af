/**
 * The operator console in Debian's Chromium against the real services: sign in, find a person, send and watch the
 * status change, record consent (and see message-sender's copy follow it), forget; what message-sender will do for an
 * address nobody has; see which subscription message a person was sent; edit a message and see its segments as
 * typed; replay a dead letter. Each
 * page is checked with axe-core and kept as a screenshot (desktop and phone) in test-artifacts/.
 */
import { randomUUID } from "node:crypto";
import { AMQP_URL, waitFor } from "@tidings/testing";
import amqp from "amqplib";
import { describe, expect } from "vitest";
import { ok } from "../src/api.ts";
import { expectAccessibleAndKeep, consoleTest as it, phoneNumber, type Stack, unique } from "./support.ts";

async function createPerson(stack: Stack) {
  const number = phoneNumber("+2782");
  const email = `thandi.${unique()}@example.org`;
  const person = await ok(
    stack.api.identity.POST("/api/v1/identities/", {
      body: {
        details: {
          name: "Thandi Console",
          lang_code: "eng_ZA",
          addresses: { msisdn: { [number]: { default: true } }, email: { [email]: {} } },
        },
      },
    }),
  );
  await waitFor(
    () => stack.services["message-sender"].db.addressBookEntry.findUnique({ where: { identity: person.id } }),
    { what: "message-sender's copy of the address", timeoutMs: 20_000 },
  );
  return { id: person.id, number, email };
}

// The first test also waits for the file's Chromium to start (the run's global set-up started the platform).
describe("the operator console", { timeout: 60_000 }, () => {
  it("signs in with a token, and shows the API's message for a wrong one", async ({ stack, browser }) => {
    const page = await browser.newPage();
    await page.goto(stack.url);
    await page.getByLabel("API token").fill("not-a-real-token-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Invalid token. (INVALID_TOKEN)");
    await expectAccessibleAndKeep(page, "sign-in");
    await page.getByLabel("API token").fill("test-admin-token-0123456789");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(["tidings.console.token"]);
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    await page.close();
  });

  it("finds a person, sends them a message and shows its status change, records consent, forgets", async ({
    stack,
    page,
  }) => {
    const person = await createPerson(stack);
    await page.goto("/#/people");
    await page.getByLabel("Phone number or email").fill(person.email.toUpperCase());
    await page.getByRole("button", { name: "Find" }).click();
    await page.getByRole("link", { name: "Thandi Console" }).click();
    await page.getByRole("heading", { name: "Thandi Console" }).waitFor();
    const addresses = page.getByRole("region", { name: "Addresses" });
    await addresses.getByText(`msisdn ${person.number} (default)`).waitFor();
    await addresses.getByText(`email ${person.email}`).waitFor();

    await page.getByLabel("Send a message").fill("Your clinic visit is on Tuesday");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const row = page.getByRole("row", { name: /Your clinic visit is on Tuesday/ });
    await row.getByText("delivered").waitFor({ timeout: 20_000 });
    await row.getByRole("button", { name: "History" }).click();
    const history = row.getByRole("list", { name: "Status history" });
    await history.getByText("delivered").waitFor();
    expect(await history.textContent()).toMatch(/queued[\s\S]*delivered/);

    await page.getByLabel("Address", { exact: true }).selectOption({ label: `msisdn ${person.number}` });
    await page.getByRole("button", { name: "Record opt-out" }).click();
    await addresses.getByText("opted out").waitFor();
    // message-sender's own copy of consent, which every send meets, follows identity's ledger.
    await addresses.getByText(/sending: stopped \(stop, since /).waitFor({ timeout: 10_000 });
    expect(await addresses.getByText("sending: allowed").count()).toBe(1);
    await page.getByRole("button", { name: "Record opt-in" }).click();
    const ledger = page.getByRole("table", { name: "Consent history" });
    await ledger.getByText("opt-in").waitFor();
    expect(await ledger.getByRole("row").count()).toBe(3);
    await expectAccessibleAndKeep(page, "person");

    // A helpdesk's "stop everything to this person now": every address opted out at once.
    await page.getByRole("button", { name: "Stop all messages…" }).click();
    await page
      .getByRole("alertdialog", { name: "Stop all messages to this person?" })
      .getByRole("button", { name: "Stop all messages" })
      .click();
    await ledger.getByRole("cell", { name: "stopall" }).waitFor();
    expect(await addresses.getByText("opted out").count()).toBe(2);

    await page.getByRole("button", { name: "Forget this person…" }).click();
    const dialog = page.getByRole("alertdialog", { name: "Forget this person?" });
    const forget = dialog.getByRole("button", { name: "Forget for good" });
    expect(await forget.isDisabled()).toBe(true);
    await dialog.getByLabel("Confirmation").fill("forget");
    await forget.click();
    await addresses.getByText("No addresses.").waitFor();
    const found = await ok(
      stack.api.identity.GET("/api/v1/identities/{id}/", { params: { path: { id: person.id } } }),
    );
    expect(JSON.stringify(found.details)).not.toContain(person.email);
  });

  it("shows what message-sender will do for an address nobody has: stopped by a STOP from that number", async ({
    stack,
    page,
  }) => {
    const number = phoneNumber("+2782");
    // A gateway's STOP from a number no identity holds: identity has nobody to opt out.
    await ok(
      stack.api.messageSender.POST("/api/v1/inbound/", {
        body: { message_id: randomUUID(), from_addr: number.slice(1), to_addr: "1234", content: "STOP" },
      }),
    );
    await page.goto("/#/people");
    // Written with spaces, as a person would (the gateway wrote it without its +).
    await page
      .getByLabel("Phone number or email")
      .fill(`${number.slice(0, 3)} ${number.slice(3, 5)} ${number.slice(5)}`);
    await page.getByRole("button", { name: "Find" }).click();
    const status = page.getByRole("status");
    await status.getByText(/sending: stopped \(stop, since /).waitFor();
    expect(await status.textContent()).toContain("Nobody has that address.");
    await expectAccessibleAndKeep(page, "people-nobody");
  });

  it("shows a person's stage-based message with its set and position, and one subscription's messages", async ({
    stack,
    page,
  }) => {
    const person = await createPerson(stack);
    const label = `Pregnancy SMS ${unique()}`;
    const schedule = await ok(
      stack.api.content.POST("/api/v1/schedule/", { body: { minute: "0", hour: "8" } }),
    );
    const set = await ok(
      stack.api.content.POST("/api/v1/messageset/", {
        body: { short_name: `pregnancy.${unique()}`, label, default_schedule: schedule.id },
      }),
    );
    await ok(
      stack.api.content.POST("/api/v1/message/", {
        body: {
          messageset: set.id,
          sequence_number: 12,
          lang: "eng_ZA",
          text_content: "Week 12: baby can hear you",
        },
      }),
    );
    await waitFor(
      () =>
        stack.services.subscription.db.messageCopy.findFirst({
          where: { messagesetId: set.id, sequenceNumber: 12 },
        }),
      { what: "the subscription service's copy of message 12", timeoutMs: 20_000 },
    );
    const subscription = await ok(
      stack.api.subscription.POST("/api/v1/subscriptions/", {
        body: {
          identity: person.id,
          messageset: set.id,
          lang: "eng_ZA",
          schedule: schedule.id,
          next_sequence_number: 12,
        },
      }),
    );
    // A slot of the schedule, now (an admin's fire of the scheduler's mirror of it): the fan-out sends her message
    // 12. (Seed's send trigger would send nothing: the schedule, saved just now, has had no slot yet.)
    const mirror = await waitFor(
      async () =>
        (
          await ok(stack.api.scheduler.GET("/api/v1/schedule/", { params: { query: { limit: 100 } } }))
        ).results.find((s) => s.source?.ref === String(schedule.id)),
      { what: "the scheduler's mirror of the schedule" },
    );
    await ok(
      stack.api.scheduler.POST("/api/v1/schedule/{id}/fire/", { params: { path: { id: mirror.id } } }),
    );
    await ok(
      stack.api.messageSender.POST("/api/v1/outbound/", {
        params: { header: { "Idempotency-Key": randomUUID() } },
        body: { to_identity: person.id, content: "Your clinic visit is on Friday", metadata: {} },
      }),
    );

    await page.goto(`/#/people/${person.id}`);
    const messages = page.getByRole("table", { name: "Messages, newest first" });
    const week12 = messages.getByRole("row", { name: /Week 12: baby can hear you/ });
    await week12.getByRole("cell", { name: `${label} · message 12` }).waitFor({ timeout: 20_000 });
    const oneOff = messages.getByRole("row", { name: /Your clinic visit is on Friday/ });
    expect(await oneOff.getByRole("cell").nth(2).textContent()).toBe("—");

    await page
      .getByRole("table", { name: "Subscriptions" })
      .getByRole("row", { name: new RegExp(label) })
      .getByRole("link", { name: "Messages" })
      .click();
    await page.getByText(`Only the messages of the subscription to ${label}.`).waitFor();
    expect(page.url()).toContain(`/subscription/${subscription.id}`);
    await week12.getByText("delivered").waitFor({ timeout: 20_000 });
    expect(await messages.getByRole("row").count()).toBe(2); // the head and message 12, not the one-off send
    await expectAccessibleAndKeep(page, "person-subscription-messages");
  });

  it("edits a message, showing encoding and segments as it is typed", async ({ stack, page }) => {
    const schedule = await ok(
      stack.api.content.POST("/api/v1/schedule/", { body: { minute: "0", hour: "8" } }),
    );
    const set = await ok(
      stack.api.content.POST("/api/v1/messageset/", {
        body: { short_name: `console.${unique()}`, default_schedule: schedule.id },
      }),
    );
    for (const [lang, text] of [
      ["eng_ZA", "Week 1: welcome"],
      ["zul_ZA", "Iviki 1: siyakwamukela"],
    ] as const) {
      await ok(
        stack.api.content.POST("/api/v1/message/", {
          body: { messageset: set.id, sequence_number: 1, lang, text_content: text },
        }),
      );
    }
    await page.goto(`/#/content/${set.id}`);
    const table = page.getByRole("table", { name: "Messages by sequence number and language" });
    await table.getByText("Iviki 1: siyakwamukela").waitFor();
    await page.getByRole("button", { name: "Edit message 1 (eng_ZA)" }).click();
    const editor = page.getByLabel("Message 1 (eng_ZA)", { exact: true });
    const info = page.getByTestId("sms-info");
    await info.getByText("1 segment").waitFor();
    await editor.fill("a".repeat(161));
    await info.getByText("2 segments").waitFor();
    expect(await info.textContent()).toContain("GSM-7");
    await editor.fill(`Sawubona ${"ŋ".repeat(62)}`);
    await info.getByText("UCS-2").waitFor();
    expect(await info.textContent()).toMatch(/71\/134 units · 2 segments/);
    await editor.fill("It’s week 1");
    await page.getByRole("status").getByText("special characters").waitFor();
    await expectAccessibleAndKeep(page, "content-editor");
    await editor.fill("Week 1: welcome to the programme");
    await page.getByRole("button", { name: "Save" }).click();
    await editor.waitFor({ state: "detached" });
    await table.getByText("Week 1: welcome to the programme").waitFor();
    const texts = async () =>
      (
        await ok(
          stack.api.content.GET("/api/v1/messageset/{id}/messages", { params: { path: { id: set.id } } }),
        )
      ).messages.map((m) => m.text_content);
    expect(await texts()).toEqual(["Week 1: welcome to the programme", "Iviki 1: siyakwamukela"]);
  });

  it("lists and replays a dead letter", async ({ stack, page }) => {
    const messageId = randomUUID();
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createConfirmChannel();
    channel.publish(
      stack.names.exchange("subscription"),
      "subscription.send-next",
      Buffer.from(JSON.stringify({ subscription_ids: ["not-a-uuid"], schedule: 1, slot: "soon" })),
      { messageId, type: "subscription.send-next", persistent: true },
    );
    await channel.waitForConfirms();
    await connection.close();

    await page.goto("/#/operations");
    const panel = page.getByRole("region", { name: "subscription", exact: true });
    const queue = panel.getByRole("button", { name: "subscription.send-next: 1 dead" });
    await queue.waitFor({ timeout: 20_000 });
    await queue.click();
    // The same message can also be listed among the failed tasks: look for it among the dead letters.
    const deadLetters = panel.getByRole("region", { name: /^Dead letters of subscription/ });
    await deadLetters.getByText("invalid subscription.send-next payload").waitFor();
    await expectAccessibleAndKeep(page, "operations");
    await panel.getByRole("button", { name: `Replay ${messageId}` }).click();
    await panel.getByRole("status").getByText("Replayed 1.").waitFor();
  });
});
