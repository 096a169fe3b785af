/**
 * The console's overview (its first page) and the operations page's channels and scheduler sections, in Debian's
 * Chromium against the real services: the counts and charts of the messages sent in the test, updated live; each
 * channel's health, limits and window; schedules with their next runs, fired and their runs listed. Each page is
 * checked with axe-core and kept as a screenshot (desktop and phone) in test-artifacts/.
 */
import { randomUUID } from "node:crypto";
import { waitFor } from "@tidings/testing";
import type { Page } from "playwright-core";
import { describe, expect } from "vitest";
import { ok } from "../src/api.ts";
import { percent, range, summarise } from "../src/pages/overview-data.ts";
import { expectAccessibleAndKeep, consoleTest as it, phoneNumber, type Stack, unique } from "./support.ts";

/** A log channel of the test's own, with limits and a sending window (all day, so its messages go at once). */
async function createChannel(stack: Stack): Promise<string> {
  const channel = await ok(
    stack.api.messageSender.POST("/api/v1/channel/", {
      body: {
        channel_id: `LOG2-${unique()}`,
        channel_type: "log",
        configuration: {},
        rate_limit: 10,
        concurrency_limit: 2,
        daily_cap: 3,
        sending_window: { start: "00:00", end: "23:59", timezone: "UTC" },
      },
    }),
  );
  return channel.channel_id;
}

const send = (stack: Stack, channel?: string) =>
  ok(
    stack.api.messageSender.POST("/api/v1/outbound/", {
      body: { to_addr: phoneNumber(), content: "Overview test", metadata: {}, ...(channel && { channel }) },
    }),
  );

/** A message its provider failed, as the failures of a real one are stored. */
const storeFailed = (stack: Stack, channel: string) =>
  stack.services["message-sender"].db.outbound.create({
    data: { id: randomUUID(), toAddr: "", content: "Overview test", channel, status: "failed", attempts: 1 },
  });

/** The messages each test adds: three on the default channel, one delivered and one failed on `channel`. */
const sendTheTestsMessages = (stack: Stack, channel: string) =>
  Promise.all([send(stack), send(stack), send(stack), send(stack, channel), storeFailed(stack, channel)]);

/**
 * The platform's message counts from `from` to today, as the overview reads them: what other tests sent before
 * this one (the test holds the counts quiet while it runs).
 */
const countsSince = async (stack: Stack, from = range().from) =>
  summarise(
    await ok(
      stack.api.messageSender.GET("/api/v1/outbound/channel_status_counts/", {
        params: { query: { from, to: range().to } },
      }),
    ),
  );
type Counts = Awaited<ReturnType<typeof countsSince>>;
const ofChannel = (counts: Counts, channel: string) =>
  counts.channels.find((c) => c.channel === channel) ?? { sent: 0, delivered: 0, failed: 0 };

const tile = (page: Page, name: string) => page.locator(`.tiles dt:text-is("${name}") + dd`);
const cells = (page: Page, table: string, row: string | RegExp) =>
  page.getByRole("table", { name: table }).getByRole("row", { name: row }).getByRole("cell");

