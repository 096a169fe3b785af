import { type SmtpTestServer, startSmtpServer } from "@tidings/provider-simulators";
import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { call, closedAfterFile, type Svc } from "./support.ts";

const it = serviceTest(createMessageSenderService(), {
  worker: true,
  env: { OUTBOUND_RETRY_DELAYS_MS: "100,300,1000,3000", CHANNEL_CACHE_TTL_MS: "100" },
}).extend<{ smtp: SmtpTestServer; setUp: undefined }>({
  smtp: closedAfterFile(() =>
    startSmtpServer({
      auth: { user: "tidings", pass: "smtp-password" },
      rejectRecipient: (to) => (to.startsWith("nobody") ? { code: 550, message: "No such user" } : undefined),
    }),
  ),
  /** The EMAIL channel on the SMTP server, created before the file's first test. */
  setUp: [
    async ({ svc, smtp }, use) => {
      const res = await call(svc, "POST", "/api/v1/channel/", {
        channel_id: "EMAIL",
        channel_type: "smtp",
        configuration: {
          host: smtp.host,
          port: smtp.port,
          user: "tidings",
          password: "smtp-password",
          from: "Tidings <noreply@tidings.example.org>",
          default_subject: "A message from Tidings",
        },
      });
      expect(res.statusCode).toBe(201);
      await use(undefined);
    },
    { scope: "file", auto: true },
  ],
});

const waitForFinal = (svc: Svc, id: string) =>
  waitFor(
    async () => {
      const o = (await call(svc, "GET", `/api/v1/outbound/${id}/`)).json();
      return ["delivered", "failed"].includes(o.status) && o;
    },
    { what: `outbound ${id} to be final` },
  );

/** POST /api/v1/outbound/ through the EMAIL channel. */
const sendEmail = (svc: Svc, to: string, content: string, metadata: Record<string, unknown>) =>
  call(svc, "POST", "/api/v1/outbound/", { to_addr: to, channel: "EMAIL", content, metadata });

const email = () => `person-${Math.random().toString(36).slice(2)}@example.org`;

describe("the smtp channel", () => {
  it("sends an email with subject, text and HTML bodies to a real SMTP server", async ({ svc, smtp }) => {
    const to = email();
    const res = await sendEmail(svc, to, "Your appointment is on Monday.", {
      subject: "Appointment reminder",
      html: "<p>Your appointment is on <b>Monday</b>.</p>",
    });
    expect(res.statusCode).toBe(201);
    const outbound = await waitForFinal(svc, res.json().id);
    expect(outbound).toMatchObject({
      status: "delivered",
      to_addr: "",
      provider_id: `<${outbound.id}@tidings>`,
    });
    const mails = smtp.messages.filter((m) => m.to.includes(to));
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail).toMatchObject({
      from: "noreply@tidings.example.org",
      subject: "Appointment reminder",
      user: "tidings",
    });
    expect(mail?.raw).toContain("Your appointment is on Monday.");
    expect(mail?.raw).toContain("text/html");
    expect(mail?.raw).toContain("<b>Monday</b>");
  });

  it("uses the channel's default subject", async ({ svc, smtp }) => {
    const to = email();
    const res = await sendEmail(svc, to, "Hi", {});
    await waitForFinal(svc, res.json().id);
    expect(smtp.messages.find((m) => m.to.includes(to))?.subject).toBe("A message from Tidings");
  });

  it("sends metadata.headers (RFC 8058 one-click unsubscribe) as header lines, dropping unsafe ones", async ({
    svc,
    smtp,
  }) => {
    const to = email();
    const link = "https://tidings.example.org/unsubscribe/abc.def";
    const res = await sendEmail(svc, to, "News", {
      subject: "Topic news",
      headers: {
        "List-Unsubscribe": `<${link}>`,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Injected": "a\r\nBcc: someone@example.org",
      },
    });
    await waitForFinal(svc, res.json().id);
    const raw = smtp.messages.find((m) => m.to.includes(to))?.raw ?? "";
    const head = (raw.split(/\r?\n\r?\n/)[0] ?? "").replace(/\r?\n[ \t]+/g, " ");
    expect(head).toMatch(new RegExp(`^List-Unsubscribe: <${link.replaceAll(".", "\\.")}>$`, "m"));
    expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    expect(head).not.toMatch(/X-Injected|Bcc:/i);
  });

  it("sends to the checked address only: metadata.headers cannot add recipients or change the sender", async ({
    svc,
    smtp,
  }) => {
    const to = email();
    const res = await sendEmail(svc, to, "hello", {
      headers: {
        Bcc: "victim@evil.example",
        cc: "cc@evil.example",
        To: "to@evil.example",
        From: "ceo@evil.example",
        "Reply-To": "x@evil.example",
        "Resent-To": "resent@evil.example",
        "Content-Type": "text/html",
        "X-Campaign": "week-12",
      },
    });
    await waitForFinal(svc, res.json().id);
    const mail = smtp.messages.find((m) => m.to.includes(to));
    // The consent check and a team key's allow list saw only to_addr: so does the SMTP envelope.
    expect(mail?.to).toEqual([to]);
    expect(mail?.from).toBe("noreply@tidings.example.org");
    const head = (mail?.raw.split(/\r?\n\r?\n/)[0] ?? "").replace(/\r?\n[ \t]+/g, " ");
    expect(head).not.toMatch(/evil\.example/);
    expect(head).not.toMatch(/^Content-Type: text\/html/m);
    expect(head).toMatch(/^X-Campaign: week-12$/m);
    expect(smtp.messages.some((m) => m.to.some((r) => r.endsWith("evil.example")))).toBe(false);
  });

  it("fails at once with the SMTP code when the server rejects the recipient", async ({ svc, smtp }) => {
    const to = `nobody-${Math.random().toString(36).slice(2)}@example.org`;
    const res = await sendEmail(svc, to, "Hi", {});
    const outbound = await waitForFinal(svc, res.json().id);
    expect(outbound).toMatchObject({ status: "failed", attempts: 0, to_addr: "" });
    expect(outbound.last_error).toMatch(/^smtp 550: /);
    expect(smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(0);
  });

  it("retries while the password is wrong, and sends once it is fixed", async ({ svc, smtp }) => {
    await call(svc, "PATCH", "/api/v1/channel/EMAIL/", { configuration: { password: "wrong" } });
    await new Promise((r) => setTimeout(r, 300));
    const to = email();
    const res = await sendEmail(svc, to, "Hi", {});
    await waitFor(
      async () => (await call(svc, "GET", `/api/v1/outbound/${res.json().id}/`)).json().last_error,
      {
        what: "a failed attempt",
      },
    );
    await call(svc, "PATCH", "/api/v1/channel/EMAIL/", { configuration: { password: "smtp-password" } });
    const outbound = await waitForFinal(svc, res.json().id);
    expect(outbound.status).toBe("delivered");
    expect(smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(1);
  });
});
