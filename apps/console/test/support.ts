/**
 * The console's browser tests' fixtures: the five services in this process (their APIs listening on free ports,
 * their workers consuming, one shared AMQP namespace, real Postgres and RabbitMQ), the console built with Vite and
 * served by its own server in front of them, and Debian's Chromium driven by playwright-core.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTidingsClient, type TidingsClient } from "@tidings/client";
import { createTestNamespace, startTestService, TEST_ADMIN_TOKEN } from "@tidings/testing";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { expect, test } from "vitest";
import { contentService } from "../../content/src/service.ts";
import { identityService } from "../../identity/src/service.ts";
import { createMessageSenderService } from "../../message-sender/src/service.ts";
import { schedulerService } from "../../scheduler/src/service.ts";
import { subscriptionService } from "../../subscription/src/service.ts";
import { buildConsole, CONSOLE_ROOT } from "../build.ts";
import { startConsoleServer } from "../server/server.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Screenshots of each page (git-ignored), kept after the run. */
export const ARTIFACTS = path.join(CONSOLE_ROOT, "test-artifacts");
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** The services; message-sender's log channel writes to `work`/sent.jsonl and its archives go to `work`/archive. */
async function startServices(namespace: string, work: string) {
  const shared = { worker: true, namespace };
  const [identity, subscription, content, scheduler, messageSender] = await Promise.all([
    startTestService(identityService, shared),
    startTestService(subscriptionService, shared),
    startTestService(contentService, shared),
    startTestService(schedulerService(), shared),
    startTestService(createMessageSenderService(), {
      ...shared,
      env: { LOG_CHANNEL_FILE: path.join(work, "sent.jsonl"), ARCHIVE_DIR: path.join(work, "archive") },
    }),
  ]);
  return { identity, subscription, content, scheduler, "message-sender": messageSender };
}
export type Services = Awaited<ReturnType<typeof startServices>>;

export interface Stack {
  services: Services;
  /** The console's origin. */
  url: string;
  /** The typed client of the five APIs, called directly with the admin token (to seed and check). */
  api: TidingsClient;
}

export interface ConsoleFixtures {
  stack: Stack;
  /** Chromium with a fresh profile; each test's tabs have their own sessionStorage. */
  browser: BrowserContext;
  /** A fresh tab on a signed-in console (the admin token in sessionStorage), closed after the test. */
  page: Page;
}

export const consoleTest = test.extend<ConsoleFixtures>({
  stack: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      const work = await mkdtemp(path.join(tmpdir(), "tidings-console-"));
      const namespace = createTestNamespace();
      const [services] = await Promise.all([
        startServices(namespace.namespace, work),
        buildConsole(path.join(work, "public")),
        mkdir(ARTIFACTS, { recursive: true }),
      ]);
      const urls = Object.fromEntries(
        await Promise.all(
          Object.entries(services).map(async ([name, svc]) => [
            name,
            await svc.app.listen({ host: "127.0.0.1", port: 0 }),
          ]),
        ),
      );
      const server = await startConsoleServer({
        services: urls as Record<keyof Services, string>,
        publicDir: path.join(work, "public"),
        host: "127.0.0.1",
        port: 0,
      });
      const endpoint = (name: keyof Services) => ({ url: urls[name] as string, token: TEST_ADMIN_TOKEN });
      const api = createTidingsClient({
        identity: endpoint("identity"),
        subscription: endpoint("subscription"),
        content: endpoint("content"),
        scheduler: endpoint("scheduler"),
        messageSender: endpoint("message-sender"),
      });
      try {
        await use({ services, url: server.url, api });
      } finally {
        await server.close();
        await Promise.all(Object.values(services).map((s) => s.close()));
        await namespace.cleanup();
        await rm(work, { recursive: true, force: true });
      }
    },
    { scope: "file", auto: true },
  ],
  browser: [
    async ({ stack }, use) => {
      const profile = await mkdtemp(path.join(tmpdir(), "tidings-console-chromium-"));
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

/** axe-core's serious and critical violations on the page as it is now: none expected. */
export async function expectAccessible(page: Page): Promise<void> {
  await page.addScriptTag({ path: AXE });
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
