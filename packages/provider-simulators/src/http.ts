import http, { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

/** The request's body as text. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/**
 * A local HTTP server on 127.0.0.1 (on `port`, or any free one) that runs `handle` for each request; a request
 * whose `handle` throws before answering is answered 500 with `errorBody(err)`.
 */
export async function startHttpServer(
  port: number | undefined,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  errorBody: (err: unknown) => unknown,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        json(res, 500, errorBody(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port ?? 0, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${bound}` };
}

const agents = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
};

/**
 * POSTs a webhook (a status callback, an inbound message) as a provider does, on a kept-alive connection; resolves
 * with the HTTP status the receiver answered once its answer is read, rejects when it cannot be reached. node:http,
 * not fetch: fetch took several times the CPU per request, and the simulator shares the benchmarks' machine with the
 * platform it measures (`pnpm bench pipeline`: two callbacks a message).
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: "POST",
        agent: agents[target.protocol as keyof typeof agents],
        headers: { ...headers, "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode ?? -1));
        res.once("error", reject);
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}
