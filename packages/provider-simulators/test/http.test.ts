import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postWebhook, readText } from "../src/http.ts";

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
  socket: number;
}

describe("postWebhook", () => {
  const received: Received[] = [];
  const sockets = new Map<object, number>();
  const server = createServer(async (req, res) => {
    const socket = sockets.get(req.socket) ?? sockets.size;
    sockets.set(req.socket, socket);
    received.push({ headers: req.headers, body: await readText(req), socket });
    res.writeHead(req.url === "/gone" ? 410 : 204).end();
  });
  let base = "";

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("posts the body and headers as given and resolves with the receiver's status", async () => {
    const body = "MessageSid=SM1&MessageStatus=delivered&Body=%C3%A9t%C3%A9";
    const status = await postWebhook(
      `${base}/status?channel=TW`,
      { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "sig" },
      body,
    );
    expect(status).toBe(204);
    expect(await postWebhook(`${base}/gone`, {}, "")).toBe(410);
    const [first] = received.slice(-2);
    expect(first?.body).toBe(body);
    expect(first?.headers).toMatchObject({
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": "sig",
      "content-length": String(Buffer.byteLength(body)),
    });
  });

  it("keeps its connection alive from one webhook to the next", async () => {
    received.length = 0;
    for (let i = 0; i < 3; i++) {
      await postWebhook(`${base}/status`, {}, `n=${i}`);
    }
    expect(received.map((r) => r.body)).toEqual(["n=0", "n=1", "n=2"]);
    expect(new Set(received.map((r) => r.socket)).size).toBe(1);
  });

  it("rejects when the receiver cannot be reached", async () => {
    await expect(postWebhook(`http://127.0.0.1:${await freePort()}/status`, {}, "")).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});
