import { describe, expect } from "vitest";
import { startVonageSimulator, VONAGE_ERRORS, vonageSignature } from "../src/index.ts";
import { simulatorTest } from "./support.ts";

type Sms = (
  body: Record<string, string>,
  auth?: string,
) => Promise<{ "message-count": string; messages: Record<string, string>[] }>;

const it = simulatorTest(
  () =>
    startVonageSimulator({
      accounts: { key1: "secret1" },
      signatureSecret: "sig-secret",
      callbackIntervalMs: 5,
    }),
  { path: "/dlr", status: 200, record: (params) => params },
).extend<{ sms: Sms }>({
  /** As the Vonage SDK sends it: JSON with basic auth. */
  sms: [
    async ({ sim }, use) =>
      use((body, auth = "key1:secret1") =>
        fetch(`${sim.url}/sms/json`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Basic ${Buffer.from(auth).toString("base64")}`,
          },
          body: JSON.stringify(body),
        }).then((r) => r.json() as ReturnType<Sms>),
      ),
    { scope: "file" },
  ],
});

describe("vonage simulator", () => {
  it("accepts an SMS in Vonage's shape and posts signed receipts to its callback", async ({
    sms,
    callbackUrl,
    received,
  }) => {
    const res = await sms({
      to: "27820000001",
      from: "Tidings",
      text: "hi",
      callback: callbackUrl,
      "client-ref": "ref-1",
    });
    expect(res["message-count"]).toBe("1");
    const [message] = res.messages;
    expect(message).toMatchObject({ status: "0", to: "27820000001", "client-ref": "ref-1" });
    await expect.poll(() => received.filter((r) => r.messageId === message?.["message-id"]).length).toBe(2);
    const mine = received.filter((r) => r.messageId === message?.["message-id"]);
    expect(mine.map((r) => r.status)).toEqual(["accepted", "delivered"]);
    for (const receipt of mine) {
      expect(receipt.sig).toBe(vonageSignature(receipt, "sig-secret"));
      expect(receipt.sig).not.toBe(vonageSignature(receipt, "another"));
    }
  });

  it("splits a long text into parts as Vonage does, each with its own message id and receipts", async ({
    sim,
    sms,
    callbackUrl,
    received,
  }) => {
    sim.configure({
      partOutcome: (_m, part) => (part === 2 ? { status: "failed", errCode: "6" } : undefined),
    });
    try {
      const res = await sms({
        to: "27820000002",
        from: "Tidings",
        text: "x".repeat(400),
        callback: callbackUrl,
      });
      expect(res["message-count"]).toBe("3");
      const ids = res.messages.map((m) => m["message-id"]);
      expect(new Set(ids).size).toBe(3);
      expect(sim.messages.at(-1)?.parts.map((p) => p.text.length)).toEqual([153, 153, 94]);
      const ucs2 = await sms({ to: "27820000002", from: "Tidings", text: "ж".repeat(140) });
      expect(ucs2["message-count"]).toBe("3");
      await expect
        .poll(() => received.filter((r) => ids.includes(r.messageId) && r.status !== "accepted").length)
        .toBe(3);
      const finals = Object.fromEntries(
        received
          .filter((r) => ids.includes(r.messageId) && r.status !== "accepted")
          .map((r) => [r.messageId, r]),
      );
      expect(ids.map((id) => finals[id!]?.status)).toEqual(["delivered", "failed", "delivered"]);
      expect(finals[ids[1]!]?.["err-code"]).toBe("6");
    } finally {
      sim.configure({ partOutcome: undefined });
    }
  });

  it("follows a number's script: a failure with its err-code, then no final receipt, then the default", async ({
    sim,
    sms,
    callbackUrl,
    received,
  }) => {
    sim.script("+27820000002", [{ status: "failed", errCode: "2" }, "none"]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await sms({ to: "27820000002", from: "T", text: "x", callback: callbackUrl });
      ids.push(res.messages[0]?.["message-id"] as string);
    }
    const receiptsOf = (id: string) =>
      received.filter((r) => r.messageId === id).map((r) => [r.status, r["err-code"]]);
    await expect
      .poll(() => receiptsOf(ids[0]!))
      .toEqual([
        ["accepted", "0"],
        ["failed", "2"],
      ]);
    await expect
      .poll(() => receiptsOf(ids[2]!))
      .toEqual([
        ["accepted", "0"],
        ["delivered", "0"],
      ]);
    expect(receiptsOf(ids[1]!)).toEqual([["accepted", "0"]]);
  });

  it("answers errors as non-zero statuses with HTTP 200", async ({ sim, sms }) => {
    expect((await sms({ to: "1", from: "T", text: "x" })).messages[0]).toMatchObject({ status: "3" });
    expect((await sms({ to: "27820000001", from: "T", text: "x" }, "key1:wrong")).messages[0]).toMatchObject({
      status: "4",
    });
    sim.failNext(VONAGE_ERRORS.throttled());
    expect((await sms({ to: "27820000001", from: "T", text: "x" })).messages[0]).toMatchObject({
      status: "1",
    });
    expect((await sms({ to: "27820000001", from: "T", text: "x" })).messages[0]).toMatchObject({
      status: "0",
    });
  });
});
