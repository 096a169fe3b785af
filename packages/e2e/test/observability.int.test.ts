/**
 * infra/observability against real processes: the ten processes of the platform (pnpm start's command), one
 * outbound sent through them, then every API's and worker's /metrics scraped. Fails if a dashboard panel or an alert
 * names a metric that no process exports. RabbitMQ's metrics (from its Prometheus plugin, which is not enabled on the
 * shared test broker) are checked against the plugin's fixed list of names, infra/observability/rabbitmq-metrics.txt;
 * `up` is Prometheus's own, for every scrape target.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { closeAfter, ROOT, waitFor } from "@tidings/testing";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { type Platform, SERVICES, startPlatform } from "./platform.ts";
import { exportedNames, metricNames } from "./promql.ts";

const ADMIN_TOKEN = "e2e-observability-token-0123456789";
const DIR = path.join(ROOT, "infra", "observability");
/** Series Prometheus itself writes for every target. */
const PROMETHEUS_OWN = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);

const it = test.extend<{ platform: Platform }>({
  platform: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => closeAfter(await startPlatform({ ADMIN_TOKEN }), use, (platform) => platform.stop()),
    { scope: "file" },
  ],
});

interface Dashboard {
  panels: { title: string; type: string; targets?: { expr: string }[] }[];
}
interface Rules {
  groups: { name: string; rules: { alert: string; expr: string }[] }[];
}

/** Every expression of the dashboard and the alert rules, with where it is. */
async function expressions(): Promise<{ where: string; expr: string }[]> {
  const dashboard = JSON.parse(await readFile(path.join(DIR, "tidings-dashboard.json"), "utf8")) as Dashboard;
  const rules = parse(await readFile(path.join(DIR, "alerts.yml"), "utf8")) as Rules;
  return [
    ...dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
    ),
    ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
  ];
}

const scrape = async (url: string) => {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return res.text();
};

/** A sample's value summed over its series (undefined when it has none). */
function total(text: string, name: string): number | undefined {
  const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].map((m) =>
    Number(m[1]),
  );
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) : undefined;
}

describe("infra/observability", () => {
  it("names only metrics that the processes (or RabbitMQ's plugin) export", { timeout: 180_000 }, async ({
    platform,
  }) => {
    const sender = platform.base["message-sender"];
    const posted = await fetch(`${sender}/api/v1/outbound/`, {
      method: "POST",
      headers: { authorization: `Token ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ to_addr: "+27820001234", content: "observed", metadata: {} }),
    });
    expect(posted.status).toBe(201);
    // Delivered (the log channel reports at once), and the status events published and counted by the worker.
    const senderWorker = await waitFor(
      async () => {
        const text = await scrape(`${platform.workers["message-sender"]}/metrics`);
        return (total(text, "tidings_messages_delivered_total") ?? 0) >= 1 && text;
      },
      { what: "the delivery counted on the message-sender worker", timeoutMs: 30_000 },
    );
    expect(total(senderWorker, "tidings_messages_sent_total")).toBe(1);
    expect(total(senderWorker, "tidings_provider_request_duration_seconds_count")).toBe(1);
    expect(senderWorker).toMatch(
      /^tidings_queue_consumers\{queue="message-sender\.outbound-send[^"]*",service="message-sender"\} 1$/m,
    );

    const exported = new Set<string>(PROMETHEUS_OWN);
    for (const service of SERVICES) {
      for (const url of [`${platform.base[service]}/metrics`, `${platform.workers[service]}/metrics`]) {
        for (const name of exportedNames(await scrape(url))) {
          exported.add(name);
        }
      }
      expect((await fetch(`${platform.workers[service]}/ready`)).status).toBe(200);
    }
    expect(total(await scrape(`${sender}/metrics`), "tidings_messages_accepted_total")).toBe(1);
    expect(exported).toContain("tidings_scheduler_lag_seconds"); // the scheduler worker's own gauge

    const rabbitmq = new Set(
      (await readFile(path.join(DIR, "rabbitmq-metrics.txt"), "utf8"))
        .split("\n")
        .filter((line) => line.startsWith("rabbitmq_")),
    );
    const all = await expressions();
    expect(all.length).toBeGreaterThan(30);
    const unknown = all.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name) && !rabbitmq.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // Each alert the issue asks for is there.
    const alerts = all.map((e) => e.where);
    for (const name of [
      "TidingsOutboxStuck",
      "TidingsQueueGrowing",
      "TidingsDeadLetters",
      "TidingsDeliveryRateDropping",
      "TidingsProviderErrors",
      "TidingsSchedulerLag",
      "TidingsWorkerDown",
      "RabbitMQFileDescriptorsNearLimit",
      "RabbitMQFileHandleAlarm",
    ]) {
      expect(alerts).toContain(`alert ${name}`);
    }
  });
});
