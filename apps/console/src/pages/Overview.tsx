/**
 * Overview: messages sent, delivered and failed per day and per channel over the last 30 days (charts, each
 * followed by its numbers as a table), the delivery rate, each service's queues (waiting messages, consumers,
 * dead letters) and failed tasks; refreshed every 5 seconds.
 */
import { useQueries, useQuery } from "@tanstack/react-query";
import { CLIENT_KEYS, SERVICES, type ServiceName, type TidingsClient } from "@tidings/client";
import { lazy, type ReactNode, Suspense } from "react";
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

/** Rows of sent, delivered and failed, each under its label. */
function TotalsTable({ caption, label, rows }: { caption: string; label: string; rows: [string, Totals][] }) {
  return (
    <Table caption={caption} head={[label, "Sent", "Delivered", "Failed"]}>
      {rows.map(([name, t]) => (
        <tr key={name}>
          <td>{name}</td>
          <td>{t.sent}</td>
          <td>{t.delivered}</td>
          <td>{t.failed}</td>
        </tr>
      ))}
    </Table>
  );
}

/** A chart (drawn for the eye) under its heading, then its numbers as a table, folded away. */
function ChartCard({
  id,
  title,
  chart,
  numbers,
  children,
}: {
  id: string;
  title: string;
  chart: ReactNode;
  numbers: ReactNode;
  children?: ReactNode;
}) {
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <Suspense fallback={<p className="muted">Loading the chart…</p>}>{chart}</Suspense>
      {children}
      <details>
        <summary>The chart's numbers</summary>
        {numbers}
      </details>
    </section>
  );
}

function Messages({ summary }: { summary: Summary }) {
  const { total, channels } = summary;
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
      <ChartCard
        id="per-day"
        title="Per day"
        chart={<Charts.Daily summary={summary} />}
        numbers={
          <TotalsTable
            caption="Messages per day (UTC)"
            label="Day"
            rows={summary.days.map((d) => [d.date, d])}
          />
        }
      />
      <ChartCard
        id="per-channel"
        title="Per channel"
        chart={<Charts.Channel summary={summary} />}
        numbers={
          <Table caption="Sent per day (UTC) and channel" head={["Day", ...channels.map((c) => c.channel)]}>
            {summary.daysByChannel.map((d) => (
              <tr key={d.date}>
                <td>{d.date}</td>
                {channels.map((c) => (
                  <td key={c.channel}>{d[c.channel] ?? 0}</td>
                ))}
              </tr>
            ))}
          </Table>
        }
      >
        <TotalsTable
          caption={`Messages per channel, last ${DAYS} days`}
          label="Channel"
          rows={channels.map((c) => [c.channel, c])}
        />
      </ChartCard>
    </>
  );
}

/** One query per item, refreshed every REFRESH_MS. */
const useLiveQueries = <I, T>(
  items: readonly I[],
  key: (item: I) => unknown[],
  fetch: (item: I) => Promise<T>,
) =>
  useQueries({
    queries: items.map((item) => ({
      queryKey: key(item),
      queryFn: () => fetch(item),
      refetchInterval: REFRESH_MS,
    })),
  });

function Queues() {
  const client = useClient();
  const queues = useLiveQueries(
    SERVICES,
    (service) => ["dead-letters", service],
    (service) => queuesOf(client, service),
  );
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
  const counts = useLiveQueries(
    FAILED_TASK_COUNTS,
    ([service]) => ["failed-tasks", service, "count"],
    ([, count]) => count(client),
  );
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
