/**
 * Seed hubs, as they are: the requests of Praekelt's `seed-services-client` (0.37, on `demands` and `requests`) and
 * the call patterns of two real hubs (praekeltfoundation/ndoh-hub, praekelt/hellomama-registration), replayed as
 * the bytes those Python clients write (see ./wire.ts) against the real processes. Only URLs and tokens differ
 * from what the hubs sent to the Seed Stack. Each request names the hub code it comes from. This is the `it` of the
 * seed-hubs-*.int.test.ts files: the platform, the hub's client with the programme's content loaded, and the hub.
 */
import type { IncomingHttpHeaders } from "node:http";
import { closing, type HttpReceiver, startHttpReceiver, waitFor } from "@tidings/testing";
import pg from "pg";
import { expect } from "vitest";
import type { Platform } from "./platform.ts";
import { ok, SeedClient, type Service } from "./seed-client.ts";
import { platformTest } from "./support.ts";

const ADMIN_TOKEN = "e2e-seed-admin-token-0123456789";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** The hub's side: its webhook receivers, and its own calls to the services. */
export interface SeedHub {
  /** The origin of its webhook receivers. */
  url: string;
  /** What the services POSTed to the hub's receivers under `path`, once there are `count` of them. */
  waitForHook(path: string, count?: number, timeoutMs?: number): Promise<Received[]>;
  /** A hub's `DeliverHook`: `requests.post(target, data=json.dumps(payload), headers=...)` to an SBM receiver. */
  hookPost: (service: Service, path: string, payload: unknown) => ReturnType<SeedClient["seed"]>;
  setByName(shortName: string): Promise<{ id: number; short_name: string; default_schedule: number }>;
  /** ndoh's hook to SBM for a subscription request (`serialize_hook`): metadata null, isoformat() times. */
  subscriptionRequest: (data: Record<string, unknown>) => ReturnType<SeedClient["seed"]>;
}

/**
 * The programme's content, as its operators loaded it (through the one SBM URL), and ndoh's channel; then waits
 * until the subscription service's copies hold it all: content's events reach it a moment later (a subscription
 * request waits up to 2 s for a new set or schedule, but the tests then send the programme's messages, whose copies
 * must be there too).
 */
async function loadProgramme(platform: Platform, client: SeedClient): Promise<void> {
  const schedule = await ok(
    client.seed("subscription", "POST", "/schedule/", {
      data: { minute: "0", hour: "8", day_of_week: "1,3" },
    }),
    201,
  );
  for (const shortName of [
    "momconnect_prebirth.hw_full.1",
    "momconnect_postbirth.hw_full.1",
    "nurseconnect.hw_full.1",
    "popi.hw_full.1",
  ]) {
    const set = await ok(
      client.seed("subscription", "POST", "/messageset/", {
        data: { short_name: shortName, content_type: "text", default_schedule: schedule.id },
      }),
      201,
    );
    for (const lang of ["eng_ZA", "zul_ZA"]) {
      for (const sequence_number of [1, 2, 3]) {
        await ok(
          client.seed("subscription", "POST", "/message/", {
            data: {
              messageset: set.id,
              sequence_number,
              lang,
              text_content: `${shortName} ${lang} ${sequence_number}`,
            },
          }),
          201,
        );
      }
    }
  }
  // ndoh sends its welcome through the channel it named at Seed: JUNE_TEXT.
  await client.asAdmin("message-sender", "/channel/", {
    channel_id: "JUNE_TEXT",
    channel_type: "log",
    default: true,
  });
  const copies = new pg.Client({ connectionString: platform.databaseUrl("subscription") });
  await copies.connect();
  try {
    await waitFor(
      async () => {
        const { rows } = await copies.query<{ copied: boolean }>(
          `SELECT (SELECT count(*) FROM schedule_copy) >= 1 AND (SELECT count(*) FROM messageset_copy) >= 4
             AND (SELECT count(*) FROM message_copy) >= 24 AS copied`,
        );
        return rows[0]?.copied;
      },
      { what: "the subscription service's copy of the programme" },
    );
  } finally {
    await copies.end();
  }
}

function seedHub(platform: Platform, client: SeedClient, receiver: HttpReceiver): SeedHub {
  const hookPost = (service: Service, path: string, payload: unknown) =>
    client.seed(service, "POST", path, { data: payload });
  return {
    url: receiver.url,
    async waitForHook(path, count = 1, timeoutMs = 20_000) {
      const received = () =>
        receiver.received.map((r) => ({
          path: r.path,
          headers: r.headers,
          body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {},
        }));
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const hits = received().filter((r) => r.path.startsWith(path));
        if (hits.length >= count) {
          return hits;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `no ${count} hook deliveries to ${path}: ${JSON.stringify(received().map((r) => r.path))}`,
      );
    },
    hookPost,
    async setByName(shortName) {
      // ndoh: next(sbm_client.get_messagesets({"short_name": short_name})["results"])
      const [set] = await client.paginated("subscription", "/messageset/", { short_name: shortName });
      expect(set, shortName).toBeDefined();
      return set as { id: number; short_name: string; default_schedule: number };
    },
    subscriptionRequest: (data) =>
      hookPost("subscription", "/subscriptions/request", {
        hook: {
          id: 4,
          event: "subscriptionrequest.added",
          target: `${platform.base.subscription}/api/v1/subscriptions/request`,
        },
        data: {
          id: crypto.randomUUID(),
          metadata: null,
          created_at: "2019-02-22T10:00:00.123456+00:00",
          updated_at: "2019-02-22T10:00:00.123456+00:00",
          ...data,
        },
      }),
  };
}

export const it = platformTest({
  ADMIN_TOKEN,
  TICK_INTERVAL_MS: "200",
  HOOK_POLL_INTERVAL_MS: "100",
  HOOK_RETRY_BASE_MS: "100",
  SCHEDULER_HTTP_ALLOWED_HOSTS: "127.0.0.1",
}).extend<{ receiver: HttpReceiver; client: SeedClient; hub: SeedHub }>({
  // ndoh's change/inactive answers 201 (with an empty body); HelloMama's optout receiver 200.
  receiver: [
    closing(() => startHttpReceiver((r) => (r.path.startsWith("/api/v1/change/inactive/") ? 201 : 200))),
    { scope: "file" },
  ],
  client: [
    async ({ platform }, use) => {
      const client = new SeedClient(platform, ADMIN_TOKEN);
      await client.issueTokens("hub@momconnect.example.org");
      await loadProgramme(platform, client);
      await use(client);
    },
    { scope: "file" },
  ],
  hub: [
    async ({ platform, client, receiver }, use) => use(seedHub(platform, client, receiver)),
    { scope: "file" },
  ],
});
