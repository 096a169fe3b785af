import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { startTwilioSimulator, WHATSAPP_ERRORS } from "../src/index.ts";
import { ToSimulator } from "./to-simulator.ts";

const SID = `AC${"4".repeat(32)}`;
const TOKEN = "whatsapp-simulated-token";

/** A simulator with two templates, and the SDK pointed at it; closed after `body`. */
async function withSimulator(body: (s: Awaited<ReturnType<typeof start>>) => Promise<void>) {
  const s = await start();
  try {
    await body(s);
  } finally {
    await s.sim.close();
  }
}

async function start() {
  const sim = await startTwilioSimulator({
    accounts: { [SID]: TOKEN },
    callbackIntervalMs: 5,
    whatsapp: {
      templates: [
        { friendlyName: "greeting", body: "Hello {{1}}" },
        { friendlyName: "refused", body: "Hi {{1}}", approved: false },
      ],
      notOnWhatsapp: ["+27820000003"],
    },
  });
  const client = twilio(SID, TOKEN, { httpClient: new ToSimulator(sim.url) });
  return { sim, client };
}

const finalOf = async (sim: Awaited<ReturnType<typeof start>>["sim"], sid: string) => {
  for (
    let i = 0;
    i < 100 && !["delivered", "failed"].includes(sim.messages.find((m) => m.sid === sid)!.status);
    i++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return sim.messages.find((m) => m.sid === sid)!;
};

describe("Twilio simulator: WhatsApp and the Content API", () => {
  it("lists Content API templates and renders one sent by ContentSid", () =>
    withSimulator(async ({ sim, client }) => {
      const contents = await client.content.v1.contents.list();
      expect(contents.map((c) => c.friendlyName)).toEqual(["greeting", "refused"]);
      const greeting = contents.find((c) => c.friendlyName === "greeting")!;
      const sent = await client.messages.create({
        to: "whatsapp:+27820000001",
        from: "whatsapp:+15005550009",
        contentSid: greeting.sid,
        contentVariables: JSON.stringify({ "1": "Thandi" }),
      });
      expect(sent.body).toBe("Hello Thandi");
      expect((await finalOf(sim, sent.sid)).status).toBe("delivered");
    }));

  it("answers 21656 for an unknown ContentSid", () =>
    withSimulator(async ({ client }) => {
      await expect(
        client.messages.create({
          to: "whatsapp:+27820000001",
          from: "whatsapp:+15005550009",
          contentSid: `HX${"0".repeat(32)}`,
        }),
      ).rejects.toMatchObject({ status: 400, code: 21656 });
    }));

  it.for<[string, string, { body?: string; template?: string }, number | undefined]>([
    ["no WhatsApp account", "+27820000003", { template: "greeting" }, WHATSAPP_ERRORS.notOnWhatsapp],
    ["a template not approved", "+27820000004", { template: "refused" }, WHATSAPP_ERRORS.templateRejected],
    ["free text outside the window", "+27820000005", { body: "hi" }, WHATSAPP_ERRORS.outsideWindow],
  ])("fails by status callback: %s", ([, to, what, code]) =>
    withSimulator(async ({ sim, client }) => {
      const [contentSid] =
        [...sim.whatsapp.templates].find(([, t]) => t.friendlyName === what.template) ?? [];
      const sent = await client.messages.create({
        to: `whatsapp:${to}`,
        from: "whatsapp:+15005550009",
        ...(contentSid ? { contentSid } : { body: what.body as string }),
      });
      expect(await finalOf(sim, sent.sid)).toMatchObject({ status: "failed", errorCode: code });
    }),
  );

  it("sends free text inside the window an inbound message opened", () =>
    withSimulator(async ({ sim, client }) => {
      sim.whatsapp.noteInbound("whatsapp:+27820000006");
      const sent = await client.messages.create({
        to: "whatsapp:+27820000006",
        from: "whatsapp:+15005550009",
        body: "Thanks for your message",
      });
      expect((await finalOf(sim, sent.sid)).status).toBe("delivered");
    }));
});
