import { createServer, type Server, type Socket } from "node:net";
import { TWILIO_ERRORS, type TwilioSimulator } from "@tidings/provider-simulators";
import { describe, expect, test } from "vitest";
import { TwilioChannel } from "../src/channels/twilio/adapter.ts";
import { NoAnswerError } from "../src/outbound/channel.ts";
import { msisdn } from "./helpers.ts";
import { twilioSimulator } from "./support.ts";

// Which failures of a real Twilio SDK request are "no answer" (the provider may still accept the message, so the
// claim is held) and which are not: real sockets, real SDK errors.

const SID = `AC${"5".repeat(32)}`;

const TOKEN = "no-answer-token";
/** Starts a TCP server on a free port that does `onConnection` with every connection; resolves to its origin. */
type TcpServer = (onConnection: (socket: Socket) => void) => Promise<string>;

const it = test.extend<{ sim: TwilioSimulator; tcpServer: TcpServer; servers: Server[] }>({
  sim: twilioSimulator({ accounts: { [SID]: TOKEN } }),
  /** The servers `tcpServer` started, closed after the file's last test. */
  servers: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      const servers: Server[] = [];
      await use(servers);
      for (const server of servers) {
        server.close();
      }
    },
    { scope: "file" },
  ],
  tcpServer: [
    async ({ servers }, use) => {
      await use(async (onConnection) => {
        const server = createServer(onConnection);
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const address = server.address();
        return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      });
    },
    { scope: "file" },
  ],
});

const channelAt = (url: string) =>
  new TwilioChannel("TW", {
    account_sid: SID,
    auth_token: TOKEN,
    from: "+15005550006",
    api_url: url,
    timeout_ms: 300,
  });
const sendThrough = (url: string) =>
  channelAt(url)
    .send({ id: "00000000-0000-4000-8000-000000000001", content: "Hello", metadata: {} }, msisdn())
    .then(
      () => undefined,
      (err: unknown) => err,
    );

describe("a Twilio send that fails", () => {
  it("is unanswered when the request times out", async ({ tcpServer }) => {
    const silent = await tcpServer(() => undefined); // reads the request, never answers
    const err = await sendThrough(silent);
    expect(err).toBeInstanceOf(NoAnswerError);
    expect(err).toMatchObject({ waitedMs: 300 });
  });

  it("is unanswered when the connection breaks after the request went out", async ({ tcpServer }) => {
    const breaking = await tcpServer((socket) => socket.once("data", () => socket.destroy()));
    expect(await sendThrough(breaking)).toBeInstanceOf(NoAnswerError);
  });

  it("is not unanswered when the connection was refused (nothing went out)", async ({
    tcpServer,
    servers,
  }) => {
    const closed = await tcpServer(() => undefined);
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    const err = await sendThrough(closed);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(NoAnswerError);
  });

  it("is not unanswered when Twilio answered with an error", async ({ sim }) => {
    sim.failNext(TWILIO_ERRORS.serverError());
    const err = await sendThrough(sim.url);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(NoAnswerError);
  });
});
