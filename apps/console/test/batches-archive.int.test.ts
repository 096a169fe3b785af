/**
 * The Batches page and Operations' archive, in Debian's Chromium against the real services: a batch created
 * through the API appears in the list and its progress is followed to done; old outbounds (stored on past days)
 * archived from a date range, the API's refusal of a day not over shown, and the days archived listed. Each page
 * is checked with axe-core and kept as a screenshot (desktop and phone) in test-artifacts/.
 */
import { randomUUID } from "node:crypto";
import { describe, expect } from "vitest";
import { ok } from "../src/api.ts";
import { expectAccessibleAndKeep, consoleTest as it, phoneNumber } from "./support.ts";

const DAY_MS = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString().slice(0, 10);

describe("batches and the archive", { timeout: 120_000 }, () => {
  it("lists a batch created through the API and follows its progress to done", async ({ stack, page }) => {
    await page.goto("/#/batches");
    await page.getByRole("heading", { name: "Batches", exact: true }).waitFor();
    expect(await page.getByRole("link", { name: "Batches" }).getAttribute("aria-current")).toBe("page");
    await page.getByText("No batches yet.").waitFor();

    // Created while the page is open: the list shows it without a reload.
    const batch = await ok(
      stack.api.messageSender.POST("/api/v1/outbound/batch/", {
        body: {
          content: "Batch test",
          recipients: Array.from({ length: 12 }, () => ({ to_addr: phoneNumber() })),
        },
      }),
    );
    const short = batch.id.slice(0, 8);
    await page.getByRole("link", { name: short }).click({ timeout: 30_000 });
    const progress = page.getByRole("region", { name: `Batch ${batch.id}` });
    await progress.getByRole("status").getByText("Done").waitFor({ timeout: 60_000 });
    expect(await progress.locator("progress").getAttribute("value")).toBe("12");
    expect(await progress.getByText("12 of 12 messages ended").count()).toBe(1);
    expect(await progress.getByRole("list", { name: "Messages by status" }).textContent()).toBe(
      "delivered: 12",
    );
    // The list's row follows too.
    await expect
      .poll(() => page.getByRole("progressbar", { name: `Batch ${short}: 12 of 12 ended` }).count(), {
        timeout: 15_000,
      })
      .toBe(1);

    await expectAccessibleAndKeep(page, "batches");
  });

  it("archives a past range, shows the API's refusal, and lists the days archived", async ({
    stack,
    page,
  }) => {
    const [older, old] = [daysAgo(400), daysAgo(399)];
    await stack.services["message-sender"].db.outbound.createMany({
      data: [older, older, old].map((day) => ({
        id: randomUUID(),
        toAddr: "",
        content: "Archive test",
        channel: "LOG",
        status: "delivered" as const,
        delivered: true,
        attempts: 1,
        createdAt: new Date(`${day}T10:00:00Z`),
      })),
    });
    await page.goto("/#/operations");
    const section = page.getByRole("region", { name: "Archive outbounds" });
    await section.getByText("No day archived yet.").waitFor({ timeout: 30_000 });

    // A day not over yet: the API's own message.
    await section.getByLabel("From").fill(daysAgo(401));
    await section.getByLabel("To").fill(daysAgo(0));
    await section.getByRole("button", { name: "Archive" }).click();
    await expect
      .poll(() => section.getByRole("alert").textContent(), { timeout: 30_000 })
      .toBe("end must be before today: a day is archived once it is over (VALIDATION_FAILED)");

    await section.getByLabel("To").fill(old);
    await section.getByRole("button", { name: "Archive" }).click();
    await section
      .getByRole("status")
      .getByText(`Archived 2 days: ${older}, ${old}.`)
      .waitFor({ timeout: 60_000 });
    expect(await section.getByRole("alert").count()).toBe(0);
    const rows = section.getByRole("table", { name: "Days archived" }).getByRole("row");
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(3);
    expect(await rows.nth(1).getByRole("cell").allTextContents()).toEqual(
      expect.arrayContaining([old, `outbounds-${old}.gz`, "1"]),
    );
    expect(await rows.nth(2).getByRole("cell").allTextContents()).toEqual(
      expect.arrayContaining([older, `outbounds-${older}.gz`, "2"]),
    );
    expect(
      await stack.services["message-sender"].db.outbound.count({ where: { content: "Archive test" } }),
    ).toBe(0);

    await expectAccessibleAndKeep(page, "operations-archive");
  });
});