// The tests share the run's stack with the other console files: each makes its own channel and messages, and
// holds the message counts quiet (no other test sends meanwhile) to see exactly what it added to them.
describe("the overview and operations' channels and scheduler", { timeout: 90_000 }, () => {
  it.override({ counts: "exclusive" });

  it("opens on the overview, whose counts and charts follow the messages sent", async ({ stack, page }) => {
    const channel = await createChannel(stack);
    const before = await countsSince(stack);
    const today = range().to;
    const beforeToday = before.days.at(-1) ?? { sent: 0, delivered: 0, failed: 0 };
    const beforeLog = ofChannel(before, "LOG");
    await page.goto("/");
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    expect(await page.getByRole("link", { name: "Overview" }).getAttribute("aria-current")).toBe("page");
    await expect.poll(() => tile(page, "Sent").textContent()).toBe(String(before.total.sent));
    // "—" before any message ended.
    expect(await tile(page, "Delivery rate").textContent()).toBe(percent(before.deliveryRate));
    const updated = await page.locator("time").textContent();

    // Sent while the page is open: it shows them without a reload.
    await sendTheTestsMessages(stack, channel);
    const { sent, delivered, failed } = before.total;
    await expect
      .poll(() => tile(page, "Delivered").textContent(), { timeout: 30_000, interval: 500 })
      .toBe(String(delivered + 4));
    expect(await tile(page, "Sent").textContent()).toBe(String(sent + 5));
    expect(await tile(page, "Failed").textContent()).toBe(String(failed + 1));
    // 80.0% on a stack that sent nothing before.
    expect(await tile(page, "Delivery rate").textContent()).toBe(
      percent((delivered + 4) / (delivered + failed + 5)),
    );
    expect(await page.locator("time").textContent()).not.toBe(updated);
    const perChannel = "Messages per channel, last 30 days";
    expect(await cells(page, perChannel, /^LOG /).allTextContents()).toEqual(
      ["LOG", beforeLog.sent + 3, beforeLog.delivered + 3, beforeLog.failed].map(String),
    );
    expect(await cells(page, perChannel, channel).allTextContents()).toEqual([channel, "2", "1", "1"]);

    // Two charts, with bars drawn; the per-day chart's numbers as a table.
    await expect.poll(() => page.locator(".chart .recharts-wrapper").count()).toBe(2);
    expect(await page.locator(".chart .recharts-bar-rectangle").count()).toBeGreaterThan(0);
    for (const numbers of await page.getByText("The chart's numbers").all()) {
      await numbers.click();
    }
    expect(await cells(page, "Messages per day (UTC)", today).allTextContents()).toEqual([
      today,
      ...[beforeToday.sent + 5, beforeToday.delivered + 4, beforeToday.failed + 1].map(String),
    ]);
    const perDayAndChannel = "Sent per day (UTC) and channel";
    const head = page.getByRole("table", { name: perDayAndChannel }).getByRole("columnheader");
    const channels = [...new Set([...before.channels.map((c) => c.channel), "LOG", channel])].sort((a, b) =>
      a.localeCompare(b),
    );
    expect(await head.allTextContents()).toEqual(["Day", ...channels]);
    const beforeByChannel: Record<string, number | string> = before.daysByChannel.at(-1) ?? {};
    const added: Record<string, number> = { LOG: 3, [channel]: 2 };
    expect(await cells(page, perDayAndChannel, today).allTextContents()).toEqual([
      today,
      ...channels.map((c) => String(Number(beforeByChannel[c] ?? 0) + (added[c] ?? 0))),
    ]);

    // Every service's queues with their backlog, consumers and dead letters; failed tasks per service.
    const outboundSend = await cells(
      page,
      "Queues",
      /^message-sender message-sender\.outbound-send \d/,
    ).allTextContents();
    expect(outboundSend.slice(0, 2)).toEqual(["message-sender", "message-sender.outbound-send"]);
    expect(Number(outboundSend[3])).toBeGreaterThan(0);
    expect(outboundSend[4]).toBe("0");
    await expect
      .poll(() => cells(page, "Failed tasks", "scheduler").allTextContents())
      .toEqual(["scheduler", "0"]);
    await expectAccessibleAndKeep(page, "overview");
  });

  it("shows each channel's health, limits and window, and the schedules with their runs", async ({
    stack,
    page,
  }) => {
    const channel = await createChannel(stack);
    const today = range().to;
    const log = ofChannel(await countsSince(stack, today), "LOG");
    await sendTheTestsMessages(stack, channel);
    const schedule = await ok(
      stack.api.scheduler.POST("/api/v1/schedule/", {
        body: { cron_definition: "0 8 * * *", timezone: "Africa/Johannesburg" },
      }),
    );
    await page.goto("/#/operations");
    const channels = "Channels: health today (UTC), limits and sending windows";
    await expect
      .poll(() => cells(page, channels, channel).allTextContents(), { timeout: 15_000 })
      .toEqual([
        channel,
        "log",
        "failing: 1 delivered, 1 failed, 0 on their way",
        "10 / s",
        "2 at once",
        "3 per person",
        "00:00–23:59 recipient's time (else UTC)",
        "—",
        "Edit limits",
      ]);
    await expect
      .poll(async () => (await cells(page, channels, /^LOG default/).allTextContents()).slice(0, 3), {
        timeout: 15_000,
      })
      .toEqual([
        "LOG default",
        "log",
        `delivering: ${log.delivered + 3} delivered, 0 failed, 0 on their way`,
      ]);

    // Its limits changed: the daily cap back to the service's default.
    await page.getByRole("button", { name: `Edit limits of ${channel}` }).click();
    await page.getByLabel("Rate limit (per second, 0 = none)").fill("20");
    await page.getByLabel(/^Daily cap per person/).fill("");
    await page.getByRole("button", { name: "Save limits" }).click();
    await expect
      .poll(async () => (await cells(page, channels, channel).allTextContents()).slice(3, 6))
      .toEqual(["20 / s", "2 at once", "service default"]);
    const changed = await ok(
      stack.api.messageSender.GET("/api/v1/channel/{id}/", { params: { path: { id: channel } } }),
    );
    expect(changed).toMatchObject({ rate_limit: 20, concurrency_limit: 2, daily_cap: null });

    const fire = page.getByRole("button", { name: `Fire now: schedule ${schedule.id}` });
    const row = page.getByRole("row", { name: /cron 0 8 \* \* \*/ }).filter({ has: fire });
    expect(await row.getByRole("cell").nth(3).textContent()).not.toBe("—");
    await page.getByRole("button", { name: `Disable schedule ${schedule.id}` }).click();
    await page.getByRole("button", { name: `Enable schedule ${schedule.id}` }).waitFor();
    expect(await row.getByRole("cell").nth(2).textContent()).toBe("no");
    const disabled = await ok(
      stack.api.scheduler.GET("/api/v1/schedule/{id}/", { params: { path: { id: schedule.id } } }),
    );
    expect(disabled.enabled).toBe(false);
    // A content schedule's mirror names it and cannot be disabled here (the scheduler answers 409).
    const content = await ok(
      stack.api.content.POST("/api/v1/schedule/", { body: { minute: "17", hour: "6" } }),
    );
    const mirror = await waitFor(
      async () =>
        (
          await ok(stack.api.scheduler.GET("/api/v1/schedule/", { params: { query: { limit: 100 } } }))
        ).results.find((s) => s.source?.ref === String(content.id)),
      { what: "the content schedule's mirror" },
    );
    const mirrorRow = page.getByRole("row").filter({
      has: page.getByRole("button", { name: `Fire now: schedule ${mirror.id}` }),
    });
    await expect
      .poll(() => mirrorRow.getByRole("cell").nth(1).textContent(), { timeout: 15_000 })
      .toBe(`content schedule ${content.id} (follows it)`);
    expect(await mirrorRow.getByRole("button", { name: /^(Disable|Enable) schedule/ }).count()).toBe(0);

    await fire.click();
    const runs = page.getByRole("table", { name: `Recent runs of schedule ${schedule.id}` });
    await runs.getByRole("cell", { name: "manual" }).waitFor({ timeout: 15_000 });
    expect(await runs.getByRole("row").count()).toBe(2);
    await expectAccessibleAndKeep(page, "operations-channels-scheduler");
  });
});
