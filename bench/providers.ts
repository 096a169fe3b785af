/**
 * A Twilio send's CPU in the sending process, against the Twilio simulator in a process of its own: a bare
 * node:http POST of the same form (keep-alive; the baseline), the twilio SDK's `messages.create` through its
 * default HTTP client (axios), and through ours (`TwilioHttpClient`, what the workers use). CPU per request of
 * this process only, 16 requests in flight.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";
import twilio from "twilio";
import RequestClient from "twilio/lib/base/RequestClient.js";
import { twilioClient } from "../apps/message-sender/src/channels/twilio/adapter.ts";
import { ROOT } from "../packages/testing/src/processes.ts";
import { freePort, record } from "./lib.ts";

const SID = `AC${"0".repeat(32)}`;
const TOKEN = "simulator-auth-token";
const REQUESTS = Number(process.env.BENCH_PROVIDER_REQUESTS ?? 4_000);
const IN_FLIGHT = 16;
const MESSAGE = {
  To: "+27820000001",
  From: "+15005550006",
  Body: "Your clinic visit is on Tuesday at 09:00.",
};

/** The SDK's default client, its requests sent to the simulator's origin. */
class DefaultClientAt extends RequestClient {
  constructor(private readonly origin: string) {
    super({ timeout: 10_000 });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    return super.request({ ...opts, uri: `${this.origin}${uri.pathname}${uri.search}` });
  }
}

/** This process's CPU (ms) per call of `send`, `IN_FLIGHT` at a time, after a warm-up of a quarter as many. */
async function cpuPerCall(send: () => Promise<unknown>): Promise<number> {
  const calls = async (count: number) => {
    let started = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (started++ < count) {
          await send();
        }
      }),
    );
  };
  await calls(REQUESTS / 4);
  const before = process.cpuUsage();
  await calls(REQUESTS);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / REQUESTS;
}

export async function benchProviders(): Promise<void> {
  const port = await freePort();
  const simulator = spawn(
    process.execPath,
    ["--import", "tsx", path.join("packages", "provider-simulators", "src", "cli.ts")],
    {
      cwd: ROOT,
      env: { ...process.env, TWILIO_PORT: String(port), VONAGE_PORT: "0", SMTP_PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const origin = `http://127.0.0.1:${port}`;
    if (!simulator.stdout) {
      throw new Error("no simulator output");
    }
    await new Promise((resolve) => createInterface({ input: simulator.stdout }).once("line", resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const auth = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}`;
    const raw = await cpuPerCall(
      () =>
        new Promise((resolve, reject) => {
          const body = new URLSearchParams(MESSAGE).toString();
          const request = http.request(
            `${origin}/2010-04-01/Accounts/${SID}/Messages.json`,
            {
              method: "POST",
              agent,
              headers: {
                Authorization: auth,
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Length": Buffer.byteLength(body),
              },
            },
            (response) => {
              const chunks: Buffer[] = [];
              response.on("data", (chunk: Buffer) => chunks.push(chunk));
              response.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
            },
          );
          request.on("error", reject);
          request.end(body);
        }),
    );
    agent.destroy();
    record({ name: "twilio: raw node:http POST, CPU per request (baseline)", value: raw, unit: "ms" });
    const create = (client: twilio.Twilio) => () =>
      client.messages.create({ to: MESSAGE.To, from: MESSAGE.From, body: MESSAGE.Body });
    const sdkDefault = await cpuPerCall(
      create(twilio(SID, TOKEN, { httpClient: new DefaultClientAt(origin) })),
    );
    record({
      name: "twilio SDK messages.create, its default client (axios)",
      value: sdkDefault,
      unit: "ms",
      baseline: "raw",
      ratio: sdkDefault / raw,
    });
    const ours = await cpuPerCall(
      create(twilioClient({ account_sid: SID, auth_token: TOKEN, api_url: origin }, 10_000)),
    );
    record({
      name: "twilio SDK messages.create, TwilioHttpClient (workers)",
      value: ours,
      unit: "ms",
      baseline: "raw",
      ratio: ours / raw,
    });
  } finally {
    simulator.kill();
  }
}
