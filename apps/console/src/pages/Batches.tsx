/**
 * Batches: message-sender's batch sends, newest first (GET /api/v1/outbound/batch/), each with its outbounds by
 * status and a progress bar, refreshed every few seconds; a batch's own progress polled until it is done.
 */
import { ListTable, Loaded, useApi, when } from "../ui.tsx";

interface BatchCounts {
  id: string;
  total: number;
  status_counts: Record<string, number>;
}

/** The statuses an outbound can still leave: on its way to its provider, or waiting for its report. */
const IN_FLIGHT = ["queued", "submitted"];

/** The batch's outbounds that have ended (delivered, failed, expired, cancelled). */
const ended = (b: BatchCounts): number =>
  Object.entries(b.status_counts)
    .filter(([status]) => !IN_FLIGHT.includes(status))
    .reduce((sum, [, n]) => sum + n, 0);

const isDone = (b: BatchCounts | undefined): boolean => b !== undefined && ended(b) >= b.total;

const POLL_MS = 1000;
/** The list is refreshed all along: new batches appear, and the progress of those sending moves. */
const LIST_POLL_MS = 3000;

function Counts({ batch, label }: { batch: BatchCounts; label: string }) {
  return (
    <ul aria-label={label}>
      {Object.entries(batch.status_counts).map(([status, n]) => (
        <li key={status}>
          <span className={`status status-${status}`}>{status}</span>: {n}
        </li>
      ))}
    </ul>
  );
}

export function BatchProgress({ batchId }: { batchId: string }) {
  const batch = useApi(
    ["batch", batchId],
    (c) => c.messageSender.GET("/api/v1/outbound/batch/{id}/", { params: { path: { id: batchId } } }),
    { refetchInterval: (query) => (isDone(query.state.data) ? false : POLL_MS) },
  );
  return (
    <section className="card stack" aria-labelledby="batch-progress-title">
      <h2 id="batch-progress-title">Batch {batchId}</h2>
      <Loaded query={batch}>
        {(b) => (
          <>
            <p className="muted">
              {b.channel}
              {b.test ? " (test)" : ""}, created {when(b.created_at)}
            </p>
            <label htmlFor="batch-progress">
              {ended(b)} of {b.total} messages ended
            </label>
            <progress id="batch-progress" max={Math.max(b.total, 1)} value={ended(b)} />
            <p role="status" className="status">
              {isDone(b) ? "Done" : "Sending…"}
            </p>
            <Counts batch={b} label="Messages by status" />
          </>
        )}
      </Loaded>
    </section>
  );
}

export function Batches({ batchId }: { batchId?: string }) {
  const batches = useApi(
    ["batches"],
    (c) => c.messageSender.GET("/api/v1/outbound/batch/", { params: { query: { limit: 20 } } }),
    { refetchInterval: LIST_POLL_MS },
  );
  return (
    <>
      <h1>Batches</h1>
      {batchId && <BatchProgress batchId={batchId} />}
      <section className="card stack" aria-labelledby="batches-title">
        <h2 id="batches-title">Recent batches</h2>
        <ListTable
          query={batches}
          empty="No batches yet."
          caption="Recent batches"
          head={["Batch", "Created", "Channel", "Progress", "By status"]}
          row={(b) => (
            <tr key={b.id}>
              <td>
                <a href={`#/batches/${b.id}`} aria-current={b.id === batchId ? "true" : undefined}>
                  {b.id.slice(0, 8)}
                </a>
              </td>
              <td>{when(b.created_at)}</td>
              <td>{b.channel}</td>
              <td>
                <progress
                  max={Math.max(b.total, 1)}
                  value={ended(b)}
                  aria-label={`Batch ${b.id.slice(0, 8)}: ${ended(b)} of ${b.total} ended`}
                />{" "}
                {ended(b)}/{b.total}
              </td>
              <td>
                <Counts batch={b} label={`Batch ${b.id.slice(0, 8)} by status`} />
              </td>
            </tr>
          )}
        />
      </section>
    </>
  );
}
