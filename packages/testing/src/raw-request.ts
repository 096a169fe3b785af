import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";

export interface RawRequest {
  method?: string;
  /** Sent as written: neither fetch's URL parsing nor fastify's inject resolves its dot segments or backslashes. */
  path: string;
  headers?: OutgoingHttpHeaders;
  /** Written as given; its chunks go out one by one (a body without a `content-length` is sent chunked). */
  body?: string | string[];
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request to `origin` over a real socket, exactly as written, and its answer read to the end. */
export function sendRaw(origin: string, { method = "GET", path, headers = {}, body = [] }: RawRequest) {
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = http.request(`${origin}/`, { method, path, headers });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    for (const chunk of typeof body === "string" ? [body] : body) {
      req.write(chunk);
    }
    req.end();
  });
}
