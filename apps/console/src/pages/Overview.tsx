/**
 * Overview: messages sent, delivered and failed per day and per channel over the last 30 days (charts, each
 * followed by its numbers as a table), the delivery rate, each service's queues (waiting messages, consumers,
 * dead letters) and failed tasks; refreshed every 5 seconds.
 */
import { useQueries, useQuery } from "@tanstack/react-query";
import { CLIENT_KEYS, SERVICES, type ServiceName, type TidingsClient } from "@tidings/client";
import { lazy, Suspense } from "react";
import { ok } from "../api.ts";
import { ErrorNote, Loaded, Table, useClient } from "../ui.tsx";
import { DAYS, percent, range, type Summary, summarise, type Totals } from "./overview-data.ts";

const Charts = {
  Daily: lazy(() => import("./OverviewCharts.tsx").then((m) => ({ default: m.DailyChart }))),
  Channel: lazy(() => import("./OverviewCharts.tsx").then((m) => ({ default: m.ChannelChart }))),
};

export const REFRESH_MS = 5_000;

/** The services' queue listings (service-kit's, alike in each document). */
const queuesOf = (client: TidingsClient, service: ServiceName) =>
  ok((client[CLIENT_KEYS[service]] as unknown as TidingsClient["identity"]).GET("/api/v1/dead-letters/"));

/** How many failed tasks each service that keeps them holds (Seed's paginated count). */
const FAILED_TASK_COUNTS: [ServiceName, (c: TidingsClient) => Promise<{ count: number }>][] = [
  [
    "message-sender",
    (c) => ok(c.messageSender.GET("/api/v1/failed-tasks/", { params: { query: { limit: 1 } } })),
  ],
  ["scheduler", (c) => ok(c.scheduler.GET("/api/v1/failed-tasks/", { params: { query: { limit: 1 } } }))],
  [
    "subscription",
    (c) => ok(c.subscription.GET("/api/v1/failed-tasks/", { params: { query: { limit: 1 } } })),
  ],
];

const TOTAL_HEAD = ["Sent", "Delivered", "Failed"];
const totalCells = (t: Totals) => (
  <>
    <td>{t.sent}</td>
    <td>{t.delivered}</td>
    <td>{t.failed}</td>
  </>
);

function Messages({ summary }: { summary: Summary }) {
  const { total } = summary;
  return (
    <>
      <dl className="tiles">
        {(
          [
            ["Sent", total.sent],
            ["Delivered", total.delivered],
            ["Failed", total.failed],
            ["Delivery rate", percent(summary.deliveryRate)],
          ] as const
        ).map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <p className="muted">
        Sent counts every message accepted, whatever its status now; the delivery rate is the delivered share
        of those that ended (delivered, failed or expired).
      </p>
      <section className="card" aria-labelledby="per-day">
        <h2 id="per-day">Per day</h2>
        <Suspense fallback={<p className="muted">Loading the chart…</p>}>
          <Charts.Daily summary={summary} />
        </Suspense>
        <details>
          <summary>The chart's numbers</summary>
          <Table caption="Messages per day (UTC)" head={["Day", ...TOTAL_HEAD]}>
            {summary.days.map((d) => (
              <tr key={d.date}>
                <td>{d.date}</td>
                {totalCells(d)}
              </tr>
            ))}
          </Table>
        </details>
      </section>
      <section className="card" aria-labelledby="per-channel">
        <h2 id="per-channel">Per channel</h2>
        <Suspense fallback={<p className="muted">Loading the chart…</p>}>
          <Charts.Channel summary={summary} />
        </Suspense>
        <Table caption={`Messages per channel, last ${DAYS} days`} head={["Channel", ...TOTAL_HEAD]}>
          {summary.channels.map((c) => (
            <tr key={c.channel}>
              <td>{c.channel}</td>
              {totalCells(c)}
            </tr>
          ))}
        </Table>
      </section>
    </>
  );
}

function Queues() {
  const client = useClient();
  const queues = useQueries({
    queries: SERVICES.map((service) => ({
      queryKey: ["dead-letters", service],
      queryFn: () => queuesOf(client, service),
      refetchInterval: REFRESH_MS,
    })),
  });
  return (
    <>
      {queues.map((q) => q.error && <ErrorNote key={String(q.error)} error={q.error} />)}
      <Table caption="Queues" head={["Service", "Queue", "Waiting", "Consumers", "Dead letters"]}>
        {SERVICES.flatMap((service, i) =>
          (queues[i]?.data ?? []).map((q) => (
            <tr key={q.queue}>
              <td>{service}</td>
              <td>{q.queue}</td>
              <td>{q.messages}</td>
              <td>{q.consumers}</td>
              <td className={q.dead_letters > 0 ? "bad" : undefined}>{q.dead_letters}</td>
            </tr>
          )),
        )}
      </Table>
    </>
  );
}

function FailedTasks() {
  const client = useClient();
  const counts = useQueries({
    queries: FAILED_TASK_COUNTS.map(([service, count]) => ({
      queryKey: ["failed-tasks", service, "count"],
      queryFn: () => count(client),
      refetchInterval: REFRESH_MS,
    })),
  });
  return (
    <Table caption="Failed tasks" head={["Service", "Failed tasks"]}>
      {FAILED_TASK_COUNTS.map(([service], i) => (
        <tr key={service}>
          <td>{service}</td>
          <td>{counts[i]?.error ? "unavailable" : (counts[i]?.data?.count ?? "…")}</td>
        </tr>
      ))}
    </Table>
  );
}

export function Overview() {
  const client = useClient();
  const stats = useQuery({
    queryKey: ["channel-status-counts"],
    refetchInterval: REFRESH_MS,
    queryFn: async () => {
      const { from, to } = range();
      const rows = await ok(
        client.messageSender.GET("/api/v1/outbound/channel_status_counts/", {
          params: { query: { from, to } },
        }),
      );
      return summarise(rows);
    },
  });
  return (
    <>
      <h1>Overview</h1>
      <p className="muted">
        Messages of the last {DAYS} days (UTC), refreshed every {REFRESH_MS / 1000} seconds. Updated at{" "}
        <time>{stats.dataUpdatedAt ? new Date(stats.dataUpdatedAt).toLocaleTimeString() : "—"}</time>.
      </p>
      <Loaded query={stats}>{(summary) => <Messages summary={summary} />}</Loaded>
      <section className="card" aria-labelledby="backlog">
        <h2 id="backlog">Backlog and dead letters</h2>
        <Queues />
        <FailedTasks />
      </section>
    </>
  );
}
