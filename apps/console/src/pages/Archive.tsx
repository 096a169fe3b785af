/**
 * Operations' archive: days of final outbounds written to message-sender's ARCHIVE_DIR and purged
 * (POST /api/v1/archive-outbounds/, run while the request lasts), and the days archived so far.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ok } from "../api.ts";
import { ErrorNote, ListTable, useApi, useClient, when } from "../ui.tsx";

const DAY_MS = 86_400_000;
/** A UTC day `n` days ago, as YYYY-MM-DD. */
const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString().slice(0, 10);

export function Archive() {
  const client = useClient();
  const queryClient = useQueryClient();
  const [start, setStart] = useState(() => daysAgo(90));
  const [end, setEnd] = useState(() => daysAgo(60));
  const days = useApi(["archived-days"], (c) =>
    c.messageSender.GET("/api/v1/archive-outbounds/", { params: { query: { limit: 100 } } }),
  );
  const archive = useMutation({
    mutationFn: (range: { start: string; end: string }) =>
      ok(client.messageSender.POST("/api/v1/archive-outbounds/", { body: range })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["archived-days"] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    archive.mutate({ start, end });
  };
  return (
    <section className="card stack" aria-labelledby="archive-title">
      <h2 id="archive-title">Archive outbounds</h2>
      <p className="muted">
        Each day of the range (UTC, before today) not archived yet: its delivered, failed, expired and
        cancelled messages are written to the message sender's archive directory, then deleted from its
        database.
      </p>
      <form className="stack" onSubmit={submit}>
        <label>
          From <input type="date" value={start} onChange={(e) => setStart(e.target.value)} required />
        </label>
        <label>
          To <input type="date" value={end} onChange={(e) => setEnd(e.target.value)} required />
        </label>
        <button type="submit" disabled={archive.isPending}>
          Archive
        </button>
      </form>
      {archive.isPending && (
        <>
          <label htmlFor="archive-progress">
            Archiving {start} to {end}…
          </label>
          <progress id="archive-progress" />
        </>
      )}
      <ErrorNote error={archive.error} />
      {archive.data && (
        <p role="status">
          {archive.data.days.length === 0
            ? "No day to archive in that range."
            : `Archived ${archive.data.days.length} ${archive.data.days.length === 1 ? "day" : "days"}: ${archive.data.days.join(", ")}.`}
        </p>
      )}
      <ListTable
        query={days}
        empty="No day archived yet."
        caption="Days archived"
        head={["Day", "File", "Messages", "Archived"]}
        row={(d) => (
          <tr key={d.date}>
            <td>{d.date}</td>
            <td>{d.archive}</td>
            <td>{d.count}</td>
            <td>{when(d.archived_at)}</td>
          </tr>
        )}
      />
    </section>
  );
}
