/**
 * The Imports page in Debian's Chromium against the real services: a CSV with good and bad rows is checked before
 * anything is written (the bad rows listed with their reasons), the good ones imported with progress, the people
 * and subscriptions then found through the APIs; a second run makes nothing twice. axe-core and screenshots.
 */
import { waitFor } from "@tidings/testing";
import type { Page } from "playwright-core";
import { describe, expect } from "vitest";
import { ok } from "../src/api.ts";
import { importRow, newRunId } from "../src/imports/run.ts";
import {
  expectAccessible,
  expectAccessibleAndKeep,
  consoleTest as it,
  phoneNumber,
  type Stack,
  unique,
} from "./support.ts";

/** A message set with messages in eng_ZA and zul_ZA, once the subscription service has its copy. */
async function createSet(stack: Stack) {
  const schedule = await ok(
    stack.api.content.POST("/api/v1/schedule/", { body: { minute: "0", hour: "8" } }),
  );
  const set = await ok(
    stack.api.content.POST("/api/v1/messageset/", {
      body: { short_name: `imports.${unique()}`, default_schedule: schedule.id },
    }),
  );
  for (const lang of ["eng_ZA", "zul_ZA"]) {
    await ok(
      stack.api.content.POST("/api/v1/message/", {
        body: { messageset: set.id, sequence_number: 1, lang, text_content: `Week 1 (${lang})` },
      }),
    );
  }
  const { db } = stack.services.subscription;
  await waitFor(
    async () =>
      (await db.messageSetCopy.count({ where: { id: set.id } })) === 1 &&
      (await db.scheduleCopy.count({ where: { id: schedule.id } })) === 1,
    { what: "the subscription service's copy of the set", timeoutMs: 20_000 },
  );
  return set;
}

/** Everyone with this number, and each one's active subscriptions to the set. */
async function peopleWith(stack: Stack, number: string, messageset: number) {
  const found = await ok(
    stack.api.identity.GET("/api/v1/identities/search/", {
      params: { query: { filters: { details__addresses__msisdn: number } } },
    }),
  );
  return Promise.all(
    found.results.map(async (person) => ({
      details: person.details,
      subscriptions: (
        await ok(
          stack.api.subscription.GET("/api/v1/subscriptions/", {
            params: { query: { identity: person.id, messageset, active: true } },
          }),
        )
      ).results.map((s) => s.lang),
    })),
  );
}

const status = (page: Page, text: string | RegExp) => page.getByRole("status").filter({ hasText: text });

