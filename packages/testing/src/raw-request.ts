import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";

export interface RawRequest {
  method?: string;
  /** Sent as written: neither fetch's URL parsing nor fastify's inject resolves its dot segments or backslashes. */
  path: string;
  headers?: OutgoingHttpHeaders;
  /** Written as given; its chunks go out one by one (a body without a `content-length` is sent chunked). */
  body?: string | string[];
  /** Leaves the body unfinished after `body`: the answer must come before the rest of a body that never does. */
  open?: boolean;
  /** Fails when no whole answer came in this many ms (default 10 s). */
  timeoutMs?: number;
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request to `origin` over a real socket, exactly as written, and its answer read to the end. */
export function sendRaw(
  origin: string,
  { method = "GET", path, headers = {}, body = [], open = false, timeoutMs = 10_000 }: RawRequest,
) {
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = http.request(`${origin}/`, { method, path, headers });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer to ${method} ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        text += chunk;
      });
      res.on("end", () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    for (const chunk of typeof body === "string" ? [body] : body) {
      req.write(chunk);
    }
    if (!open) {
      req.end();
    }
  });
}
