/**
 * Content's schedules with their next runs, as content computes them in each schedule's time zone
 * (GET /api/v1/schedule/{id}/runs/).
 */
import { useQuery } from "@tanstack/react-query";
import { ok } from "../api.ts";
import { ErrorNote, ListTable, useApi, useClient } from "../ui.tsx";

const NEXT_RUNS = 3;
const YEAR_MS = 366 * 24 * 3600 * 1000;

/** A run time in the schedule's own time zone (as it fires there), else the browser's. */
const inZone = (iso: string, timeZone?: string) =>
  new Date(iso).toLocaleString(undefined, { timeZone, dateStyle: "medium", timeStyle: "short" });

/** Content schedule `id`'s next runs within a year (a subscription's next sends are its schedule's next runs). */
export function NextRuns({ id, timezone }: { id: number; timezone?: string }) {
  const client = useClient();
  const runs = useQuery({
    queryKey: ["schedule-runs", id],
    queryFn: () => {
      const from = new Date();
      return ok(
        client.content.GET("/api/v1/schedule/{id}/runs/", {
          params: {
            path: { id },
            query: {
              from: from.toISOString(),
              to: new Date(from.getTime() + YEAR_MS).toISOString(),
              limit: NEXT_RUNS,
            },
          },
        }),
      );
    },
  });
  if (runs.error) {
    return <ErrorNote error={runs.error} />;
  }
  if (!runs.data) {
    return <span className="muted">Loading…</span>;
  }
  if (runs.data.runs.length === 0) {
    return <span className="muted">None within a year</span>;
  }
  return (
    <ul className="runs" aria-label={`Next runs of schedule ${id}`}>
      {runs.data.runs.map((r) => (
        <li key={r}>
          {/* HTML's datetime takes at most three fraction digits; the API answers Seed's six. */}
          <time dateTime={new Date(r).toISOString()}>{inZone(r, timezone)}</time>
        </li>
      ))}
    </ul>
  );
}

export function Schedules() {
  const schedules = useApi(["schedules"], (c) =>
    c.content.GET("/api/v1/schedule/", { params: { query: { limit: 100 } } }),
  );
  return (
    <>
      <h2>Schedules</h2>
      <ListTable
        query={schedules}
        empty="No schedules."
        caption="Schedules and their next runs"
        head={["#", "Cron", "Time zone", `Next ${NEXT_RUNS} runs (its time zone)`]}
        row={(s) => (
          <tr key={s.id}>
            <th scope="row">{s.id}</th>
            <td>
              <code>{s.cron_definition}</code>
            </td>
            <td>{s.timezone}</td>
            <td>
              <NextRuns id={s.id} timezone={s.timezone} />
            </td>
          </tr>
        )}
      />
    </>
  );
}
