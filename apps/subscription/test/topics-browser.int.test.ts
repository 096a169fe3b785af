import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import type { OutboundSend } from "@tidings/contracts";
import {
  adminAuth,
  type Capture,
  captureMessages,
  startTestService,
  type TestService,
  waitFor,
} from "@tidings/testing";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SubscriptionConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { subscriptionService } from "../src/service.ts";
import { address, announceIdentity, UNSUBSCRIBE_SECRET } from "./topics-helpers.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let svc: TestService<SubscriptionConfig, Db>;
let capture: Capture;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run scripts/test.sh (it installs Debian's chromium) or apt-get install -y chromium, or set CHROMIUM_PATH`,
    );
  }
  svc = await startTestService(subscriptionService, { worker: true, env: { UNSUBSCRIBE_SECRET } });
  capture = await captureMessages(svc.namespace, ["outbound.send"]);
  base = await svc.app.listen({ host: "127.0.0.1", port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await capture?.stop();
  await svc?.close();
});

const publish = async (topic: string, publishId: string) => {
  const res = await svc.app.inject({
    method: "POST",
    url: `/api/v1/topics/${topic}/publish/`,
    headers: adminAuth,
    payload: { publish_id: publishId, content: "Hello <<first_name>>" },
  });
  expect(res.statusCode, res.body).toBe(202);
  return res.json() as { recipients: number };
};
const sendsOf = (publishId: string) =>
  capture.named<OutboundSend>("outbound.send").filter((s) => s.metadata.publish_id === publishId);

describe("the unsubscribe page in a real browser", () => {
  it("shows the choice, unsubscribes on the button, and later publishes skip the identity", async () => {
    const identity = randomUUID();
    await announceIdentity(svc, identity, { first_name: "Hana" }, [address("email", "hana@example.org")]);
    const subscribed = await svc.app.inject({
      method: "POST",
      url: "/api/v1/topics/garden-club/subscribers/",
      headers: adminAuth,
      payload: { identity },
    });
    expect(subscribed.statusCode).toBe(201);
    expect((await publish("garden-club", "garden-1")).recipients).toBe(1);
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

    expect((await publish("garden-club", "garden-2")).recipients).toBe(0);
    const record = await svc.app.inject({ url: "/api/v1/publishes/garden-2/", headers: adminAuth });
    expect(record.json()).toMatchObject({ recipients: 0 });
    expect(
      (await svc.app.inject({ url: `/api/v1/identities/${identity}/topics/`, headers: adminAuth })).json()
        .count,
    ).toBe(0);
  });

  it("shows a forged link's page with 403", async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${base}/unsubscribe/eyJ4IjoxfQ.AAAAAAAAAAAAAAAAAAAAAA`);
    expect(response?.status()).toBe(403);
    await page.getByRole("heading", { name: "Link not valid" }).waitFor();
    await page.close();
  });
});
