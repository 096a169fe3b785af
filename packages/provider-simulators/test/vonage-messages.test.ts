import { createHash, createHmac, createSign, generateKeyPairSync } from "node:crypto";
import { closing, startHttpReceiver } from "@tidings/testing";
import { describe, expect, test } from "vitest";
import { startVonageMessagesSimulator, VONAGE_MESSAGES_ERRORS } from "../src/index.ts";

const APP = "0e5c3f5a-1b2c-4d3e-8f90-a1b2c3d4e5f6";
const SECRET = "messages-signature-secret";
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });

/** An RS256 JWT for the application, as `@vonage/server-sdk` makes it from the private key. */
function appJwt(privateKey = keys.privateKey): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "RS256", typ: "JWT" })}.${part({
    application_id: APP,
    iat: Math.floor(Date.now() / 1000),
    jti: "jti-1",
  })}`;
  return `${unsigned}.${createSign("RSA-SHA256").update(unsigned).sign(privateKey, "base64url")}`;
}

const it = test.extend<{
  sim: Awaited<ReturnType<typeof startVonageMessagesSimulator>>;
  receiver: Awaited<ReturnType<typeof startHttpReceiver>>;
}>({
  sim: [
    closing(() =>
      startVonageMessagesSimulator({
        applications: { [APP]: keys.publicKey.export({ type: "spki", format: "pem" }).toString() },
        signatureSecret: SECRET,
        templates: ["reminder"],
        callbackIntervalMs: 5,
      }),
    ),
    { scope: "file" },
  ],
  receiver: [closing(() => startHttpReceiver()), { scope: "file" }],
});

const send = (url: string, body: object, jwt = appJwt()) =>
  fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${jwt}` },
    body: JSON.stringify(body),
  });

describe("vonage messages simulator", () => {
  it("accepts a WhatsApp template with the application's JWT and posts signed statuses", async ({
    sim,
    receiver,
  }) => {
    const res = await send(sim.url, {
      channel: "whatsapp",
      message_type: "template",
      to: "27820000011",
      from: "15005550010",
      template: { name: "reminder", parameters: ["Thandi"] },
      whatsapp: { policy: "deterministic", locale: "en" },
      webhook_url: `${receiver.url}/status`,
    });
    expect(res.status).toBe(202);
    const { message_uuid: uuid } = (await res.json()) as { message_uuid: string };
    await expect.poll(() => sim.statuses.filter((s) => s.body.message_uuid === uuid).length).toBe(2);
    const posted = receiver.received.filter((r) => JSON.parse(r.body).message_uuid === uuid);
    expect(posted.map((r) => JSON.parse(r.body).status)).toEqual(["submitted", "delivered"]);
    for (const request of posted) {
      const [header, claims, signature] = String(request.headers.authorization).slice(7).split(".");
      expect(createHmac("sha256", SECRET).update(`${header}.${claims}`).digest("base64url")).toBe(signature);
      expect(JSON.parse(Buffer.from(claims!, "base64url").toString()).payload_hash).toBe(
        createHash("sha256").update(request.body).digest("hex"),
      );
    }
  });

  it("refuses a request without the application's JWT (401) and bad parameters (422)", async ({ sim }) => {
    const body = {
      channel: "whatsapp",
      message_type: "text",
      to: "27820000012",
      from: "15005550010",
      text: "hi",
    };
    expect((await send(sim.url, body, appJwt(other.privateKey))).status).toBe(401);
    const bad = await send(sim.url, { ...body, to: "not-a-number", text: "" });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { invalid_parameters: { name: string }[] }).invalid_parameters).toEqual([
      expect.objectContaining({ name: "to" }),
      expect.objectContaining({ name: "text" }),
    ]);
    expect(sim.messages.filter((m) => m.to === "27820000012")).toEqual([]);
  });

  it("rejects free text outside the window and messages to numbers not on WhatsApp", async ({
    sim,
    receiver,
  }) => {
    sim.notOnWhatsapp.add("+27820000014");
    const rejected = async (to: string, extra: object) => {
      const res = await send(sim.url, {
        channel: "whatsapp",
        to,
        from: "15005550010",
        webhook_url: `${receiver.url}/status`,
        ...extra,
      });
      const { message_uuid: uuid } = (await res.json()) as { message_uuid: string };
      await expect.poll(() => sim.messages.find((m) => m.uuid === uuid)?.status).toBe("rejected");
      return sim.statuses.filter((s) => s.body.message_uuid === uuid).at(-1)?.body.error;
    };
    expect(await rejected("27820000013", { message_type: "text", text: "hi" })).toMatchObject({
      title: VONAGE_MESSAGES_ERRORS.outsideWindow,
    });
    expect(
      await rejected("27820000014", { message_type: "template", template: { name: "reminder" } }),
    ).toMatchObject({ title: VONAGE_MESSAGES_ERRORS.notOnWhatsapp });
  });
});
