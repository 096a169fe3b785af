/**
 * The console's own small process: serves the built single-page app (dist/public/) and forwards
 * `/api/<service>/<path>` to that service's API (`<SERVICE>_URL`), so the browser talks to one origin and the
 * services need no CORS. Only the paths the console's pages use are forwarded (`FORWARDED_PATHS`: `/api/v1/`, and
 * content's `/media/`); any other `/api/...` is 404 in the services' error shape. The browser's `Authorization`
 * header (the operator's token) is passed through as is; the server holds no token of its own.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isForwarded, type ServiceUrls } from "./services.ts";

export { consoleSettingsOrExit } from "./services.ts";

export interface ConsoleServerOptions {
  /** Each service's API origin. */
  services: ServiceUrls;
  /** The built app (index.html and assets/). */
  publicDir: string;
  port?: number;
  host?: string;
}

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".ico": "image/x-icon",
};
/**
 * The app's pages run only the app's own scripts and styles, talk only to this origin, and are framed by nobody (the
 * operator's token is in the page's session storage).
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");
/**
 * A forwarded answer (JSON, or an uploaded media file served on this origin) is never run as a page: an SVG or HTML
 * file someone uploaded to content opens sandboxed, without scripts or this origin's storage.
 */
const FORWARDED_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'";
/** Request headers forwarded to a service (hop-by-hop and host headers are not). */
const FORWARDED = ["authorization", "content-type", "accept", "idempotency-key", "x-request-id"];
/** Response headers passed back to the browser. */
const RETURNED = ["content-type", "retry-after", "x-request-id", "location"];

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { code, message, requestId: "console" } }));
}

async function proxy(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: string,
  rest: string,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = req.headers[name];
    if (typeof value === "string") {
      headers[name] = value;
    }
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  let upstream: Response;
  try {
    // Node's fetch needs `duplex` to stream a request body.
    const init: RequestInit & { duplex?: "half" } = {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
      duplex: hasBody ? "half" : undefined,
      redirect: "manual",
    };
    upstream = await fetch(`${target.replace(/\/+$/, "")}${rest}`, init);
  } catch (err) {
    sendError(
      res,
      502,
      "SERVICE_UNREACHABLE",
      `The service at ${target} did not answer: ${(err as Error).message}`,
    );
    return;
  }
  const out: Record<string, string> = {
    "content-security-policy": FORWARDED_POLICY,
    "x-content-type-options": "nosniff",
  };
  for (const name of RETURNED) {
    const value = upstream.headers.get(name);
    if (value !== null) {
      out[name] = value;
    }
  }
  res.writeHead(upstream.status, out);
  if (upstream.body) {
    await pipeline(Readable.fromWeb(upstream.body as never), res);
  } else {
    res.end();
  }
}

async function serveFile(res: http.ServerResponse, publicDir: string, urlPath: string): Promise<void> {
  const relative = path.normalize(decodeURIComponent(urlPath)).replace(/^(\.\.[/\\])+/, "");
  let file = path.join(publicDir, relative);
  const found = await stat(file).catch(() => undefined);
  // Anything that is not a file is a page of the app: index.html routes it.
  if (!found?.isFile() || !file.startsWith(publicDir)) {
    file = path.join(publicDir, "index.html");
  }
  const type = TYPES[path.extname(file)] ?? "application/octet-stream";
  const cache = file.includes(`${path.sep}assets${path.sep}`)
    ? "public, max-age=31536000, immutable"
    : "no-cache";
  res.writeHead(200, {
    "content-type": type,
    "cache-control": cache,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": PAGE_POLICY,
    "x-frame-options": "DENY",
  });
  await pipeline(createReadStream(file), res);
}

/** Starts the console's server; `url` is where it listens. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const publicDir = path.resolve(options.publicDir);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://console");
    const match = /^\/api\/([a-z-]+)(\/.*)$/.exec(url.pathname);
    const [service = "", rest = ""] = match?.slice(1) ?? [];
    const handled = isForwarded(service, rest)
      ? proxy(req, res, options.services[service], `${rest}${url.search}`)
      : url.pathname.startsWith("/api/")
        ? Promise.resolve(sendError(res, 404, "NOT_FOUND", `The console forwards no ${url.pathname}`))
        : url.pathname === "/health"
          ? Promise.resolve(void res.writeHead(200, { "content-type": "text/plain" }).end("ok"))
          : serveFile(res, publicDir, url.pathname);
    handled.catch((err: Error) => {
      if (!res.headersSent) {
        sendError(res, 500, "CONSOLE_ERROR", err.message);
      } else {
        res.destroy(err);
      }
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 3000, options.host ?? "0.0.0.0", resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host === "0.0.0.0" || !options.host ? "127.0.0.1" : options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
