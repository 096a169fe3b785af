import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { closeAfter, waitFor } from "@tidings/testing";
import { type Browser, chromium } from "playwright-core";
import { describe, expect } from "vitest";
import { topicsTest } from "./support.ts";
import { address, announceIdentity } from "./topics-helpers.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const it = topicsTest({}, ["outbound.send"]).extend<{ browser: Browser; base: string }>({
  browser: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(
          `Chromium is not installed at ${CHROMIUM}: run scripts/test.sh (it installs Debian's chromium) or apt-get install -y chromium, or set CHROMIUM_PATH`,
        );
      }
      await closeAfter(await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] }), use);
    },
    { scope: "file" },
  ],
  /** The subscription API listening on a port, for the browser. */
  base: [
    async ({ svc }, use) => use(await svc.app.listen({ host: "127.0.0.1", port: 0 })),
    { scope: "file" },
  ],
});

const hello = (publishId: string) => ({ publish_id: publishId, content: "Hello <<first_name>>" });

describe("the unsubscribe page in a real browser", () => {
  it("shows the choice, unsubscribes on the button, and later publishes skip the identity", async ({
    svc,
    call,
    subscribe,
    publish,
    sendsOf,
    browser,
    base,
  }) => {
    const identity = randomUUID();
    await announceIdentity(svc, identity, { first_name: "Hana" }, [address("email", "hana@example.org")]);
    const subscribed = await subscribe("garden-club", identity);
    expect(subscribed.statusCode).toBe(201);
    expect((await publish("garden-club", hello("garden-1"), 202)).recipients).toBe(1);
    const [sent] = await waitFor(() => sendsOf("garden-1").length === 1 && sendsOf("garden-1"), {
      timeoutMs: 30_000,
      what: "the first publish's send",
    });
    const path = /\/unsubscribe\/\S+$/.exec(sent?.content ?? "")?.[0];
    expect(path).toBeTruthy();

    const page = await browser.newPage();
    await page.goto(`${base}${path}`);
    expect(await page.title()).toBe("Unsubscribe");
    await page.getByRole("heading", { name: "Unsubscribe" }).waitFor();
    expect(await page.getByRole("radio", { name: /garden-club/ }).isChecked()).toBe(true);
    await page.getByRole("button", { name: "Unsubscribe" }).click();
    await page.getByRole("heading", { name: "You are unsubscribed" }).waitFor();
    expect(await page.getByRole("status").textContent()).toContain("garden-club");
    await page.close();

    expect((await publish("garden-club", hello("garden-2"), 202)).recipients).toBe(0);
    const record = await call("GET", "/api/v1/publishes/garden-2/");
    expect(record.json()).toMatchObject({ recipients: 0 });
    expect((await call("GET", `/api/v1/identities/${identity}/topics/`)).json().count).toBe(0);
  });

  it("shows a forged link's page with 403", async ({ browser, base }) => {
    const page = await browser.newPage();
    const response = await page.goto(`${base}/unsubscribe/eyJ4IjoxfQ.AAAAAAAAAAAAAAAAAAAAAA`);
    expect(response?.status()).toBe(403);
    await page.getByRole("heading", { name: "Link not valid" }).waitFor();
    await page.close();
  });
});
