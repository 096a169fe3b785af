import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, onTestFinished, test } from "vitest";
import { twilioClient, twilioSendError } from "../src/channels/twilio/adapter.ts";
import { loadMessageSenderConfig, twilioTransport } from "../src/config.ts";
import { NoAnswerError, PermanentSendError } from "../src/outbound/channel.ts";

// The twilio SDK's requests as our HTTP client carries them, against real local servers: what reaches the wire,
// what the SDK makes of the answers, the timeout, and HTTP_PROXY with TWILIO_CA_BUNDLE as the SDK's own client
// takes them.

const SID = `AC${"7".repeat(32)}`;
const TOKEN = "http-client-token";
const MESSAGE = { sid: `SM${"1".repeat(32)}`, status: "queued", to: "+27820000001", body: "x" };

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Answer = (request: Received, response: http.ServerResponse) => void;

const servers: { close(): unknown }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.close();
  }
});

const json = (status: number, body: unknown) => (_: Received, response: http.ServerResponse) => {
  response.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
};

/** Answers every request with `answer`, after reading its body; the requests it got, in order. */
function recording(answer: Answer) {
  const received: Received[] = [];
  const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      const one = { method: request.method ?? "", url: request.url ?? "", headers: request.headers, body };
      received.push(one);
      answer(one, response);
    });
  };
  return { received, handler };
}

async function listen(server: http.Server | https.Server | net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

async function httpServer(answer: Answer) {
  const { received, handler } = recording(answer);
  const server = http.createServer(handler);
  let connections = 0;
  server.on("connection", () => {
    connections++;
  });
  const port = await listen(server);
  return { received, origin: `http://127.0.0.1:${port}`, connections: () => connections };
}

const clientAt = (origin: string, timeout = 2_000) =>
  twilioClient({ account_sid: SID, auth_token: TOKEN, api_url: origin }, timeout);

describe("the twilio SDK through our HTTP client", () => {
  test("a create goes out as the SDK built it: path, basic auth, a form body with a list repeated", async () => {
    const server = await httpServer(json(201, MESSAGE));
    const message = await clientAt(server.origin).messages.create({
      to: "+27820000001",
      from: "+15005550006",
      body: "héllo & more = 100%",
      mediaUrl: ["https://example.org/1.png", "https://example.org/2.png"],
    });

    expect(message.sid).toBe(MESSAGE.sid);
    const [request] = server.received;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}`);
    expect(request?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request?.headers["user-agent"]).toMatch(/^twilio-node\//);
    expect(Number(request?.headers["content-length"])).toBe(Buffer.byteLength(request?.body ?? ""));
    const form = new URLSearchParams(request?.body);
    expect(form.get("To")).toBe("+27820000001");
    expect(form.get("Body")).toBe("héllo & more = 100%");
    expect(form.getAll("MediaUrl")).toEqual(["https://example.org/1.png", "https://example.org/2.png"]);
  });

  test("a list's parameters go in the query, and the page's records come back", async () => {
    const server = await httpServer(json(200, { messages: [MESSAGE], next_page_uri: null }));
    const messages = await clientAt(server.origin).messages.list({ to: "+27820000001", limit: 5 });

    expect(messages.map((m) => m.sid)).toEqual([MESSAGE.sid]);
    const url = new URL(server.received[0]?.url ?? "", server.origin);
    expect(server.received[0]?.method).toBe("GET");
    expect(url.pathname).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(url.searchParams.get("To")).toBe("+27820000001");
    expect(url.searchParams.get("PageSize")).toBe("5");
  });

  test("an error answer is the SDK's error, with Twilio's status and code", async () => {
    const server = await httpServer(
      json(400, { code: 21211, message: "The 'To' number is not valid", status: 400 }),
    );
    const err = await clientAt(server.origin)
      .messages.create({ to: "+27820000001", from: "+15005550006", body: "x" })
      .catch((e: unknown) => e);

    expect(err).toMatchObject({ status: 400, code: 21211, message: "The 'To' number is not valid" });
    expect(twilioSendError(err, 2_000)).toBeInstanceOf(PermanentSendError);
  });

  test("keeps a burst's connections open for the next burst", async () => {
    const server = await httpServer(json(201, MESSAGE));
    const client = clientAt(server.origin);
    const burst = () =>
      Promise.all(
        Array.from({ length: 16 }, () =>
          client.messages.create({ to: "+27820000001", from: "+15005550006", body: "x" }),
        ),
      );
    await burst();
    const opened = server.connections();
    expect(opened).toBeGreaterThan(5);
    await burst();
    await burst();
    expect(server.received).toHaveLength(48);
    expect(server.connections()).toBe(opened);
  });

  test("a request unanswered within the timeout fails as no answer, at the timeout", async () => {
    const server = await httpServer(() => undefined);
    const started = Date.now();
    const err = await clientAt(server.origin, 300)
      .messages.create({ to: "+27820000001", from: "+15005550006", body: "x" })
      .catch((e: unknown) => e);

    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(twilioSendError(err, 300)).toBeInstanceOf(NoAnswerError);
    expect(server.received).toHaveLength(1);
  });
});

describe("HTTP_PROXY and TWILIO_CA_BUNDLE", () => {
  test("https requests go through the proxy when one is set, to a server the CA bundle vouches for", async () => {
    // A certificate for localhost that only the bundle vouches for: without TWILIO_CA_BUNDLE the request fails.
    const dir = mkdtempSync(path.join(tmpdir(), "tidings-twilio-tls-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
    execFileSync("openssl", [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
      ...["-addext", "subjectAltName=DNS:localhost"],
    ]);
    const { received, handler } = recording(json(201, MESSAGE));
    const tlsPort = await listen(
      https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, handler),
    );
    // A CONNECT proxy: it notes each tunnel's target and joins the two sockets.
    const tunnels: string[] = [];
    const proxy = http.createServer();
    proxy.on("connect", (request: http.IncomingMessage, client: net.Socket) => {
      tunnels.push(request.url ?? "");
      const [host, port] = (request.url ?? "").split(":");
      const upstream = net.connect(Number(port), host === "localhost" ? "127.0.0.1" : host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.pipe(client).pipe(upstream);
      });
    });
    const proxyPort = await listen(proxy);
    // The transport a Twilio channel gets, from message-sender's configuration of these variables.
    const send = (env: Record<string, string>) =>
      twilioClient(
        { account_sid: SID, auth_token: TOKEN, api_url: `https://localhost:${tlsPort}` },
        2_000,
        twilioTransport(loadMessageSenderConfig(env)),
      )
        .messages.create({ to: "+27820000001", from: "+15005550006", body: "x" })
        .then(
          (message) => message.sid,
          (err: Error) => err,
        );

    const HTTP_PROXY = `http://127.0.0.1:${proxyPort}`;
    expect(await send({ HTTP_PROXY })).toBeInstanceOf(Error);
    expect(await send({ HTTP_PROXY, TWILIO_CA_BUNDLE: cert })).toBe(MESSAGE.sid);
    expect(tunnels).toEqual([`localhost:${tlsPort}`, `localhost:${tlsPort}`]);
    expect(await send({ TWILIO_CA_BUNDLE: cert })).toBe(MESSAGE.sid);
    expect(tunnels).toHaveLength(2);
    expect(received).toHaveLength(2);
  });
});
