import http from "node:http";
import https from "node:https";
import { HttpsProxyAgent } from "https-proxy-agent";
import RequestClient from "twilio/lib/base/RequestClient.js";
import type TwilioResponse from "twilio/lib/http/response.js";

/**
 * Sockets per host, at most (as the SDK's own client), all kept open between requests: a worker's sends come in
 * bursts of up to OUTBOUND_SENDS_IN_FLIGHT, and the SDK's 5 kept sockets closed the rest of a burst's after it, to
 * open them again for the next (a TCP, and against Twilio a TLS, handshake per send). An idle one closes after the
 * channel's timeout.
 */
const MAX_SOCKETS = 20;

/**
 * How the Twilio channels reach Twilio, from message-sender's configuration (see twilioTransport in config.ts): an
 * https proxy (HTTP_PROXY, CONNECT) and the PEM certificates of the CAs to trust (TWILIO_CA_BUNDLE's file).
 */
export interface TwilioTransport {
  proxy?: string;
  ca?: string;
}

/** A request that got no answer within its timeout: `code` is one `unanswered` takes for "no answer". */
class RequestTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
}

/**
 * The twilio SDK's HTTP client (its `httpClient` option) over Node's own keep-alive agents. The SDK builds each
 * request (URL, form body, basic auth, headers) and reads each answer as it does with its default client; this
 * only carries them. The default runs every request through axios, which doubles the sending process's CPU for a
 * `messages.create`: 0.40 ms against 0.20 ms through this, a bare node:http POST 0.16 (`pnpm bench providers`).
 *
 * As the default: `proxy` (HTTP_PROXY) sends https requests through that proxy, `ca` (TWILIO_CA_BUNDLE's
 * certificates) are the CA certificates to trust, redirects are not followed, `timeout` bounds both the whole request
 * and an idle socket. `origin`, when given, replaces every request's origin (a simulator, a proxy), path and query
 * unchanged.
 */
export class TwilioHttpClient extends RequestClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: http.Agent;
  /** TWILIO_CA_BUNDLE's certificates, given with each https request: the proxy's agent takes them from there. */
  private readonly ca: string | undefined;

  constructor(private readonly options: { timeout: number; origin?: string } & TwilioTransport) {
    super({ timeout: options.timeout });
    const agentOptions = {
      keepAlive: true,
      timeout: options.timeout,
      maxSockets: MAX_SOCKETS,
      maxFreeSockets: MAX_SOCKETS,
    };
    this.httpAgent = new http.Agent(agentOptions);
    this.ca = options.ca;
    this.httpsAgent = options.proxy ? new HttpsProxyAgent(options.proxy) : new https.Agent(agentOptions);
  }

  override async request<TData>(
    opts: RequestClient.RequestOptions<TData>,
  ): Promise<TwilioResponse.default<TData>> {
    const url = new URL(opts.uri);
    const target = this.options.origin ? new URL(`${url.pathname}${url.search}`, this.options.origin) : url;
    appendParams(target.searchParams, opts.params);
    const headers: Record<string, string> = { Connection: "keep-alive", ...opts.headers };
    if (opts.username && opts.password) {
      headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString("base64")}`;
    } else if (opts.authStrategy) {
      headers.Authorization = await opts.authStrategy.getAuthString();
    }
    const body = requestBody(headers["Content-Type"], opts.data as object | undefined);
    if (body !== undefined) {
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    const secure = target.protocol === "https:";
    const timeout = opts.timeout ?? this.options.timeout;
    return new Promise((resolve, reject) => {
      const request = (secure ? https : http).request(
        target,
        secure
          ? { method: opts.method.toUpperCase(), headers, agent: this.httpsAgent, ca: this.ca }
          : { method: opts.method.toUpperCase(), headers, agent: this.httpAgent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", (err) => {
            clearTimeout(timer);
            reject(err);
          });
          response.on("end", () => {
            clearTimeout(timer);
            // The body as text: the SDK parses a string body itself, as JSON, answers and errors alike.
            const text = Buffer.concat(chunks).toString("utf8") as TData;
            resolve({
              statusCode: response.statusCode ?? 0,
              body: text,
              headers: response.headers,
            } as TwilioResponse.default<TData>);
          });
        },
      );
      const timer = setTimeout(
        () => request.destroy(new RequestTimeoutError(`no answer within ${timeout} ms`)),
        timeout,
      );
      request.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      request.end(body);
    });
  }
}

/** Query parameters as the SDK's client writes them: a list as the same name repeated. */
function appendParams(search: URLSearchParams, params: object | undefined): void {
  for (const [name, value] of Object.entries(params ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined) {
        search.append(name, String(one));
      }
    }
  }
}

/** A form body (a list as the same name repeated) or JSON, as the request's Content-Type says. */
function requestBody(contentType: string | undefined, data: object | undefined): string | undefined {
  if (!data) {
    return undefined;
  }
  if (contentType === "application/json") {
    return JSON.stringify(data);
  }
  if (contentType === "application/x-www-form-urlencoded") {
    const form = new URLSearchParams();
    appendParams(form, data);
    return form.toString();
  }
  return undefined;
}
