/**
 * The console's Content extras and Broadcasts in Debian's Chromium against the real services: upload a message's
 * audio and play what content serves; preview a template; a schedule's next runs; publish to a topic with a
 * preview and a confirmation, and watch its progress until every message is delivered. Each page is checked with
 * axe-core and kept as a screenshot (desktop and phone) in test-artifacts/.
 */
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { ok } from "../src/api.ts";
import { expectAccessibleAndKeep, consoleTest as it, phoneNumber, type Stack, unique } from "./support.ts";

/** A WAV file of `ms` of silence (8 kHz, 8-bit mono): small, and playable by any browser. */
function silence(ms: number): Buffer {
  const samples = (8000 * ms) / 1000;
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + samples, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write("data", 36);
  header.writeUInt32LE(samples, 40);
  return Buffer.concat([header, Buffer.alloc(samples, 128)]);
}

/** A person with a verified number, once the subscription service's copy of identities knows them. */
async function verifiedPerson(stack: Stack, name: string, lang: string) {
  const person = await ok(
    stack.api.identity.POST("/api/v1/identities/", {
      body: {
        details: {
          name,
          lang_code: lang,
          addresses: { msisdn: { [phoneNumber("+2783")]: { default: true, verified: true } } },
        },
      },
    }),
  );
  await waitFor(() => stack.services.subscription.db.identityCopy.findUnique({ where: { id: person.id } }), {
    what: "the subscription service's copy of the identity",
    timeoutMs: 20_000,
  });
  return person.id;
}