describe("the Imports page", { timeout: 90_000 }, () => {
  it("checks every row first, imports the good ones with progress, and makes nothing twice", async ({
    stack,
    page,
  }) => {
    const set = await createSet(stack);
    const [fresh, known, other] = [phoneNumber("+2782"), phoneNumber("+2783"), phoneNumber("+2784")];
    await ok(
      stack.api.identity.POST("/api/v1/identities/", {
        body: { details: { lang_code: "zul_ZA", addresses: { msisdn: { [known]: { default: true } } } } },
      }),
    );
    const csv = [
      "\uFEFFNumber,Language,Email,name",
      `${fresh},eng_ZA,Thandi@Example.org,"Dlamini, Thandi"`,
      `${known.replace(/^\+27(\d\d)/, "+27 $1 ")},zul_ZA,,Known`,
      "082 not a number,eng_ZA,,Bad number",
      `${other},xho_ZA,,Bad language`,
      `${fresh},zul_ZA,,Twice`,
      `${other},eng_ZA,,"Unclosed`,
    ].join("\r\n");

    await page.goto("/#/imports");
    await page.getByRole("heading", { name: "Imports" }).waitFor();
    await page.getByLabel("Message set").selectOption({ value: String(set.id) });
    await page.getByLabel("CSV file").setInputFiles({
      name: "people.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(csv),
    });
    await status(page, "6 rows: 2 good, 4 with problems.").waitFor();
    const problems = page.getByRole("table", { name: "Rows with problems" });
    const problemRows = async () =>
      (await problems.getByRole("row").allTextContents()).slice(1).map((t) => t.replace(/\s+/g, " "));
    expect(await problemRows()).toEqual([
      '4"082 not a number" is not a valid phone number.',
      `5${set.short_name} has no messages in "xho_ZA" (it has eng_ZA, zul_ZA).`,
      `6The number ${fresh} is also on row 2.`,
      expect.stringMatching(/^7The row is malformed: .*quote/i),
    ]);
    const importButton = page.getByRole("button", { name: "Import 2 rows" });
    expect(await importButton.isDisabled()).toBe(true);
    // Nothing was written by the check.
    expect(await peopleWith(stack, fresh, set.id)).toEqual([]);
    await expectAccessible(page);

    await page.getByLabel(/import only the 2 good rows/).check();
    await importButton.click();
    await status(page, "Done: 1 imported, 1 subscribed, 0 already there, 0 failed.").waitFor({
      timeout: 20_000,
    });
    const progress = page.locator("progress");
    expect(await progress.getAttribute("value")).toBe("2");
    expect(await progress.getAttribute("max")).toBe("2");
    await page.getByText("2 of 2 rows done").waitFor();
    const results = page.getByRole("table", { name: "Import results" });
    await results
      .getByRole("row", { name: new RegExp(`2 \\${fresh} imported Created and subscribed`) })
      .waitFor();
    await results.getByRole("row", { name: /3 .* subscribed The person was already there/ }).waitFor();

    expect(await peopleWith(stack, fresh, set.id)).toEqual([
      {
        details: expect.objectContaining({
          name: "Dlamini, Thandi",
          lang_code: "eng_ZA",
          addresses: {
            msisdn: { [fresh]: expect.objectContaining({ default: true }) },
            email: { "thandi@example.org": expect.any(Object) },
          },
        }),
        subscriptions: ["eng_ZA"],
      },
    ]);
    expect(await peopleWith(stack, known, set.id)).toEqual([
      { details: expect.objectContaining({ lang_code: "zul_ZA" }), subscriptions: ["zul_ZA"] },
    ]);
    expect(await peopleWith(stack, other, set.id)).toEqual([]);
    await expectAccessibleAndKeep(page, "imports");

    // Again: everyone and every subscription is found, nothing is made twice.
    await importButton.click();
    await status(page, "Done: 0 imported, 0 subscribed, 2 already there, 0 failed.").waitFor({
      timeout: 20_000,
    });
    await results.getByRole("row", { name: /2 .* already there Already there/ }).waitFor();
    expect((await peopleWith(stack, fresh, set.id)).map((p) => p.subscriptions)).toEqual([["eng_ZA"]]);
    expect((await peopleWith(stack, known, set.id)).map((p) => p.subscriptions)).toEqual([["zul_ZA"]]);

    // The person's page: the new subscription with its next sends, its schedule's next runs (daily at 08:00).
    const [person] = (
      await ok(
        stack.api.identity.GET("/api/v1/identities/search/", {
          params: { query: { filters: { details__addresses__msisdn: fresh } } },
        }),
      )
    ).results;
    await page.goto(`/#/people/${person?.id}`);
    const nextSends = page.getByRole("list", { name: `Next runs of schedule ${set.default_schedule}` });
    await nextSends.waitFor();
    const runs = await nextSends
      .locator("time")
      .evaluateAll((times) => times.map((t) => t.getAttribute("datetime")));
    expect(runs).toHaveLength(3);
    expect(
      runs.every((r) => new Date(r as string).getUTCHours() === 8 && new Date(r as string) > new Date()),
    ).toBe(true);
  });

  it("refuses a file without its required columns, and shows the API's message for a row it refuses", async ({
    stack,
    page,
  }) => {
    const set = await createSet(stack);
    await page.goto("/#/imports");
    await page.getByLabel("Message set").selectOption({ value: String(set.id) });
    const file = page.getByLabel("CSV file");
    await file.setInputFiles({
      name: "a.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("phone number,lang\n"),
    });
    const alert = page.getByRole("alert");
    await alert.getByText('The file has no "number" column.').waitFor();
    expect(await alert.textContent()).toContain("The file has no rows.");

    // The set is gone from the subscription service's copy after the check: the API refuses the row.
    const number = phoneNumber("+2782");
    await file.setInputFiles({
      name: "b.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(`number,language\n${number},eng_ZA\n`),
    });
    await status(page, "1 row: 1 good, 0 with problems.").waitFor();
    const { db } = stack.services.subscription;
    await db.messageSetCopy.delete({ where: { id: set.id } });
    const importButton = page.getByRole("button", { name: "Import 1 row" });
    await importButton.click();
    await status(page, "Done: 0 imported, 0 subscribed, 0 already there, 1 failed.").waitFor({
      timeout: 20_000,
    });
    const results = page.getByRole("table", { name: "Import results" });
    await results
      .getByText(/^Created the person, but subscribing failed: .*\(SUBSCRIPTION_UNKNOWN_CONTENT\)$/)
      .waitFor();
    await expectAccessible(page);

    // Once the set is back, the same file finds the person and subscribes them.
    await ok(
      stack.api.content.PATCH("/api/v1/messageset/{id}/", {
        params: { path: { id: set.id } },
        body: { label: "Back again" },
      }),
    );
    await waitFor(() => db.messageSetCopy.findUnique({ where: { id: set.id } }), {
      what: "the set's copy again",
      timeoutMs: 20_000,
    });
    await importButton.click();
    await status(page, "Done: 0 imported, 1 subscribed, 0 already there, 0 failed.").waitFor({
      timeout: 20_000,
    });
    expect((await peopleWith(stack, number, set.id)).map((p) => p.subscriptions)).toEqual([["eng_ZA"]]);
  });

  it("makes one person and one subscription when a row's requests are sent twice at once in a run", async ({
    stack,
  }) => {
    const set = await createSet(stack);
    const number = phoneNumber("+2782");
    const row = {
      row: 2,
      number,
      language: "eng_ZA",
      details: {},
      set: { id: set.id, short_name: set.short_name, default_schedule: set.default_schedule, languages: [] },
    };
    // Both find nobody and send the same create with the same Idempotency-Key, as a retry after a lost answer does.
    const run = newRunId();
    const results = await Promise.all([importRow(stack.api, run, row), importRow(stack.api, run, row)]);
    expect(results.map((r) => r.outcome)).not.toContain("failed");
    expect(new Set(results.map((r) => r.identity)).size).toBe(1);
    expect((await peopleWith(stack, number, set.id)).map((p) => p.subscriptions)).toEqual([["eng_ZA"]]);
  });
});
