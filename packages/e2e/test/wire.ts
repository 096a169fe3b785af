/**
 * Seed's Python clients on the wire: `seed-services-client` sends through `demands`' JSONServiceClient, a
 * `requests` session. These helpers write a request as those bytes (header order and spelling, Python's
 * `json.dumps` and `urlencode`) and send it over a plain socket, so a test replays what a hub sends rather than
 * what a JavaScript client would.
 */
import { connect } from "node:net";

/** Python's `json.dumps` with its defaults: `", "` and `": "` separators, non-ASCII as `\uXXXX`. */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) {
    return "null";
  }
  if (typeof value === "string") {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (typeof value === "boolean") {
    return value ? "true" : "false";
  }
  if (typeof value === "number") {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(pyJson).join(", ")}]`;
  }
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${pyJson(k)}: ${pyJson(v)}`)
    .join(", ")}}`;
}

/** Python's `quote_plus`: only letters, digits and `_.-~` stay as they are; a space is `+`. */
const quotePlus = (text: string) =>
  encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");

/** A Python parameter value as `requests` writes it: `True`/`False` for booleans, lists repeat the key. */
export type PyParam = string | number | boolean | (string | number)[];

/** `requests`' encoding of a `params` dict: `urlencode(params, doseq=True)`. */
export function pyQuery(params: Record<string, PyParam>): string {
  const pairs = Object.entries(params).flatMap(([k, v]) =>
    (Array.isArray(v) ? v : [v]).map((item) => {
      const text = typeof item === "boolean" ? (item ? "True" : "False") : String(item);
      return `${quotePlus(k)}=${quotePlus(text)}`;
    }),
  );
  return pairs.length ? `?${pairs.join("&")}` : "";
}

export interface SeedRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** The path below the service's URL, as the client writes it (`/identities/search/`). */
  path: string;
  params?: Record<string, PyParam>;
  /**
   * The `data` argument, JSON-encoded as Python would. `requests`' post/put/patch always pass `data` (None by
   * default) and JSONServiceClient encodes it: a body-less POST sends the text `null`. GET and DELETE send none.
   */
  data?: unknown;
  token: string;
}

/**
 * The bytes `requests` sends for a JSONServiceClient call: http.client's Host first, then the session's default
 * headers, then the client's own (`Authorization`, `Content-Type: application/json` on every request), and a
 * Content-Length for a body, or of 0 on a body-less request other than GET.
 */
export function seedWire(origin: string, prefix: string, request: SeedRequest): string {
  const host = new URL(origin).host;
  const body =
    request.data !== undefined || !["GET", "DELETE"].includes(request.method)
      ? pyJson(request.data)
      : undefined;
  const headers = [
    `Host: ${host}`,
    "User-Agent: python-requests/2.31.0",
    "Accept-Encoding: gzip, deflate",
    "Accept: */*",
    "Connection: keep-alive",
    `Authorization: Token ${request.token}`,
    "Content-Type: application/json",
  ];
  if (body !== undefined) {
    headers.push(`Content-Length: ${Buffer.byteLength(body)}`);
  } else if (request.method !== "GET") {
    headers.push("Content-Length: 0");
  }
  const target = `${prefix}${request.path}${pyQuery(request.params ?? {})}`;
  return `${request.method} ${target} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n${body ?? ""}`;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** Sends raw request bytes to `origin` and reads one HTTP/1.1 response (Content-Length or chunked). */
export async function sendRaw(origin: string, raw: string): Promise<WireResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    let buffer = Buffer.alloc(0);
    socket.setTimeout(30_000, () => socket.destroy(new Error(`no response from ${origin} in 30 s`)));
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parseResponse(buffer);
      if (parsed) {
        socket.destroy();
        resolve(parsed);
      }
    });
  });
}

function parseResponse(buffer: Buffer): WireResponse | undefined {
  const end = buffer.indexOf("\r\n\r\n");
  if (end === -1) {
    return undefined;
  }
  const [statusLine, ...lines] = buffer.subarray(0, end).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = buffer.subarray(end + 4);
  let body: Buffer | undefined;
  if (headers["transfer-encoding"] === "chunked") {
    body = dechunk(rest);
  } else {
    const length = Number(headers["content-length"] ?? 0);
    body = rest.length >= length ? rest.subarray(0, length) : undefined;
  }
  if (!body) {
    return undefined;
  }
  const text = body.toString("utf8");
  return {
    status: Number(statusLine?.split(" ")[1]),
    headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd === -1) {
      return undefined;
    }
    const size = Number.parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (size === 0) {
      return Buffer.concat(parts);
    }
    if (data.length < lineEnd + 2 + size + 2) {
      return undefined;
    }
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