describe("content and broadcasts in the console", { timeout: 90_000 }, () => {
  it("uploads a message's audio and plays the file content serves", async ({ stack, page }) => {
    const schedule = await ok(
      stack.api.content.POST("/api/v1/schedule/", { body: { hour: "9", minute: "0" } }),
    );
    const set = await ok(
      stack.api.content.POST("/api/v1/messageset/", {
        body: { short_name: `audio.${unique()}`, content_type: "audio", default_schedule: schedule.id },
      }),
    );
    const message = await ok(
      stack.api.content.POST("/api/v1/message/", {
        body: { messageset: set.id, sequence_number: 1, lang: "eng_ZA", text_content: "Week 1, spoken" },
      }),
    );
    await page.goto(`/#/content/${set.id}`);
    await page.getByText("No audio yet.").waitFor();
    // A file content does not take: its own message.
    const file = page.getByLabel("Audio file for message 1 (eng_ZA)");
    await file.setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not audio") });
    await page.getByRole("button", { name: "Upload" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toMatch(/\(CONTENT_BINARY_TYPE_NOT_ALLOWED\)$/);
    const wav = silence(250);
    await file.setInputFiles({
      name: "week-1.wav",
      mimeType: "audio/wav",
      buffer: wav,
    });
    await page.getByRole("button", { name: "Upload" }).click();
    const player = page.getByLabel("Audio of message 1 (eng_ZA)");
    await player.waitFor();

    const stored = await ok(
      stack.api.content.GET("/api/v1/message/{id}/content", { params: { path: { id: message.id } } }),
    );
    expect(stored.binary_content).toMatchObject({
      filename: "week-1.wav",
      mime_type: "audio/wav",
      size: wav.length,
    });
    const src = await player.getAttribute("src");
    expect(src).toBe(`/api/content${stored.binary_content?.content}`);
    // Served through the console: the same bytes, and the browser can decode them (its length is known).
    const served = await page.evaluate(async (url) => {
      const res = await fetch(url);
      return {
        status: res.status,
        type: res.headers.get("content-type"),
        size: (await res.arrayBuffer()).byteLength,
      };
    }, src as string);
    expect(served).toEqual({ status: 200, type: "audio/wav", size: wav.length });
    const duration = await player.evaluate(
      (audio: HTMLAudioElement) =>
        new Promise<number>((resolve, reject) => {
          audio.addEventListener("loadedmetadata", () => resolve(audio.duration), { once: true });
          audio.addEventListener("error", () => reject(new Error(`media error ${audio.error?.code}`)), {
            once: true,
          });
          audio.load();
        }),
    );
    expect(duration).toBeCloseTo(0.25, 2);
    await expectAccessibleAndKeep(page, "content-audio");
  });

  it("previews a template with sample values, and shows schedules with their next runs", async ({
    stack,
    page,
  }) => {
    const name = `reminder.${unique()}`;
    await ok(
      stack.api.content.POST("/api/v1/template/", {
        body: { name, type: "sms", body: "Hi ((first name)), ((clinic)) opens at 8." },
      }),
    );
    const schedule = await ok(
      stack.api.content.POST("/api/v1/schedule/", {
        body: { minute: "0", hour: "8", day_of_week: "1", timezone: "Africa/Johannesburg" },
      }),
    );
    await page.goto("/#/content");
    await page.getByRole("button", { name: `Preview ${name}` }).click();
    const preview = page.getByTestId("template-preview");
    await preview.getByText("Hi first name, clinic opens at 8.").waitFor();
    await page.getByLabel("clinic", { exact: true }).fill("Hillbrow Clinic");
    await preview.getByText("Hi first name, Hillbrow Clinic opens at 8.").waitFor();
    expect(await preview.textContent()).toContain("GSM-7, 1 segment");
    await page.getByLabel("first name", { exact: true }).fill("");
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toBe("Missing personalisation: first name (CONTENT_TEMPLATE_MISSING_PERSONALISATION)");
    await page.getByLabel("first name", { exact: true }).fill("Thandi");
    await preview.getByText("Hi Thandi, Hillbrow Clinic opens at 8.").waitFor();

    const runs = page.getByRole("list", { name: `Next runs of schedule ${schedule.id}` });
    await runs.getByRole("listitem").nth(2).waitFor();
    const times = await runs.locator("time").evaluateAll((els) => els.map((e) => e.getAttribute("datetime")));
    // Mondays at 08:00 in Johannesburg (UTC+2), a week apart, as content computes them.
    expect(times).toHaveLength(3);
    for (const [i, t] of times.entries()) {
      const at = new Date(t as string);
      expect([at.getUTCDay(), at.getUTCHours(), at.getUTCMinutes()]).toEqual([1, 6, 0]);
      expect(at.getTime()).toBeGreaterThan(Date.now());
      if (i > 0) {
        expect(at.getTime() - new Date(times[i - 1] as string).getTime()).toBe(7 * 24 * 3600 * 1000);
      }
    }
    expect(await runs.textContent()).toMatch(/8:00|08:00/);
    await expectAccessibleAndKeep(page, "content-templates-schedules");
  });

  it("publishes to a topic with a preview and a confirmation, and follows it until done", async ({
    stack,
    page,
  }) => {
    const topic = `clinic/news-${unique()}`;
    const people = [
      await verifiedPerson(stack, "Thandi", "eng_ZA"),
      await verifiedPerson(stack, "Sipho", "zul_ZA"),
      await verifiedPerson(stack, "Naledi", "eng_ZA"),
    ];
    for (const identity of people) {
      await ok(
        stack.api.subscription.POST("/api/v1/topics/{topic}/subscribers/", {
          params: { path: { topic } },
          body: { identity },
        }),
      );
    }
    await page.goto("/#/broadcasts");
    const row = page.getByRole("row", { name: new RegExp(`^${topic}`) });
    expect(await row.getByRole("cell").nth(1).textContent()).toBe("3");
    await row.getByRole("button", { name: `Publish to ${topic}` }).click();

    // An empty message: the API's own message.
    await page.getByRole("button", { name: "Preview" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/\(VALIDATION_FAILED\)$/);

    await page.getByLabel("Message").fill("Hello <<name>>, the clinic opens at ((time)).");
    await page.getByLabel("Values (one name=value a line)").fill("time=8");
    await page.getByRole("button", { name: "Preview" }).click();
    const preview = page.getByTestId("publish-preview");
    await preview.getByText("3 of 3 subscribers").waitFor();
    const text = await preview.textContent();
    expect(text).toContain("would receive 3 messages");
    expect(text).toContain("By channel: msisdn 3");
    expect(text).toContain("By language: eng_ZA 2, zul_ZA 1");
    expect(text).toMatch(/First recipient gets: Hello (Thandi|Sipho|Naledi), the clinic opens at 8\./);
    await preview.getByRole("button", { name: "Publish…" }).click();
    const dialog = page.getByRole("alertdialog", { name: `Send to 3 people on ${topic}?` });
    await expectAccessibleAndKeep(page, "broadcast-preview");
    await dialog.getByRole("button", { name: "Publish now" }).click();

    const status = page.getByRole("status");
    await status.getByText("Done").waitFor({ timeout: 30_000 });
    const statuses = page.getByRole("list", { name: "Messages by status" });
    expect(await statuses.textContent()).toBe("delivered: 3");
    expect(await page.getByText("3 of 3 recipients reached").count()).toBe(1);
    await expectAccessibleAndKeep(page, "broadcast-progress");

    // The message sender made the sends, mail-merged per person.
    for (const [i, name] of ["Thandi", "Sipho", "Naledi"].entries()) {
      const identity = people[i] as string;
      const sent = await ok(
        stack.api.messageSender.GET("/api/v1/outbound/", { params: { query: { to_identity: [identity] } } }),
      );
      expect(sent.results).toHaveLength(1);
      expect(sent.results[0]?.content).toMatch(
        new RegExp(`^Hello ${name}, the clinic opens at 8\\.\\n\\nUnsubscribe: `),
      );
      expect(sent.results[0]?.metadata).toMatchObject({ topic });
    }
  });
});
