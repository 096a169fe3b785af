/**
 * The whole platform as a project hub sees it: every service's API and worker started as real processes
 * (the same command `pnpm start` runs), driven over HTTP only.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Subscription } from "@tidings/contracts";
import {
  createTestDatabase,
  createTestNamespace,
  type ServiceProcess,
  spawnService,
  type TestDatabase,
  type TestNamespace,
  waitFor,
  waitForHealthy,
} from "@tidings/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SERVICES = ["identity", "subscription", "content", "scheduler", "message-sender"] as const;
type ServiceName = (typeof SERVICES)[number];
const ADMIN_TOKEN = "e2e-admin-token-0123456789";
const SENT_FILE = path.join(tmpdir(), `tidings-e2e-sent-${process.pid}.jsonl`);

const databases: TestDatabase[] = [];
const databaseOf = (service: ServiceName) => databases[SERVICES.indexOf(service)]?.url as string;
const processes: ServiceProcess[] = [];
const output: string[] = [];
let namespace: TestNamespace;
const base = {} as Record<ServiceName, string>;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function call<T = Record<string, unknown>>(
  service: ServiceName,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base[service]}${url}`, {
    method,
    headers: {
      authorization: `Token ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function ok<T = Record<string, unknown>>(
  service: ServiceName,
  method: string,
  url: string,
  body?: unknown,
) {
  const res = await call<T>(service, method, url, body);
  expect(res.status, `${method} ${service}${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

interface SentLine {
  id: string;
  to_addr: string;
  content: string | null;
}
const sent = async (): Promise<SentLine[]> =>
  (await readFile(SENT_FILE, "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as SentLine);

beforeAll(async () => {
  namespace = createTestNamespace();
  const env: Record<string, string> = {
    AMQP_NAMESPACE: namespace.namespace,
    ADMIN_TOKEN,
    LOG_LEVEL: "warn",
    TICK_INTERVAL_MS: "200",
    LOG_CHANNEL_FILE: SENT_FILE,
  };
  for (const service of SERVICES) {
    const db = await createTestDatabase(service);
    databases.push(db);
    const port = await freePort();
    base[service] = `http://127.0.0.1:${port}`;
    env[`${service.toUpperCase().replace("-", "_")}_DATABASE_URL`] = db.url;
    env[`${service.toUpperCase().replace("-", "_")}_PORT`] = String(port);
  }
  const onLine = (line: string, name: string) => output.push(`${name} | ${line}`);
  for (const service of SERVICES) {
    processes.push(
      spawnService(service, "api", { env, onLine }),
      spawnService(service, "worker", { env, onLine }),
    );
  }
  // Ten processes start at once on two cores: under load that can take a while.
  await Promise.all(SERVICES.map((s) => waitForHealthy(`${base[s]}/api/health/`, 80_000)));
}, 120_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await Promise.all(databases.map((d) => d.drop()));
  await namespace?.cleanup();
  // Any process that logged an error fails the run: print what it said.
  const errors = output.filter((l) => /"level":(50|60)/.test(l));
  expect(errors, errors.join("\n")).toEqual([]);
}, 60_000);

describe("consent across services", () => {
  it("a STOP recorded at identity reaches message-sender within 2 s, and a send by number then goes nowhere", async () => {
    const number = "+27820003003";
    const identity = await ok<{ id: string }>("identity", "POST", "/api/v1/identities/", {
      details: { default_addr_type: "msisdn", addresses: { msisdn: { [number]: { default: true } } } },
    });
    const senderDb = new pg.Client({ connectionString: databaseOf("message-sender") });
    await senderDb.connect();
    try {
      await ok("identity", "POST", "/api/v1/optout/", {
        optout_type: "stop",
        identity: identity.id,
        address_type: "msisdn",
        address: number,
        request_source: "e2e",
      });
      const recorded = Date.now();
      // message-sender's copy of consent is keyed by the address's SHA-256
      await waitFor(
        async () =>
          (
            await senderDb.query(
              "SELECT 1 FROM opted_out_address WHERE address_hash = sha256(convert_to($1, 'UTF8')) AND opted_out",
              [number],
            )
          ).rowCount === 1,
        { timeoutMs: 10_000, intervalMs: 10, what: "message-sender's copy of the opt-out" },
      );
      const gapMs = Date.now() - recorded;
      console.info(`opt-out gap identity -> message-sender: ${gapMs} ms`);
      expect(gapMs).toBeLessThan(2_000);
    } finally {
      await senderDb.end();
    }
    const outbound = await ok<{ id: string }>("message-sender", "POST", "/api/v1/outbound/", {
      to_addr: number,
      content: "are you there?",
      metadata: {},
    });
    const final = await waitFor(async () => {
      const o = await ok<{ status: string; last_error: string | null }>(
        "message-sender",
        "GET",
        `/api/v1/outbound/${outbound.id}/`,
      );
      return o.status !== "queued" && o;
    });
    expect(final).toMatchObject({ status: "failed", last_error: "opted_out" });
    expect((await sent()).some((line) => line.id === outbound.id)).toBe(false);
  });
});

describe("a stage-based programme, end to end", () => {
  it("sends a subscriber each message in their language, advancing, then completes", async () => {
    const identity = await ok<{ id: string }>("identity", "POST", "/api/v1/identities/", {
      details: {
        default_addr_type: "msisdn",
        addresses: { msisdn: { "+27820001001": { default: true }, "+27820009999": { optedout: true } } },
        lang_code: "zul_ZA",
      },
    });

    const schedule = await ok<{ id: number }>("content", "POST", "/api/v1/schedule/", {
      minute: "0",
      hour: "8",
      day_of_week: "1,4",
    });
    const set = await ok<{ id: number }>("content", "POST", "/api/v1/messageset/", {
      short_name: `e2e.prebirth.${process.pid}`,
      default_schedule: schedule.id,
    });
    const texts = {
      eng_ZA: ["Week 1: welcome", "Week 1: eat well", "Week 2: rest"],
      zul_ZA: ["Iviki 1: siyakwamukela", "Iviki 1: yidla kahle", "Iviki 2: phumula"],
    };
    for (const [lang, list] of Object.entries(texts)) {
      for (const [i, text_content] of list.entries()) {
        await ok("content", "POST", "/api/v1/message/", {
          messageset: set.id,
          sequence_number: i + 1,
          lang,
          text_content,
        });
      }
    }

    // The scheduler mirrors the content schedule.
    const mirror = await waitFor(
      async () => {
        const list = await ok<{
          results: { id: string; source: { ref: string } | null; cron_definition: string }[];
        }>("scheduler", "GET", "/api/v1/schedule/");
        return list.results.find((s) => s.source?.ref === String(schedule.id));
      },
      { what: "scheduler mirror", timeoutMs: 15_000 },
    );
    expect(mirror.cron_definition).toBe("0 8 * * 1,4");

    // The subscription service learns the content from events; until then it answers 400, as it should.
    const subscription = await waitFor(
      async () => {
        const res = await call<Subscription>("subscription", "POST", "/api/v1/subscriptions/", {
          identity: identity.id,
          messageset: set.id,
          schedule: schedule.id,
          lang: "zul_ZA",
        });
        return res.status === 201 ? res.body : undefined;
      },
      { what: "subscription accepted", timeoutMs: 15_000 },
    );

    const outbounds = async () =>
      (
        await ok<{ results: { id: string; content: string; status: string; delivered: boolean }[] }>(
          "message-sender",
          "GET",
          `/api/v1/outbound/?to_identity=${identity.id}&limit=10`,
        )
      ).results;
    const position = async () =>
      ok<Subscription>("subscription", "GET", `/api/v1/subscriptions/${subscription.id}/`);

    // Three slots: a scheduler slot fired now (through schedule.fired), then the Seed send trigger twice.
    const triggers = [
      () => ok("scheduler", "POST", `/api/v1/schedule/${mirror.id}/fire/`),
      () => ok("subscription", "POST", `/api/v1/schedule/${schedule.id}/send/`),
      () => ok("subscription", "POST", `/api/v1/schedule/${schedule.id}/send/`),
    ];
    for (const [i, trigger] of triggers.entries()) {
      await trigger();
      const delivered = await waitFor(
        async () => {
          const list = await outbounds();
          return list.length === i + 1 && list.every((o) => o.status === "delivered") && list;
        },
        { what: `outbound ${i + 1} delivered`, timeoutMs: 20_000 },
      );
      expect(delivered.map((o) => o.content).reverse()).toEqual(texts.zul_ZA.slice(0, i + 1));
      const sub = await position();
      if (i < 2) {
        expect(sub).toMatchObject({ next_sequence_number: i + 2, active: true, completed: false });
      } else {
        expect(sub).toMatchObject({ completed: true, active: false, process_status: 2 });
      }
    }

    // Each went to the default address, never the opted-out one, and exactly once.
    const lines = (await sent()).filter((l) => texts.zul_ZA.includes(l.content ?? ""));
    expect(lines.map((l) => l.to_addr)).toEqual(["+27820001001", "+27820001001", "+27820001001"]);
    expect(new Set(lines.map((l) => l.id)).size).toBe(3);

    // A further trigger sends nothing: the subscription is complete.
    await ok("subscription", "POST", `/api/v1/schedule/${schedule.id}/send/`);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await outbounds()).toHaveLength(3);
  });

  it("answers bad input with the error shape and changes nothing", async () => {
    const before = (await ok<{ count: number }>("identity", "GET", "/api/v1/identities/")).count;
    const res = await call<{ error: { code: string; requestId: string } }>(
      "identity",
      "POST",
      "/api/v1/identities/",
      {
        details: { no_addresses: true },
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_FAILED");
    expect((await ok<{ count: number }>("identity", "GET", "/api/v1/identities/")).count).toBe(before);
    const anonymous = await fetch(`${base["message-sender"]}/api/v1/outbound/`);
    expect(anonymous.status).toBe(401);
  });
});
