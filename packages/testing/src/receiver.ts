import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface HttpReceiver {
  /** Its origin, e.g. http://127.0.0.1:4321. */
  url: string;
  /** Every request received, in order. */
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A local HTTP server (a webhook or callback target) that records every request and answers it with the status
 * `answer` gives (200 by default): "ok" below 400, "nope" from 400 on.
 */
export async function startHttpReceiver(
  answer: (request: ReceivedRequest) => number = () => 200,
): Promise<HttpReceiver> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const request = { path: req.url ?? "/", headers: req.headers, body, at: Date.now() };
      received.push(request);
      const status = answer(request);
      res.writeHead(status).end(status < 400 ? "ok" : "nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
