/**
 * The console's browser tests' fixtures: the run's one platform stack (started by global-setup.ts, see stack.ts),
 * reached through its addresses, and Debian's Chromium driven by playwright-core. The test files share the stack:
 * each test makes the data it needs, and a test that reads the platform's message counts holds them quiet.
 */
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTidingsClient, type TidingsClient } from "@tidings/client";
import { type Names, namesFor } from "@tidings/contracts";
import { holdRunLock, TEST_ADMIN_TOKEN } from "@tidings/testing";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { expect, inject, test } from "vitest";
import { createDb as messageSenderDb } from "../../message-sender/src/db.ts";
import { createDb as subscriptionDb } from "../../subscription/src/db.ts";
import { CONSOLE_ROOT } from "../build.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Screenshots of each page (git-ignored), kept after the run. */
export const ARTIFACTS = path.join(CONSOLE_ROOT, "test-artifacts");
const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface Stack {
  /** The console's origin. */
  url: string;
  /** The typed client of the five APIs, called directly with the admin token (to seed and check). */
  api: TidingsClient;
  /** The databases the tests seed or read directly. */
  services: {
    "message-sender": { db: ReturnType<typeof messageSenderDb> };
    subscription: { db: ReturnType<typeof subscriptionDb> };
  };
  /** The stack's AMQP names (its exchanges and queues). */
  names: Names;
}

export interface ConsoleFixtures {
  stack: Stack;
  /**
   * How the test uses the platform's message counts, held for the test: `shared` (the default) by tests that only
   * add to them, `exclusive` (`it.override({ counts: "exclusive" })`) by a test that asserts them, so no other test
   * sends while it runs.
   */
  counts: "shared" | "exclusive";
  countsLock: undefined;
  /** Chromium with a fresh profile; each test's tabs have their own sessionStorage. */
  browser: BrowserContext;
  /** A fresh tab on a signed-in console (the admin token in sessionStorage), closed after the test. */
  page: Page;
}

export const consoleTest = test.extend<ConsoleFixtures>({
  stack: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      const info = inject("consoleStack");
      const endpoint = (name: keyof typeof info.services) => ({
        url: info.services[name].url,
        token: TEST_ADMIN_TOKEN,
      });
      const services = {
        "message-sender": { db: messageSenderDb(info.services["message-sender"].database) },
        subscription: { db: subscriptionDb(info.services.subscription.database) },
      };
      const api = createTidingsClient({
        identity: endpoint("identity"),
        subscription: endpoint("subscription"),
        content: endpoint("content"),
        scheduler: endpoint("scheduler"),
        messageSender: endpoint("message-sender"),
      });
      try {
        await use({ url: info.url, api, services, names: namesFor(info.namespace) });
      } finally {
        await Promise.all(Object.values(services).map((s) => s.db.$disconnect()));
      }
    },
    { scope: "file" },
  ],
  counts: "shared",
  countsLock: [
    async ({ counts }, use) => {
      const release = await holdRunLock(counts);
      try {
        await use(undefined);
      } finally {
        await release();
      }
    },
    { auto: true },
  ],
  browser: [
    async ({ stack }, use) => {
      const profile = await mkdtemp(path.join(tmpdir(), "tidings-console-chromium-"));
      await mkdir(ARTIFACTS, { recursive: true });
      const browser = await chromium.launchPersistentContext(profile, {
        baseURL: stack.url,
        viewport: { width: 1280, height: 900 },
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      try {
        await use(browser);
      } finally {
        await browser.close();
        await rm(profile, { recursive: true, force: true });
      }
    },
    { scope: "file" },
  ],
  page: async ({ browser }, use) => {
    const page = await browser.newPage();
    await page.addInitScript(
      (token) => sessionStorage.setItem("tidings.console.token", token),
      TEST_ADMIN_TOKEN,
    );
    try {
      await use(page);
    } finally {
      await page.close();
    }
  },
});

/** Seven random digits, to make names and numbers no other test uses. */
export const unique = (): string => String(Math.floor(Math.random() * 1e7)).padStart(7, "0");

/** A South African mobile number no other test uses, under `prefix` (+2782, +2783, ...). */
export const phoneNumber = (prefix = "+2783"): string => `${prefix}${unique()}`;

/**
 * axe-core's serious and critical violations on the page as it is now: none expected. axe is evaluated through the
 * browser's debugging protocol: a script tag would be refused by the pages' content security policy, as it should.
 */
export async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(await AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(): Promise<{
            violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run();
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
  });
  expect(violations).toEqual([]);
}

/** Keeps a full-page screenshot as a test artifact, at a desktop and at a phone's size. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const desktop = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  // Nothing wider than a phone's screen: tables scroll inside their own region.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-phone.png`), fullPage: true });
  if (desktop) {
    await page.setViewportSize(desktop);
  }
}

/** The page as it is now passes axe-core's checks, and is kept as a screenshot (desktop and phone) named `name`. */
export async function expectAccessibleAndKeep(page: Page, name: string): Promise<void> {
  await expectAccessible(page);
  await screenshot(page, name);
}
